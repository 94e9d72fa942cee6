#!/usr/bin/env python3
"""Independent checks of Gloss exports (Protocol/10-export.md), run by Tests/GlossExportTests.

    check_exports.py --stix bundle.json --annotations annotations.jsonld

STIX: the official OASIS validator (stix2-validator, STIX 2.1), errors and warnings.
Annotations: JSON-LD expansion with pyld, the W3C context served from Tests/Fixtures/anno.jsonld
(http://www.w3.org/ns/anno.jsonld is not fetched: checks run offline).
Prints one JSON object with the findings; exits 1 if the STIX bundle is invalid or has warnings (other than the accepted ones below), or
the annotations do not expand to the expected shape.
"""
import argparse, json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
CONTEXT = os.path.join(HERE, "..", "Tests", "Fixtures", "anno.jsonld")
OA = "http://www.w3.org/ns/oa#"


# Best-practice warnings Gloss accepts by design (Protocol/10-export.md §2.4):
#   103 — ids are UUIDv5 (deterministic: exporting twice gives the same ids), not UUIDv4;
#   202 — a note is the source of a relationship (Gloss links connect facts and notes).
ACCEPTED_WARNINGS = ("{103}", "{202}")


def check_stix(path):
    from stix2validator import validate_file, ValidationOptions
    results = validate_file(path, ValidationOptions(version="2.1"))
    errors, warnings = [], []
    for r in results.object_results:
        errors += [f"{r.object_id}: {e}" for e in r.errors]
        warnings += [f"{r.object_id}: {w}" for w in r.warnings]
    if getattr(results, "fatal", None):
        errors.append(str(results.fatal))
    accepted = [w for w in warnings if any(c in w for c in ACCEPTED_WARNINGS)]
    others = [w for w in warnings if w not in accepted]
    return {"valid": bool(results.is_valid), "errors": errors, "warnings": others, "accepted_warnings": accepted}


def check_annotations(path):
    from pyld import jsonld
    with open(CONTEXT, encoding="utf-8") as f:
        context = json.load(f)

    def loader(url, options=None):
        if url.rstrip("/").split("://", 1)[-1] == "www.w3.org/ns/anno.jsonld":
            return {"contextUrl": None, "documentUrl": url, "document": context}
        raise RuntimeError(f"refusing to fetch {url} (offline check)")

    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    expanded = jsonld.expand(doc, {"documentLoader": loader})
    counts = {}

    def walk(node):
        if isinstance(node, dict):
            types = node.get("@type", []) if "@value" not in node else []
            for t in types if isinstance(types, list) else [types]:
                counts[t] = counts.get(t, 0) + 1
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(expanded)
    short = {k.replace(OA, "oa:").replace("http://www.w3.org/ns/activitystreams#", "as:").replace("http://xmlns.com/foaf/0.1/", "foaf:"): v
             for k, v in sorted(counts.items())}
    return {"types": short}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--stix")
    p.add_argument("--annotations")
    a = p.parse_args()
    out, ok = {}, True
    if a.stix:
        out["stix"] = check_stix(a.stix)
        ok = ok and out["stix"]["valid"] and not out["stix"]["warnings"]
    if a.annotations:
        try:
            out["annotations"] = check_annotations(a.annotations)
        except Exception as e:  # a JSON-LD error is a failed check, reported
            out["annotations"] = {"error": f"{type(e).__name__}: {e}"}
            ok = False
    print(json.dumps(out, indent=2, sort_keys=True))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
