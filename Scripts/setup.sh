#!/usr/bin/env bash
# Installs what Gloss needs on a fresh Debian/Ubuntu machine with Swift 6: the SQLite headers and
# Python's `cryptography` for the independent protocol verifier; with --with-chromium (the tests) also
# Debian's `chromium` for the web view's browser test; with --with-postgres Debian's `postgresql` (the
# hub tests' throwaway cluster) when initdb is missing. Safe to run again.
set -euo pipefail

need_apt=()
dpkg -s libsqlite3-dev >/dev/null 2>&1 || need_apt+=(libsqlite3-dev)
command -v sqlite3 >/dev/null 2>&1 || need_apt+=(sqlite3)
# Headless Chromium for the web view's browser test (GlossWebTests.BrowserTests).
for arg in "$@"; do
  if [ "$arg" = "--with-chromium" ]; then
    command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
  fi
done
# PostgreSQL for the hub tests (Scripts/pg-cluster.sh makes a throwaway cluster): Debian's server
# package, when no initdb is found.
for arg in "$@"; do
  if [ "$arg" = "--with-postgres" ]; then
    if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
      need_apt+=(postgresql)
    fi
  fi
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! python3 -c "import cryptography" >/dev/null 2>&1; then
  echo "setup: installing the Python cryptography package"
  python3 -m pip install --quiet cryptography
fi

command -v swift >/dev/null 2>&1 || { echo "setup: swift is not on PATH; install Swift 6 (https://swift.org/install)" >&2; exit 1; }
