#!/usr/bin/env python3
"""Independent verifier for the Gloss event format (format 1).

Written from the Protocol documents only (Protocol/01-event.md, 02-payloads.md, 03-store.md),
never from the Swift sources, so that it can catch places where the implementation and the
specification disagree.

Usage:
    verify_protocol.py --vectors Protocol/vectors/events.json
    verify_protocol.py --db PATH/.gloss/replica.db

Exit status: 0 when every checked item passes, 1 when any fails, 2 on a usage error or an input
that cannot be read at all (missing file, not JSON, not a SQLite database, missing tables).
The output ends with the line `N passed, M failed`, where the items are the vectors (valid and
invalid) or the events of the database. A fault that belongs to no single item (a wrong
`signingContext`, a feed whose head names no stored event) is reported as one extra failed item.

Dependencies: Python 3.11 standard library and the `cryptography` package (Ed25519 only).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import re
import sqlite3
import sys
import unicodedata
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

# ---------------------------------------------------------------------------------------------
# Constants: 01-event.md §Layout, §Signature and §Limits
# ---------------------------------------------------------------------------------------------

SIGNING_CONTEXT = b"GLOSS-EVENT-V1"
ENVELOPE_FORMAT = 1
MAX_ENVELOPE = 4_194_304
MAX_DEPS = 100_000
MAX_PAYLOAD = 8_388_608
MAX_ARTICLE_TEXT = 4_194_304
MAX_NOTE_TEXT = 1_048_576
MAX_AUTHOR = 64
MAX_TYPE = 64
MAX_NESTING = 32
SIGNATURE_LEN = 64
MIN_ENVELOPE = 223  # 01 §Layout: "The smallest envelope ... = 223 bytes"
DEPS_OFFSET = 117  # 01 §Layout: "deps starts at byte 117"
ZERO32 = bytes(32)
TYPE_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
HEX_ID = re.compile(r"[0-9a-f]{64}")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ARTICLE_DOMAIN = b"gloss/article\x00"  # 02 §ArticleIngested: "gloss/article" ‖ 0x00
KNOWN_SCHEMA = 1  # 02 §Types (schema 1)

# The reasons a single event can fail, in the order of 01 §Verification of an event.
STRUCTURE, PAYLOAD_HASH, CHAIN, DEPS, SIGNATURE = "structure", "payload-hash", "chain", "deps", "signature"
ID, STORE = "id", "store"


def short(b: bytes) -> str:
    """A 12-digit hex prefix for messages (01 §Text forms accepts unique prefixes)."""
    return b.hex()[:12]


# ---------------------------------------------------------------------------------------------
# The envelope: 01-event.md §Layout
# ---------------------------------------------------------------------------------------------


class StructureError(ValueError):
    """The envelope breaks 01-event.md §Layout or §Limits (verification step 1)."""


@dataclass(frozen=True)
class Envelope:
    """A decoded envelope; `raw` keeps the exact bytes (01: 'nothing ever re-encodes it')."""

    raw: bytes
    format: int
    team: bytes
    replica: bytes
    seq: int
    prev: bytes
    time: int
    deps: tuple[tuple[bytes, int], ...]
    author: str
    type: str
    schema: int
    payload_len: int
    payload_hash: bytes
    signature: bytes


class _Reader:
    """A bounds-checked big-endian cursor (01 §Conventions: unsigned, big-endian, fixed widths)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int, what: str) -> bytes:
        if n > self.remaining():
            raise StructureError(f"{what}: needs {n} bytes at offset {self.pos}, {self.remaining()} left")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def uint(self, width: int, what: str) -> int:
        return int.from_bytes(self.take(width, what), "big")


def parse_envelope(raw: bytes) -> Envelope:
    """Decode an envelope byte by byte and enforce every rule of 01-event.md §Layout and §Limits.

    Fields 1-16 in order, each limit checked before the bytes it governs are read, and nothing may
    follow the signature. Raises StructureError naming the first broken rule.
    """
    if len(raw) > MAX_ENVELOPE:
        raise StructureError(f"envelope is {len(raw)} bytes, above the {MAX_ENVELOPE}-byte limit")
    if len(raw) < MIN_ENVELOPE:
        raise StructureError(f"envelope is {len(raw)} bytes, below the smallest possible {MIN_ENVELOPE}")
    r = _Reader(raw)
    fmt = r.uint(1, "format")
    if fmt != ENVELOPE_FORMAT:
        raise StructureError(f"unsupported format {fmt}")
    team = r.take(32, "team")
    replica = r.take(32, "replica")
    seq = r.uint(8, "seq")
    if seq == 0:
        raise StructureError("seq is 0")
    prev = r.take(32, "prev")
    if (seq == 1) != (prev == ZERO32):
        raise StructureError(f"prev must be all zero if and only if seq = 1 (seq {seq}, prev {short(prev)})")
    time = r.uint(8, "time")
    deps_count = r.uint(4, "deps_count")
    if r.pos != DEPS_OFFSET:  # cannot happen: a check that the widths above follow 01 §Layout
        raise AssertionError(f"deps would start at byte {r.pos}, not {DEPS_OFFSET}")
    if deps_count > MAX_DEPS:
        raise StructureError(f"deps_count {deps_count} above the limit of {MAX_DEPS}")
    if deps_count * 40 > r.remaining():
        raise StructureError(f"deps_count {deps_count} needs {deps_count * 40} bytes, {r.remaining()} left")
    deps = []
    for i in range(deps_count):
        dep_replica = r.take(32, f"deps[{i}].replica")
        dep_seq = r.uint(8, f"deps[{i}].seq")
        if dep_replica == replica:
            raise StructureError(f"deps[{i}] names the event's own replica")
        if deps and dep_replica <= deps[-1][0]:
            raise StructureError(f"deps[{i}] not strictly ascending by replica")
        if dep_seq < 1:
            raise StructureError(f"deps[{i}].seq is 0")
        deps.append((dep_replica, dep_seq))
    author_len = r.uint(1, "author_len")
    if not 1 <= author_len <= MAX_AUTHOR:
        raise StructureError(f"author_len {author_len} outside 1-{MAX_AUTHOR}")
    try:
        author = r.take(author_len, "author").decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise StructureError(f"author is not valid UTF-8 ({exc.reason})") from None
    type_len = r.uint(1, "type_len")
    if not 1 <= type_len <= MAX_TYPE:
        raise StructureError(f"type_len {type_len} outside 1-{MAX_TYPE}")
    type_bytes = r.take(type_len, "type")
    if not set(type_bytes) <= TYPE_ALPHABET:
        raise StructureError(f"type {type_bytes!r} has a byte outside [A-Za-z0-9._-]")
    schema = r.uint(2, "schema")
    payload_len = r.uint(4, "payload_len")
    if payload_len > MAX_PAYLOAD:
        raise StructureError(f"payload_len {payload_len} above the limit of {MAX_PAYLOAD}")
    payload_hash = r.take(32, "payload_hash")
    signature = r.take(SIGNATURE_LEN, "signature")
    if r.remaining():
        raise StructureError(f"{r.remaining()} byte(s) after the signature")
    return Envelope(raw, fmt, team, replica, seq, prev, time, tuple(deps), author,
                    type_bytes.decode("ascii"), schema, payload_len, payload_hash, signature)


def event_id(raw: bytes) -> bytes:
    """01 §Id: id = SHA-256 over all envelope bytes, signature included."""
    return hashlib.sha256(raw).digest()


# ---------------------------------------------------------------------------------------------
# Payload commitment and signature: 01 §Verification steps 2 and 5, §Signature
# ---------------------------------------------------------------------------------------------


def payload_fault(env: Envelope, payload: Optional[bytes]) -> Optional[str]:
    """01 §Verification step 2: payload_len and payload_hash match the payload (None = purged)."""
    if payload is None:
        return None
    if len(payload) != env.payload_len:
        return f"payload is {len(payload)} bytes, envelope says {env.payload_len}"
    actual = hashlib.sha256(payload).digest()
    if actual != env.payload_hash:
        return f"payload hashes to {short(actual)}, envelope says {short(env.payload_hash)}"
    return None


def signature_fault(env: Envelope, key: Optional[bytes] = None) -> Optional[str]:
    """01 §Signature: Ed25519 over "GLOSS-EVENT-V1" ‖ envelope[0 .. len-64], key = `replica`."""
    key = env.replica if key is None else key
    message = SIGNING_CONTEXT + env.raw[:-SIGNATURE_LEN]
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(env.signature, message)
    except (InvalidSignature, ValueError) as exc:
        return f"signature does not verify under replica {short(key)} ({type(exc).__name__})"
    return None


def public_key_of_seed(seed: bytes) -> bytes:
    """01 §Layout field 3 / 03 §The folder: the replica id is the Ed25519 public key of the seed."""
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


# ---------------------------------------------------------------------------------------------
# Feeds: 01 §Verification steps 3 and 4, §Deps
# ---------------------------------------------------------------------------------------------


@dataclass
class FeedState:
    """A receiver's head of one feed and the running accumulation of its deps (01 §Deps)."""

    head_seq: int = 0
    head_id: bytes = ZERO32
    head_time: Optional[int] = None
    full_deps: dict[bytes, int] = field(default_factory=dict)


def chain_fault(env: Envelope, feed: FeedState) -> Optional[str]:
    """01 §Verification step 3: seq is head + 1 and prev is the head's id (zero for seq 1)."""
    if env.seq != feed.head_seq + 1:
        return f"seq {env.seq} does not follow the feed head {feed.head_seq}"
    if env.prev != feed.head_id:
        return f"prev {short(env.prev)} is not the id of seq {feed.head_seq} ({short(feed.head_id)})"
    return None


def deps_growth_faults(env: Envelope, feed: FeedState) -> list[str]:
    """01 §Deps: every entry must be greater than the value the feed's accumulation held before it."""
    faults = []
    for dep_replica, dep_seq in env.deps:
        before = feed.full_deps.get(dep_replica, 0)
        if dep_seq <= before:
            faults.append(f"deps entry {short(dep_replica)}:{dep_seq} did not grow (accumulated {before})")
    return faults


def full_deps_after(env: Envelope, feed: FeedState) -> dict[bytes, int]:
    """01 §Deps: the full deps = pointwise maximum of the deps of events 1 … seq of the feed."""
    acc = dict(feed.full_deps)
    for dep_replica, dep_seq in env.deps:
        acc[dep_replica] = max(acc.get(dep_replica, 0), dep_seq)
    return acc


def advance_feed(feed: FeedState, seq: int, eid: bytes, env: Optional[Envelope]) -> None:
    """Move the head past an event (whether or not it verified, so later events are still checked)."""
    if env is not None:
        feed.full_deps = full_deps_after(env, feed)
        feed.head_time = env.time
    feed.head_seq = seq
    feed.head_id = eid


def time_note(env: Envelope, feed: FeedState) -> Optional[str]:
    """01 §Time: times strictly increase along a feed. Validity never depends on time: a note only."""
    if feed.head_time is not None and env.time <= feed.head_time:
        return f"time {env.time} does not increase over the previous event's {feed.head_time} (not a fault, 01 §Time)"
    return None


@dataclass(frozen=True)
class EventInfo:
    """What 01 §Deps needs to decide happened-before, kept for every checked event."""

    replica: bytes
    seq: int
    type: str
    full_deps: dict[bytes, int]


def happened_before(a: EventInfo, b: EventInfo) -> bool:
    """01 §Deps: a → b iff same replica and a.seq < b.seq, or fullDeps(b)[a.replica] ≥ a.seq."""
    if a.replica == b.replica:
        return a.seq < b.seq
    return b.full_deps.get(a.replica, 0) >= a.seq


# ---------------------------------------------------------------------------------------------
# Deterministic CBOR subset: 02-payloads.md (RFC 8949 §4.2.1)
# ---------------------------------------------------------------------------------------------


class CborError(ValueError):
    """The payload is not one value of 02's CBOR subset: the event is not understood."""


class _CborDecoder:
    """Strict decoder for 02's subset: ints (64-bit signed range), bytes, text, arrays, text-keyed
    maps, false/true/null; shortest-form heads and definite lengths only; no floats or tags.
    Lenient about map key order (recorded in `unsorted_maps`), as 02 requires."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.unsorted_maps = 0

    def _byte(self) -> int:
        if self.pos >= len(self.data):
            raise CborError("truncated")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def _take(self, n: int) -> bytes:
        if n > len(self.data) - self.pos:
            raise CborError(f"length {n} exceeds the {len(self.data) - self.pos} bytes left")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def _argument(self, info: int) -> int:
        """The head's argument, rejecting non-shortest forms and indefinite lengths (RFC 8949 §4.2.1)."""
        if info < 24:
            return info
        widths = {24: 1, 25: 2, 26: 4, 27: 8}
        if info not in widths:
            raise CborError(f"additional information {info} (indefinite length or reserved) not allowed")
        value = int.from_bytes(self._take(widths[info]), "big")
        minimum = {24: 24, 25: 0x100, 26: 0x10000, 27: 0x1_0000_0000}[info]
        if value < minimum:
            raise CborError(f"head for {value} is not in shortest form")
        return value

    def item(self, depth: int) -> Any:
        """Decode one item; `depth` is the nesting level of containers (top-level value = 1)."""
        start = self.pos
        initial = self._byte()
        major, info = initial >> 5, initial & 0x1F
        if major == 7:
            simple = {20: False, 21: True, 22: None}
            if info not in simple:
                raise CborError(f"major type 7 value {info} (float, undefined or other simple) not allowed")
            return simple[info]
        if major == 6:
            raise CborError("tags not allowed")
        arg = self._argument(info)
        if major == 0:
            if arg > 2**63 - 1:
                raise CborError("unsigned integer outside the 64-bit signed range")
            return arg
        if major == 1:
            if arg > 2**63 - 1:
                raise CborError("negative integer outside the 64-bit signed range")
            return -1 - arg
        if major == 2:
            return self._take(arg)
        if major == 3:
            try:
                return self._take(arg).decode("utf-8", errors="strict")
            except UnicodeDecodeError:
                raise CborError(f"text at offset {start} is not valid UTF-8") from None
        if depth > MAX_NESTING:
            raise CborError(f"nesting deeper than {MAX_NESTING} levels")
        remaining = len(self.data) - self.pos
        if major == 4:
            if arg > remaining:
                raise CborError(f"array of {arg} items exceeds the {remaining} bytes left")
            return [self.item(depth + 1) for _ in range(arg)]
        # major == 5
        if arg > remaining // 2:
            raise CborError(f"map of {arg} pairs exceeds the {remaining} bytes left")
        result: dict[str, Any] = {}
        previous_key: Optional[bytes] = None
        for _ in range(arg):
            key_start = self.pos
            if self.pos < len(self.data) and self.data[self.pos] >> 5 != 3:
                raise CborError("map key is not a text string")
            key = self.item(depth + 1)
            encoded_key = self.data[key_start : self.pos]
            if key in result:
                raise CborError(f"duplicate map key {key!r}")
            if previous_key is not None and encoded_key <= previous_key:
                self.unsorted_maps += 1
            previous_key = encoded_key
            result[key] = self.item(depth + 1)
        return result


def decode_payload(payload: bytes) -> tuple[dict[str, Any], int]:
    """02 §(intro): a payload is exactly one CBOR value, a text-keyed map, at most 8,388,608 bytes.

    Returns the map and the number of maps whose keys were not in deterministic order."""
    if len(payload) > MAX_PAYLOAD:
        raise CborError(f"payload above {MAX_PAYLOAD} bytes")
    decoder = _CborDecoder(payload)
    value = decoder.item(1)
    if decoder.pos != len(payload):
        raise CborError(f"{len(payload) - decoder.pos} byte(s) after the CBOR value")
    if not isinstance(value, dict):
        raise CborError("payload is not a map")
    return value, decoder.unsorted_maps


# ---------------------------------------------------------------------------------------------
# Payload types: 02-payloads.md §Types (schema 1)
# ---------------------------------------------------------------------------------------------


class NotUnderstood(ValueError):
    """02: a payload that does not decode or breaks its type's rules makes the event not understood."""


def _field(m: dict[str, Any], key: str, kind: type, optional: bool = False) -> Any:
    """Fetch `key` from a payload map with the type 02 gives it."""
    if key not in m:
        if optional:
            return None
        raise NotUnderstood(f"missing `{key}`")
    value = m[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise NotUnderstood(f"`{key}` is not {kind.__name__}")
    return value


def _hex_id(m: dict[str, Any], key: str) -> str:
    """02: 'Ids inside payloads are text: 64 lowercase hex digits.'"""
    value = _field(m, key, str)
    if not HEX_ID.fullmatch(value):
        raise NotUnderstood(f"`{key}` is not 64 lowercase hex digits")
    return value


def _bounded_text(m: dict[str, Any], key: str, limit: int) -> str:
    """A text field with a byte limit from 01 §Limits."""
    value = _field(m, key, str)
    if len(value.encode("utf-8")) > limit:
        raise NotUnderstood(f"`{key}` is above {limit} bytes")
    return value


def article_id_for_revision(revision_sha256: bytes) -> bytes:
    """02 §ArticleIngested: article id = SHA-256("gloss/article" ‖ 0x00 ‖ revision SHA-256 bytes)."""
    return hashlib.sha256(ARTICLE_DOMAIN + revision_sha256).digest()


def check_article_ingested(m: dict[str, Any]) -> list[str]:
    """02 §ArticleIngested: key types, NFC text within the limit, sha256 = SHA-256(text) and the
    article id derived from it. Raises NotUnderstood when one of those breaks.

    The table's 'meaning' column (date shape, places = dateline split on '/', filename without
    folders) is not stated as a validity rule, so breaking it only yields notes, which are returned."""
    notes = []
    text = _bounded_text(m, "text", MAX_ARTICLE_TEXT)
    if not unicodedata.is_normalized("NFC", text):
        raise NotUnderstood("`text` is not in Unicode NFC")
    revision = _hex_id(m, "sha256")
    article = _hex_id(m, "article")
    actual_revision = hashlib.sha256(text.encode("utf-8")).digest()
    if revision != actual_revision.hex():
        raise NotUnderstood(f"`sha256` {revision[:12]} is not SHA-256(text) {short(actual_revision)}")
    expected_article = article_id_for_revision(actual_revision)
    if article != expected_article.hex():
        raise NotUnderstood(f"`article` {article[:12]} is not the id derived from sha256 ({short(expected_article)})")
    date = _field(m, "date", str, optional=True)
    if date is not None and not _is_calendar_date(date):
        notes.append(f"`date` {date!r} is not a YYYY-MM-DD date (02 §ArticleIngested, meaning column)")
    dateline = _field(m, "dateline", str, optional=True)
    places = _field(m, "places", list)
    if not all(isinstance(p, str) for p in places):
        raise NotUnderstood("`places` is not an array of text")
    if dateline is not None and places != dateline.split("/"):
        notes.append(f"`places` {places} is not `dateline` {dateline!r} split on '/' (02 §ArticleIngested)")
    if dateline is None and places:
        notes.append("`places` is non-empty but there is no `dateline`")
    filename = _field(m, "filename", str, optional=True)
    if filename is not None and "/" in filename:
        notes.append(f"`filename` {filename!r} has folders (02 §ArticleIngested: 'no folders')")
    return notes


def _is_calendar_date(value: str) -> bool:
    """02 §ArticleIngested `date`: `YYYY-MM-DD`."""
    try:
        return bool(ISO_DATE.fullmatch(value)) and datetime.date.fromisoformat(value) is not None
    except ValueError:
        return False


def check_note_target(m: dict[str, Any], event: EventInfo, lookup: Callable[[str], Optional[EventInfo]]) -> None:
    """02 §NoteEdited/§NoteDeleted: valid only if the note's NoteAdded happened before this event."""
    note = _hex_id(m, "note")
    added = lookup(note)
    if added is None:
        raise NotUnderstood(f"note {note[:12]} is not an event held here")
    if added.type != "NoteAdded":
        raise NotUnderstood(f"note {note[:12]} is a {added.type}, not a NoteAdded")
    if not happened_before(added, event):
        raise NotUnderstood(f"the NoteAdded {note[:12]} did not happen before this event")


def understand_payload(env: Envelope, payload: bytes, event: EventInfo,
                       lookup: Callable[[str], Optional[EventInfo]]) -> tuple[Optional[str], list[str]]:
    """02: decide whether an event is understood. Returns (reason it is not understood or None, notes).

    Unknown types and schemas newer than 1 are not understood; so is a payload that does not
    decode or breaks its type's rules. None of this is a fault of the log (02: 'never blocks its feed').
    """
    notes: list[str] = []
    try:
        m, unsorted = decode_payload(payload)
    except CborError as exc:
        return f"payload does not decode as CBOR: {exc}", notes
    if unsorted:
        notes.append(f"{unsorted} map(s) with keys not in deterministic order (accepted: 02 is lenient)")
    known = {"ArticleIngested", "NoteAdded", "NoteEdited", "NoteDeleted"}
    if env.type not in known:
        return f"unknown type {env.type} (schema {env.schema})", notes
    if env.schema > KNOWN_SCHEMA:
        return f"schema {env.schema} of {env.type} is newer than {KNOWN_SCHEMA}", notes
    if env.schema < KNOWN_SCHEMA:
        return f"schema {env.schema} of {env.type} is not defined", notes
    try:
        if env.type == "ArticleIngested":
            notes += check_article_ingested(m)
        elif env.type == "NoteAdded":
            _hex_id(m, "on")
            _bounded_text(m, "body", MAX_NOTE_TEXT)
        elif env.type == "NoteEdited":
            check_note_target(m, event, lookup)
            _bounded_text(m, "body", MAX_NOTE_TEXT)
        else:  # NoteDeleted
            check_note_target(m, event, lookup)
    except NotUnderstood as exc:
        return f"{env.type}: {exc}", notes
    return None, notes


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------


@dataclass
class Item:
    """One checked item (a vector or a stored event) with its faults in verification order."""

    label: str
    faults: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def fail(self, kind: str, message: str) -> None:
        self.faults.append(f"[{kind}] {message}")

    @property
    def ok(self) -> bool:
        return not self.faults


def print_report(title: str, items: list[Item]) -> int:
    """Print each item, then a summary ending in `N passed, M failed`; return the exit status."""
    print(title)
    for item in items:
        print(f"{'PASS' if item.ok else 'FAIL'}  {item.label}")
        for fault in item.faults:
            print(f"        fault: {fault}")
        for note in item.notes:
            print(f"        note:  {note}")
    passed = sum(item.ok for item in items)
    failed = len(items) - passed
    print()
    if failed:
        print("FAILED items:")
        for item in items:
            if not item.ok:
                print(f"  {item.label}: {item.faults[0]}")
    else:
        print("All checks passed.")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


# ---------------------------------------------------------------------------------------------
# --vectors: 01 §Golden vectors
# ---------------------------------------------------------------------------------------------


class InputError(Exception):
    """The input cannot be read at all (exit status 2)."""


def first_failure(envelope: bytes, payload: Optional[bytes]) -> tuple[Optional[str], str]:
    """01 §Verification of an event for a lone event: step 1 (structure), 2 (payload), 5 (signature).

    Steps 3-4 need a feed context and do not apply to a tampered vector on its own.
    Returns (reason, detail) of the first failure, or (None, "") when all three pass."""
    try:
        env = parse_envelope(envelope)
    except StructureError as exc:
        return STRUCTURE, str(exc)
    problem = payload_fault(env, payload)
    if problem:
        return PAYLOAD_HASH, problem
    problem = signature_fault(env)
    if problem:
        return SIGNATURE, problem
    return None, ""


def _hex(entry: dict[str, Any], key: str, length: Optional[int] = None) -> bytes:
    """A hex field of a vector entry."""
    try:
        value = bytes.fromhex(entry[key])
    except (KeyError, TypeError, ValueError):
        raise InputError(f"vector {entry.get('name', '?')!r}: `{key}` missing or not hex") from None
    if length is not None and len(value) != length:
        raise InputError(f"vector {entry.get('name', '?')!r}: `{key}` is not {length} bytes")
    return value


def compare_stated_fields(item: Item, entry: dict[str, Any], env: Envelope, eid: bytes) -> None:
    """01 §Golden vectors: the decoded fields must equal the ones the vector states."""
    stated_deps = [[bytes.fromhex(r), s] for r, s in entry.get("deps", [])]
    checks = [
        ("id", entry.get("id"), eid.hex()),
        ("replica", entry.get("replica"), env.replica.hex()),
        ("seq", entry.get("seq"), env.seq),
        ("prev", entry.get("prev"), env.prev.hex()),
        ("time", entry.get("time"), env.time),
        ("deps", stated_deps, [[r, s] for r, s in env.deps]),
        ("author", entry.get("author"), env.author),
        ("type", entry.get("type"), env.type),
        ("schema", entry.get("schema"), env.schema),
        ("payloadHash", entry.get("payloadHash"), env.payload_hash.hex()),
    ]
    for name, stated, decoded in checks:
        if stated != decoded:
            item.fail("vector" if name != "id" else ID, f"stated {name} {stated!r} but the envelope gives {decoded!r}")


def verify_valid_vector(entry: dict[str, Any], feeds: dict[bytes, FeedState],
                        index: dict[str, EventInfo]) -> tuple[Item, Optional[tuple[Envelope, bytes, EventInfo]]]:
    """01 §Golden vectors `events`: every check of 01 §Verification passes, the stated fields match,
    the seed yields the replica and the events of one replica chain by prev/seq."""
    item = Item(f"event   {entry.get('name', '?')}")
    envelope, payload = _hex(entry, "envelope"), _hex(entry, "payload")
    seed = _hex(entry, "seed", 32)
    try:
        env = parse_envelope(envelope)
    except StructureError as exc:
        item.fail(STRUCTURE, str(exc))
        return item, None
    eid = event_id(envelope)
    item.label += f"  (id {short(eid)}, {env.type} seq {env.seq})"
    compare_stated_fields(item, entry, env, eid)
    if public_key_of_seed(seed) != env.replica:
        item.fail(SIGNATURE, f"seed gives public key {short(public_key_of_seed(seed))}, not replica {short(env.replica)}")
    problem = payload_fault(env, payload)
    if problem:
        item.fail(PAYLOAD_HASH, problem)
    feed = feeds.setdefault(env.replica, FeedState())
    problem = chain_fault(env, feed)
    if problem:
        item.fail(CHAIN, problem)
    for problem in deps_growth_faults(env, feed):
        item.fail(DEPS, problem)
    for dep_replica, dep_seq in env.deps:
        if feeds.get(dep_replica, FeedState()).head_seq < dep_seq:
            item.notes.append(f"deps entry {short(dep_replica)}:{dep_seq} is not among the earlier vectors")
    problem = signature_fault(env)
    if problem:
        item.fail(SIGNATURE, problem)
    note = time_note(env, feed)
    if note:
        item.notes.append(note)
    info = EventInfo(env.replica, env.seq, env.type, full_deps_after(env, feed))
    advance_feed(feed, env.seq, eid, env)
    index[eid.hex()] = info
    return item, (env, payload, info)


def verify_invalid_vector(entry: dict[str, Any]) -> Item:
    """01 §Golden vectors `invalid`: the variant must fail, first for the stated reason.

    `structure`: the envelope does not parse. `payload-hash`: it parses, the signature verifies,
    the payload does not match. `signature`: it parses, the payload matches (step 2 precedes step 5),
    the signature fails under the envelope's replica. `id`: it parses and SHA-256(envelope) is not
    the stated `expectedId`."""
    reason = entry.get("reason")
    item = Item(f"invalid {entry.get('name', '?')}  (expect {reason})")
    envelope, payload = _hex(entry, "envelope"), _hex(entry, "payload")
    if reason == ID:
        expected = _hex(entry, "expectedId", 32)
        try:
            parse_envelope(envelope)
        except StructureError as exc:
            item.fail(ID, f"expected an id mismatch but the envelope does not parse: {exc}")
            return item
        if event_id(envelope) == expected:
            item.fail(ID, "SHA-256(envelope) equals expectedId: the tampering was not detected")
        return item
    if reason not in (STRUCTURE, PAYLOAD_HASH, SIGNATURE):
        item.fail(STRUCTURE, f"unknown reason {reason!r} in the vectors file")
        return item
    actual, detail = first_failure(envelope, payload)
    if actual is None:
        item.fail(reason, "the variant passes every check: tampering not detected")
        return item
    if actual != reason:
        item.fail(actual, f"fails for `{actual}` ({detail}), not for the stated `{reason}`")
        return item
    item.notes.append(f"detected: {detail}")
    env = parse_envelope(envelope) if actual != STRUCTURE else None
    if reason == PAYLOAD_HASH and env is not None and signature_fault(env):
        item.fail(SIGNATURE, "payload-hash vector whose signature does not verify either")
    stated_replica = entry.get("replica")
    if env is not None and stated_replica is not None and stated_replica != env.replica.hex():
        item.notes.append(f"stated replica {stated_replica[:12]} differs from the envelope's {short(env.replica)}")
    return item


MALFORMED = (InputError, KeyError, TypeError, ValueError, AttributeError)


def malformed_vector(kind: str, number: int, entry: Any, exc: Exception) -> Item:
    """A vector entry that does not have the shape 01 §Golden vectors gives it: a failed item."""
    name = entry.get("name", f"#{number}") if isinstance(entry, dict) else f"#{number}"
    item = Item(f"{kind} {name}")
    item.fail("vector", f"malformed vector entry: {type(exc).__name__}: {exc}")
    return item


def verify_vectors(path: Path) -> int:
    """--vectors: check Protocol/vectors/events.json as 01 §Golden vectors describes it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        events, invalid = data["events"], data["invalid"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"cannot read vectors {path}: {exc}") from None
    items: list[Item] = []
    if data.get("signingContext") != SIGNING_CONTEXT.decode("ascii"):
        bad = Item("file    signingContext")
        bad.fail(SIGNATURE, f"signingContext {data.get('signingContext')!r} is not {SIGNING_CONTEXT.decode()!r}")
        items.append(bad)
    feeds: dict[bytes, FeedState] = {}
    index: dict[str, EventInfo] = {}
    decoded: list[tuple[Item, Envelope, bytes, EventInfo]] = []
    for number, entry in enumerate(events):
        try:
            item, result = verify_valid_vector(entry, feeds, index)
        except MALFORMED as exc:
            item, result = malformed_vector("event  ", number, entry, exc), None
        items.append(item)
        if result:
            decoded.append((item, *result))
    # 02: payloads, once every event is indexed (NoteEdited/NoteDeleted look their note up).
    for item, env, payload, info in decoded:
        reason, notes = understand_payload(env, payload, info, index.get)
        item.notes += notes
        if reason is None:
            item.notes.append("payload understood (02)")
        elif env.type in ("ArticleIngested", "NoteAdded", "NoteEdited", "NoteDeleted") and env.schema == KNOWN_SCHEMA:
            item.fail("payload", f"golden vector of a known type is not understood: {reason}")
        else:
            item.notes.append(f"payload not understood, as allowed (02): {reason}")
    for number, entry in enumerate(invalid):
        try:
            items.append(verify_invalid_vector(entry))
        except MALFORMED as exc:
            items.append(malformed_vector("invalid", number, entry, exc))
    return print_report(f"Gloss protocol vectors: {path} ({len(events)} events, {len(invalid)} invalid)", items)


# ---------------------------------------------------------------------------------------------
# --db: 03-store.md §Log tables and §Writing
# ---------------------------------------------------------------------------------------------


@dataclass
class StoredEvent:
    """One row of `events` joined with `feeds.replica` (03 §Log tables)."""

    pos: int
    id: bytes
    feed: int
    seq: int
    time: int
    type: str
    author: str
    envelope: bytes
    payload: Optional[bytes]
    feed_replica: Optional[bytes]
    storage_types: str  # typeof() of id, envelope, payload, feeds.replica


def open_readonly(path: Path) -> sqlite3.Connection:
    """Open the replica database read-only (never writes, never creates)."""
    if not path.is_file():
        raise InputError(f"no database at {path}")
    try:
        conn = sqlite3.connect(f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro", uri=True)
        conn.text_factory = lambda b: b.decode("utf-8", errors="surrogateescape")  # bad text is reported, not fatal
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        raise InputError(f"cannot open {path} read-only: {exc}") from None
    return conn


def read_log(conn: sqlite3.Connection) -> tuple[list[StoredEvent], dict[int, tuple], dict[tuple[int, int], dict[int, int]], Optional[set[str]]]:
    """Read `events` ordered by feed, seq with feeds.replica, the `feeds` rows, the `event_deps`
    rows per (feed, seq), and the ids listed in `events_not_understood` if that table exists."""
    try:
        rows = conn.execute(
            "SELECT e.pos, CAST(e.id AS BLOB), e.feed, e.seq, e.time, e.type, e.author, CAST(e.envelope AS BLOB), "
            "CAST(e.payload AS BLOB), CAST(f.replica AS BLOB), "
            "typeof(e.id) || ',' || typeof(e.envelope) || ',' || typeof(e.payload) || ',' || typeof(f.replica) "
            "FROM events e LEFT JOIN feeds f ON f.feed = e.feed ORDER BY e.feed, e.seq"
        ).fetchall()
        feeds = {r[0]: r for r in conn.execute("SELECT feed, replica, head_seq, head_id FROM feeds")}
        deps: dict[tuple[int, int], dict[int, int]] = {}
        for feed, seq, dep_feed, dep_seq in conn.execute("SELECT feed, seq, dep_feed, dep_seq FROM event_deps"):
            deps.setdefault((feed, seq), {})[dep_feed] = dep_seq
    except sqlite3.Error as exc:
        raise InputError(f"cannot read the log tables: {exc}") from None
    try:
        not_understood = {str(r[0]).lower() for r in conn.execute("SELECT event FROM events_not_understood")}
    except sqlite3.Error:
        not_understood = None
    return [StoredEvent(*r) for r in rows], feeds, deps, not_understood


def check_row_columns(item: Item, row: StoredEvent, env: Envelope) -> None:
    """03 §Log tables: the row's seq, time (signed 64-bit view), type and author are the envelope's."""
    signed_time = env.time - 2**64 if env.time >= 2**63 else env.time
    for name, column, decoded in (("seq", row.seq, env.seq), ("time", row.time, signed_time),
                                  ("type", row.type, env.type), ("author", row.author, env.author)):
        if column != decoded:
            item.fail(STORE, f"events.{name} is {column!r} but the envelope has {decoded!r}")


def check_stored_deps(item: Item, row: StoredEvent, env: Envelope, feed_of: dict[bytes, int],
                      stored: dict[tuple[int, int], dict[int, int]], pos_of: dict[tuple[int, int], int]) -> None:
    """03 §Log tables `event_deps` holds the deps entries as signed; 01 §Deps causal delivery: the
    feed predecessor and every event the deps name were applied (smaller `pos`) before this one."""
    expected: dict[int, int] = {}
    for dep_replica, dep_seq in env.deps:
        dep_feed = feed_of.get(dep_replica)
        if dep_feed is None:
            item.fail(DEPS, f"deps entry {short(dep_replica)}:{dep_seq} names a replica with no feeds row")
            continue
        expected[dep_feed] = dep_seq
        dep_pos = pos_of.get((dep_feed, dep_seq))
        if dep_pos is None:
            item.fail(DEPS, f"deps entry {short(dep_replica)}:{dep_seq} names an event that is not stored")
        elif dep_pos >= row.pos:
            item.fail(DEPS, f"deps entry {short(dep_replica)}:{dep_seq} was applied after this event (pos {dep_pos} ≥ {row.pos})")
    actual = stored.get((row.feed, row.seq), {})
    if actual != expected:
        item.fail(STORE, f"event_deps rows {actual} differ from the envelope's deps {expected} (by feed number)")
    if row.seq > 1:
        prev_pos = pos_of.get((row.feed, row.seq - 1))
        if prev_pos is not None and prev_pos >= row.pos:
            item.fail(CHAIN, f"feed predecessor was applied after this event (pos {prev_pos} ≥ {row.pos})")


def verify_stored_event(row: StoredEvent, feed: FeedState, ctx: dict[str, Any]) -> tuple[Item, Optional[Envelope], bytes]:
    """03 §Writing, for one row: id, structure, seq continuity, prev chain, payload hash (unless
    NULL), signature, and the envelope's replica equal to feeds.replica; plus the row's columns,
    its event_deps and 01 §Deps growth."""
    computed = event_id(row.envelope)
    item = Item(f"event   feed {row.feed} seq {row.seq}  (id {short(computed)}, {row.type}, pos {row.pos})")
    expected_types = ("blob", "blob", ("blob", "null"), ("blob", "null"))
    for column, actual, allowed in zip(("events.id", "events.envelope", "events.payload", "feeds.replica"),
                                       row.storage_types.split(","), expected_types):
        if actual not in allowed:
            item.fail(STORE, f"{column} is stored as {actual}, not as a blob")
    if row.id != computed:
        item.fail(ID, f"events.id {short(bytes(row.id or b''))} is not SHA-256(envelope) {short(computed)}")
    expected_seq = feed.head_seq + 1
    if row.seq != expected_seq:
        item.fail(CHAIN, f"feed seq runs {feed.head_seq} → {row.seq}, expected {expected_seq}")
    try:
        env = parse_envelope(row.envelope)
    except StructureError as exc:
        item.fail(STRUCTURE, str(exc))
        return item, None, computed
    if row.feed_replica is None:
        item.fail(STORE, f"no feeds row for feed {row.feed}")
    elif env.replica != row.feed_replica:
        item.fail(STORE, f"envelope replica {short(env.replica)} is not feeds.replica {short(row.feed_replica)}")
    check_row_columns(item, row, env)
    problem = payload_fault(env, row.payload)
    if problem:
        item.fail(PAYLOAD_HASH, problem)
    if row.payload is None:
        item.notes.append("payload purged (NULL): hash not checked")
    if env.seq == expected_seq:  # otherwise the seq fault above already says it
        problem = chain_fault(env, feed)
        if problem:
            item.fail(CHAIN, problem)
    for problem in deps_growth_faults(env, feed):
        item.fail(DEPS, problem)
    check_stored_deps(item, row, env, ctx["feed_of"], ctx["stored_deps"], ctx["pos_of"])
    problem = signature_fault(env)
    if problem:
        item.fail(SIGNATURE, problem)
    note = time_note(env, feed)
    if note:
        item.notes.append(note)
    return item, env, computed


def check_feed_heads(items_by_feed: dict[int, list[tuple[Item, StoredEvent]]], feeds: dict[int, tuple]) -> list[Item]:
    """03 §Log tables: feeds.head_seq / head_id name the highest event held of each feed. A mismatch
    is a fault of the feed's last event; a feed with a head but no events is an extra failed item."""
    extra = []
    for feed_no, (_, replica, head_seq, head_id) in sorted(feeds.items()):
        rows = items_by_feed.get(feed_no, [])
        if not rows:
            if head_seq:
                bad = Item(f"feed    {feed_no} ({short(bytes(replica))})")
                bad.fail(STORE, f"head_seq {head_seq} but no events stored")
                extra.append(bad)
            continue
        item, last = rows[-1]
        if head_seq != last.seq:
            item.fail(STORE, f"feeds.head_seq is {head_seq}, but the last stored event has seq {last.seq}")
        if head_id is None or bytes(head_id) != last.id:
            item.fail(STORE, f"feeds.head_id {short(bytes(head_id or b''))} is not this event's events.id")
    return extra


def verify_db(path: Path) -> int:
    """--db: check a replica database as 03 §Writing describes ('read events ordered by feed, seq')."""
    conn = open_readonly(path)
    try:
        rows, feeds, stored_deps, not_understood = read_log(conn)
    finally:
        conn.close()
    ctx = {
        "feed_of": {bytes(r[1]): feed for feed, r in feeds.items()},
        "stored_deps": stored_deps,
        "pos_of": {(r.feed, r.seq): r.pos for r in rows},
    }
    states: dict[int, FeedState] = {}
    items: list[Item] = []
    items_by_feed: dict[int, list[tuple[Item, StoredEvent]]] = {}
    index: dict[str, EventInfo] = {}
    decoded: list[tuple[Item, Envelope, StoredEvent, EventInfo]] = []
    for row in rows:
        row.envelope, row.id = bytes(row.envelope or b""), bytes(row.id or b"")
        row.payload = bytes(row.payload) if row.payload is not None else None
        row.feed_replica = bytes(row.feed_replica) if row.feed_replica is not None else None
        feed = states.setdefault(row.feed, FeedState())
        item, env, eid = verify_stored_event(row, feed, ctx)
        if env is not None:
            info = EventInfo(env.replica, env.seq, env.type, full_deps_after(env, feed))
            index[eid.hex()] = info
            decoded.append((item, env, row, info))
        advance_feed(feed, row.seq, eid, env)
        items.append(item)
        items_by_feed.setdefault(row.feed, []).append((item, row))
    items += check_feed_heads(items_by_feed, feeds)
    # 02: payload understanding is reported, never a fault of the log ("never blocks its feed").
    for item, env, row, info in decoded:
        if row.payload is None or payload_fault(env, row.payload):
            continue
        reason, notes = understand_payload(env, row.payload, info, index.get)
        item.notes += notes
        eid = event_id(row.envelope).hex()
        item.notes.append(f"payload not understood (02): {reason}" if reason else "payload understood (02)")
        if not_understood is not None and (reason is not None) != (eid in not_understood):
            listed = "is" if eid in not_understood else "is not"
            item.notes.append(f"warning: this verifier {'does not understand' if reason else 'understands'} the payload, "
                              f"but the event {listed} in events_not_understood")
    return print_report(f"Gloss replica database: {path} ({len(rows)} events, {len(feeds)} feeds)", items)


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def main(argv: Optional[list[str]] = None) -> int:
    """Parse the command line and run one mode. Usage errors exit with status 2 (argparse's own)."""
    parser = argparse.ArgumentParser(description="Independent verifier for the Gloss event format (Protocol/01-03).")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--vectors", type=Path, metavar="EVENTS_JSON", help="check golden vectors (01 §Golden vectors)")
    mode.add_argument("--db", type=Path, metavar="REPLICA_DB", help="check a replica database (03 §Writing)")
    args = parser.parse_args(argv)
    try:
        return verify_vectors(args.vectors) if args.vectors else verify_db(args.db)
    except InputError as exc:
        print(f"verify_protocol: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
