#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (Fuzz/Corpus/<Target>/) from the golden vectors in
Protocol/vectors/ and the article fixtures. Run it again after the vectors change; the output is
deterministic and small (a few dozen files per target). Scripts/fuzz.sh copies these to a temporary
working corpus, so fuzzing never grows the committed one.

The payload target's input is one byte (event type index and schema, see FuzzHarness.payloadInput)
followed by the CBOR payload; the type order is DecodedPayload.known's names sorted, then one
unknown name.
"""
import hashlib
import json
import os
import shutil
import struct
import sys

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)
VECTORS = os.path.join(ROOT, "Protocol", "vectors")
CORPUS = os.path.join(FUZZ, "Corpus")

# Must match DecodedPayload.known (Sources/GlossModel/Payloads.swift), sorted, then the unknown one.
PAYLOAD_TYPES = sorted([
    "ArticleIngested", "ArticleRevised", "NoteAdded", "NoteEdited", "NoteDeleted", "ConflictResolved",
    "CandidatesExtracted", "TagAdded", "TagRemoved", "LinkAdded", "LinkRemoved", "FactAdded", "FactAmended",
    "FactRetracted", "SourceAdded", "SourceGraded", "FactGraded", "AnnotationAdded", "AnchorDecided",
]) + ["NotAGlossType"]


def load(name):
    with open(os.path.join(VECTORS, name), encoding="utf-8") as f:
        return json.load(f)


def slug(s):
    out = "".join(c if c.isalnum() else "-" for c in s.lower())
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")[:60]


class Writer:
    def __init__(self, target):
        self.dir = os.path.join(CORPUS, target)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.seen = set()

    def add(self, name, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        digest = hashlib.sha256(data).hexdigest()
        if digest in self.seen:
            return
        self.seen.add(digest)
        with open(os.path.join(self.dir, f"{slug(name)}-{digest[:8]}"), "wb") as f:
            f.write(data)


def envelopes():
    w = Writer("FuzzEnvelope")
    ev = load("events.json")
    for e in ev["events"]:
        w.add(e["name"], bytes.fromhex(e["envelope"]))
    for e in ev["invalid"]:
        w.add("invalid " + e["name"], bytes.fromhex(e["envelope"]))


def payloads():
    w = Writer("FuzzPayload")
    pv = load("payloads.json")

    def add(prefix, item, limit_per_type, counts):
        t, schema = item["type"], item["schema"]
        key = (prefix, t)
        if counts.get(key, 0) >= limit_per_type:
            return
        counts[key] = counts.get(key, 0) + 1
        if t not in PAYLOAD_TYPES:
            t = "NotAGlossType"
        if not 0 <= schema < 8:
            schema = 1
        head = PAYLOAD_TYPES.index(t) | ((schema ^ 1) << 5)
        w.add(f"{prefix} {item['name']}", bytes([head]) + bytes.fromhex(item["cbor"]))

    counts = {}
    for item in pv["valid"]:
        add("valid", item, 2, counts)
    for item in pv["invalid"]:
        add("invalid", item, 2, counts)
    for e in load("events.json")["events"]:
        t = e["type"] if e["type"] in PAYLOAD_TYPES else "NotAGlossType"
        head = PAYLOAD_TYPES.index(t) | (((e["schema"] ^ 1) & 7) << 5)
        w.add("event " + e["name"], bytes([head]) + bytes.fromhex(e["payload"]))


def bundles():
    w = Writer("FuzzBundle")
    with open(os.path.join(VECTORS, "bundle-basic.glossb"), "rb") as f:
        b = f.read()
    w.add("bundle-basic", b)
    # Header length: magic, format, team, sender, two vectors, event count, signature.
    off = 8 + 2 + 32 + 32
    for _ in range(2):
        (n,) = struct.unpack(">I", b[off:off + 4])
        off += 4 + 40 * n
    header_end = off + 8 + 64
    w.add("header only", b[:header_end])
    (env_len,) = struct.unpack(">I", b[header_end:header_end + 4])
    first_record_end = header_end + 4 + env_len
    (pay_len,) = struct.unpack(">I", b[first_record_end:first_record_end + 4])
    first_record_end += 4 + (0 if pay_len == 0xFFFFFFFF else pay_len)
    w.add("one record then cut", b[:first_record_end])
    w.add("cut inside the first envelope", b[:header_end + 4 + env_len // 2])
    # Format 2: fork evidence after the records (05 §Fork evidence).
    with open(os.path.join(VECTORS, "bundle-fork.glossb"), "rb") as f:
        w.add("bundle-fork", f.read())
    w.add("no trailer", b[:-48])
    w.add("trailer cut", b[:-20])
    w.add("empty", b"")
    w.add("magic only", b[:8])


def wire():
    w = Writer("FuzzWireFrame")
    for name, hexs in load("wire.json")["messages"].items():
        if name == "transcriptHash":
            continue
        w.add(name, bytes.fromhex(hexs))
    w.add("empty", b"")
    w.add("error empty reason", bytes([6, 0, 1, 0, 0]))
    w.add("ack empty vector", bytes([5, 0, 0, 0, 0]))
    w.add("batch empty", bytes([3, 0, 0, 0, 0]))


def vector_files():
    w = Writer("FuzzVectorFile")
    a, b = "3c" * 32, "24e8a92af62d781442a4ffa1dc2568450adfcc4f0c2ab29148c83d6f1fc91d4c"
    w.add("valid", json.dumps({"gloss": "version-vector", "format": 1, "replica": a, "vector": {a: 3, b: 2}}, indent=2) + "\n")
    w.add("valid empty", '{"gloss": "version-vector", "format": 1, "vector": {}}')
    w.add("valid uppercase id", json.dumps({"gloss": "version-vector", "format": 1, "vector": {b.upper(): 7}}))
    w.add("zero seq", json.dumps({"gloss": "version-vector", "format": 1, "vector": {a: 0}}))
    w.add("large seq", '{"gloss": "version-vector", "format": 1, "vector": {"%s": 9223372036854775807}}' % a)
    w.add("seq over int64", '{"gloss": "version-vector", "format": 1, "vector": {"%s": 18446744073709551615}}' % a)
    w.add("float seq", '{"gloss": "version-vector", "format": 1, "vector": {"%s": 1.5e300}}' % a)
    w.add("negative seq", '{"gloss": "version-vector", "format": 1, "vector": {"%s": -1}}' % a)
    w.add("string seq", '{"gloss": "version-vector", "format": 1, "vector": {"%s": "3"}}' % a)
    w.add("bad id", '{"gloss": "version-vector", "format": 1, "vector": {"abc": 3}}')
    w.add("format 2", '{"gloss": "version-vector", "format": 2, "vector": {}}')
    w.add("not an object", "[1, 2, 3]")
    w.add("nested", '{"gloss": "version-vector", "format": 1, "vector": {"%s": {"a": [true, null]}}}' % a)


def articles():
    w = Writer("FuzzArticle")
    for d in (os.path.join(ROOT, "Tests", "Fixtures"), os.path.join(ROOT, "..", "shared", "fixtures", "articles")):
        if os.path.isdir(d):
            for n in sorted(os.listdir(d)):
                if n.endswith(".txt"):
                    with open(os.path.join(d, n), "rb") as f:
                        w.add(n, f.read())
    w.add("dateline only", "date 2021-06-26 ISLAMABAD/BAKU – Short.")
    w.add("leap day", "date 2020-02-29 PARIS – Talks ended on Monday, 2 March 2020.\n")
    w.add("bad date", "date 2021-02-30 LONDON — Nothing.\n")
    w.add("quote", 'Minister Jane Doe said "We will meet again next month," on Tuesday.\n')
    w.add("countries", "Pakistan, Azerbaijan and Turkey met in Baku on 3 September 2021.\n")
    w.add("nfc", "Cafe\u0301 in Zu\u0308rich, 1 March.\n")
    w.add("whitespace", " \n\t\n")
    w.add("not utf8", b"date 2021-06-26 \xff\xfe X")
    w.add("people", "Defense Minister Zakir Hasanov said Saturday that Gen. Ali Khan would visit.\n")


if __name__ == "__main__":
    envelopes()
    payloads()
    bundles()
    wire()
    vector_files()
    articles()
    for t in sorted(os.listdir(CORPUS)):
        print(t, len(os.listdir(os.path.join(CORPUS, t))), file=sys.stderr)
