#!/usr/bin/env bash
# Creates .venv-stix (gitignored) with the official STIX 2.1 validator and a JSON-LD processor, used by
# Tests/GlossExportTests. Idempotent: an existing venv with both packages is left as it is.
#   Scripts/stix-venv.sh            # then: GLOSS_STIX_PYTHON=.venv-stix/bin/python swift test …
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${GLOSS_STIX_VENV:-.venv-stix}"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import stix2validator, pyld' 2>/dev/null; then
    echo "$VENV ready"; exit 0
fi
if ! python3 -m venv "$VENV" 2>/dev/null; then
    echo "python3 -m venv failed; installing python3-venv" >&2
    if command -v apt-get >/dev/null; then
        SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        $SUDO apt-get install -y python3-venv >&2
    fi
    rm -rf "$VENV"; python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet 'stix2-validator>=3.2' 'pyld>=2.0'
"$VENV/bin/python" -c 'import stix2validator, pyld; print("stix2-validator", stix2validator.__version__ if hasattr(stix2validator, "__version__") else "?")'
echo "$VENV ready"
