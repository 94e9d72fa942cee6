#!/usr/bin/env python3
"""Independent verifier for the Gloss protocol: events (format 1), bundles (formats 1 and 2), wire (version 1).

Written from the Protocol documents only (Protocol/01-event.md, 02-payloads.md, 03-store.md,
05-bundle.md, 07-wire.md), never from the Swift sources, so that it can catch places where the
implementation and the specification disagree.

Usage (the modes can be combined in one run; the report then has one section per input):
    verify_protocol.py --vectors Protocol/vectors/events.json
    verify_protocol.py --db PATH/.gloss/replica.db
    verify_protocol.py --bundle FILE.glossb [FILE ...]      (or Protocol/vectors/bundles.json)
    verify_protocol.py --wire Protocol/vectors/wire.json
    verify_protocol.py --payloads Protocol/vectors/payloads.json
    verify_protocol.py --encrypted Protocol/vectors/bundles-encrypted.json

Exit status: 0 when every checked item passes, 1 when any fails, 2 on a usage error or an input
that cannot be read at all (missing file, not JSON, not a SQLite database, missing tables); when
one input of a combined run cannot be read the others are still checked and the status is 2.
The output ends with the line `N passed, M failed` over all sections. Items are the vectors
(valid and invalid), the events of a database, the header / records / trailer of a bundle, or the
steps of the wire handshake, the payload vectors. A fault that belongs to no single item (a wrong `signingContext`, a
feed whose head names no stored event) is reported as one extra failed item.

--bundle streams each file (one record in memory at a time) through 05 §Layout and reports:
  header   magic "GLOSSBDL" and format 1 or 2 (otherwise not framed further), both vectors (count
           ≤ 1,000,000 checked before the entries are read; entries strictly ascending by replica,
           seq ≥ 1), event_count, in format 2 evidence_count (0 makes the file unusable), Ed25519
           header_sig by `sender` over "GLOSS-BUNDLE-V1" ‖ header bytes before it (evidence_count
           included). Bad vector order, evidence_count 0 or a bad signature make the file unusable
           (05 §Reading) but leave it framed, so the records are checked too.
  record i envelope_len 1 … 4,194,304 and payload_len ≤ 8,388,608 or 0xFFFFFFFF (purged, no bytes);
           a length outside these ends the read. The event as in 01 §Verification: id, structure,
           payload length/hash unless purged, and every signature. Then, with b = base_vector and
           S = sender_vector: seq ≤ S[replica]; the first record of a feed has seq b[feed] + 1 (its
           prev is checkable only for seq 1; for seq b+1 > 1 the predecessor is at the receiver);
           later records of the feed continue seq + 1 with prev = the previous record's id; deps
           entries grow over the feed's accumulation seen in the bundle (exact from seq 1, a lower
           bound otherwise); each deps entry is ≤ S, and when above b it is an earlier record
           (a later record: causality fault; absent: the bundle misses an event above its base).
  record i (evidence k), format 2: the evidence_count records after the event records (05 §Fork
           evidence), framed like any record; the event as in 01 §Verification on its own (id,
           structure, payload length/hash unless purged, and its own signature: no event of the
           bundle vouches for it); its seq is S[replica] + 1 or + 2 (S = 0 when it does not name the
           feed); the records ascend strictly by (replica id, seq, event id). They take no part in the coverage and
           chain checks of the event records above (they lie above S by design); their deps, prev and
           payload are described in notes.
  evidence format 2, when every evidence record was read: every feed has two or more evidence
           records (05: "at least two per feed"; a lone one proves no fork), and a note per forked feed.
  trailer  magic "GLOSSEND", count = event_count + evidence_count (format 1: event_count), SHA-256
           of every byte before the trailer, and nothing after the trailer (05 §Layout).
  vectors  when every event record was read: event_count = Σ max(0, S[r] − b[r]) and every seq
           b[r]+1 … S[r] of each feed is present (05 §Export); evidence records are not counted.
  expected when a bundles.json beside the file (or given as the FILE) lists it: sender, both
           vectors, eventCount, eventIds in record order, evidenceCount and evidenceIds in record
           order (absent: 0 and []), purgedPayloads (0-based record indices over all records).
  A file that ends early fails the item being read with `truncated` (and the trailer: not reached).

--wire rebuilds both key-exchange messages from the ephemeral private keys and challenges, the
transcript hash, the X25519 shared secret from both sides and both HKDF-SHA256 session keys, decodes
every plaintext message of the table (types 1-6; nothing may follow a body), verifies each hello's
signature over "GLOSS-WIRE-AUTH-V1" ‖ transcript ‖ role ‖ body-before-signature and re-signs it
with the seed (Ed25519 is deterministic), verifies the batch's events like bundle records, re-seals
every frame with ChaCha20-Poly1305 (nonce 00000000 ‖ u64 n big-endian) to the exact vector bytes,
opens it, and checks it does not open under the other direction's key or a neighbouring counter.
Inconsistencies between messages that are not a rule of 07 (e.g. `done`'s count against the
vectors) are notes, not faults.

--payloads decodes each vector's `cbor` with 02's CBOR subset (non-shortest heads and unsorted keys
accepted and counted), judges it by 02 §Types alone (key types, ids, labels, selectors, fact records
and their text, derived article and source ids, grades, decisions, resolutions, candidates, limits)
and checks `understood` and the `reason` category; for valid vectors also `fields`, `deterministic`
and `recordText`. The same rules, plus the causal ones (happened before, 01 §Deps), judge every
payload of --vectors, --db, --bundle and --wire.

--encrypted derives every key's X25519 pair from its seed and replica id (05 §Keys; cross-checked
with libsodium when PyNaCl is installed), rebuilds the encrypted bundle byte for byte from the fixed
content key and ephemeral keys (RFC 9180 base mode written out from HMAC-SHA256, X25519 and
ChaCha20-Poly1305), verifies header_sig, and opens it as every recipient back to the inner bundle.

Dependencies: Python 3.11 standard library and the `cryptography` package (Ed25519, X25519,
HKDF-SHA256, ChaCha20-Poly1305); PyNaCl optionally (--encrypted's libsodium cross-check).
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
from typing import Any, Callable, Optional, Union

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
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


MAX_SEQ = 2**63 - 1   # 01 §Layout: seq, deps seqs and vector entries
MAX_TIME = 2**63 - 1  # 01 §Layout: time


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
    if seq > MAX_SEQ:
        raise StructureError(f"seq {seq} above 2^63 - 1")
    prev = r.take(32, "prev")
    if (seq == 1) != (prev == ZERO32):
        raise StructureError(f"prev must be all zero if and only if seq = 1 (seq {seq}, prev {short(prev)})")
    time = r.uint(8, "time")
    if time > MAX_TIME:
        raise StructureError(f"time {time} above 2^63 - 1")
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
        if dep_seq > MAX_SEQ:
            raise StructureError(f"deps[{i}].seq {dep_seq} above 2^63 - 1")
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
    """01 §Time: times strictly increase along a feed; a receiver rejects an event that breaks it.
    In a stream the receiver's causal past is unknown, so here it is a note; --db checks it as a rule."""
    if feed.head_time is not None and env.time <= feed.head_time:
        return f"time {env.time} does not increase over the previous event's {feed.head_time} (a receiver rejects it, 01 §Time)"
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


class NotAMap(CborError):
    """The payload is one value of the subset, but not a map (02: 'always a map with text keys')."""


class _CborDecoder:
    """Decoder for 02's subset: ints (64-bit signed range), bytes, text, arrays, text-keyed maps,
    false/true/null; definite lengths only; no floats or tags; depth at most 32 (top level = 1).
    02: 'Decoders accept any well-formed encoding of the subset (non-shortest heads and unsorted keys
    included)': both are accepted and counted (`non_shortest`, `unsorted_maps`), so a caller can tell
    whether the bytes are in deterministic encoding."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.unsorted_maps = 0
        self.non_shortest = 0

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
        """The head's argument; indefinite lengths are refused, non-shortest forms counted."""
        if info < 24:
            return info
        widths = {24: 1, 25: 2, 26: 4, 27: 8}
        if info not in widths:
            raise CborError(f"additional information {info} (indefinite length or reserved) not allowed")
        value = int.from_bytes(self._take(widths[info]), "big")
        minimum = {24: 24, 25: 0x100, 26: 0x10000, 27: 0x1_0000_0000}[info]
        if value < minimum:
            self.non_shortest += 1
        return value

    def item(self, depth: int) -> Any:
        """Decode one item at `depth` (02 §(intro): top-level value = 1, inside a container + 1)."""
        if depth > MAX_NESTING:
            raise CborError(f"a value at depth {depth}, deeper than {MAX_NESTING}")
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
        remaining = len(self.data) - self.pos
        if major == 4:
            if arg > remaining:
                raise CborError(f"array of {arg} items exceeds the {remaining} bytes left")
            return [self.item(depth + 1) for _ in range(arg)]
        # major == 5
        if arg > remaining // 2:
            raise CborError(f"map of {arg} pairs exceeds the {remaining} bytes left")
        result: dict[str, Any] = {}
        seen: set[str] = set()  # 02: canonically equivalent keys are duplicates
        previous_key: Optional[bytes] = None
        for _ in range(arg):
            key_start = self.pos
            if self.pos < len(self.data) and self.data[self.pos] >> 5 != 3:
                raise CborError("map key is not a text string")
            key = self.item(depth + 1)
            encoded_key = self.data[key_start : self.pos]
            if unicodedata.normalize("NFC", key) in seen:
                raise CborError(f"duplicate map key {key!r} (canonically equivalent keys are duplicates)")
            seen.add(unicodedata.normalize("NFC", key))
            # RFC 8949 §4.2.1: keys sorted bytewise by their encoded form.
            if previous_key is not None and encoded_key <= previous_key:
                self.unsorted_maps += 1
            previous_key = encoded_key
            result[key] = self.item(depth + 1)
        return result


@dataclass
class DecodedCbor:
    """A decoded payload map and how far its bytes are from deterministic encoding."""

    value: dict[str, Any]
    unsorted_maps: int
    non_shortest: int

    @property
    def deterministic(self) -> bool:
        """RFC 8949 §4.2.1 as 02 states it: shortest heads, definite lengths (always, or it would not
        decode), keys sorted bytewise by encoded form."""
        return self.unsorted_maps == 0 and self.non_shortest == 0


def decode_payload_detail(payload: bytes) -> DecodedCbor:
    """02 §(intro): a payload is exactly one CBOR value, a text-keyed map, at most 8,388,608 bytes."""
    if len(payload) > MAX_PAYLOAD:
        raise CborError(f"payload above {MAX_PAYLOAD} bytes")
    decoder = _CborDecoder(payload)
    value = decoder.item(1)
    if decoder.pos != len(payload):
        raise CborError(f"{len(payload) - decoder.pos} byte(s) after the CBOR value")
    if not isinstance(value, dict):
        raise NotAMap(f"payload is a {type(value).__name__}, not a map")
    return DecodedCbor(value, decoder.unsorted_maps, decoder.non_shortest)


def decode_payload(payload: bytes) -> tuple[dict[str, Any], int]:
    """The map and the number of maps whose keys were not in deterministic order."""
    d = decode_payload_detail(payload)
    return d.value, d.unsorted_maps


# ---------------------------------------------------------------------------------------------
# Payload types: 02-payloads.md §Types (schema 1)
# ---------------------------------------------------------------------------------------------

# 02 §Types: the types of schema 1.
PAYLOAD_TYPES = (
    "ArticleIngested", "ArticleRevised", "CandidatesExtracted", "ConflictResolved", "TagAdded", "TagRemoved",
    "LinkAdded", "LinkRemoved", "NoteAdded", "NoteEdited", "NoteDeleted", "FactAdded", "FactAmended",
    "FactRetracted", "FactGraded", "SourceAdded", "SourceGraded", "AnnotationAdded", "AnchorDecided",
    "TeamCreated", "MemberAdded", "DeviceEnrolled", "RoleChanged", "KeyRevoked", "MemberRemoved", "PayloadRedacted",
)
ROLES = frozenset({"admin", "analyst", "reader"})  # 02 §Team
SOURCE_DOMAIN = b"gloss/source\x00"  # 02 §SourceAdded: "gloss/source" ‖ 0x00
RECORD_FIELDS = ("subject", "predicate", "object", "when", "where", "source")  # 02 §FactAdded, in order
RECORD_REQUIRED = ("subject", "predicate", "object")
MAX_RECORD_VALUE = 4_096
MAX_LABEL = 64
MAX_CONTEXT = 32  # 02 §Selectors: prefix and suffix at most 32 scalars
MAX_LIST = 100_000  # additions, candidates
MAX_RESOLUTION_CANDIDATES = 10_000
RELIABILITY = frozenset("ABCDEF")
CREDIBILITY = frozenset("123456")
DECISIONS = frozenset({"confirm", "retarget"})
CANDIDATE_KINDS = ("date", "place", "country", "person", "statement")  # 06 §1 (not a validity rule)


class NotUnderstood(ValueError):
    """02: a payload that does not decode or breaks its type's rules makes the event not understood.

    `category` is the short reason of 02 §Golden vectors (`field`, `id`, `label`, `selector`, …)."""

    def __init__(self, message: str, category: str = "field") -> None:
        super().__init__(message)
        self.category = category


def _field(m: dict[str, Any], key: str, kind: type, optional: bool = False, category: str = "field") -> Any:
    """Fetch `key` with the type 02 gives it. 02 §(intro): an optional key that is absent or null is
    absent; a required key must be present with its type (null is not text)."""
    value = m.get(key)
    if value is None:
        if optional:
            return None
        raise NotUnderstood(f"missing `{key}`", category)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise NotUnderstood(f"`{key}` is not {kind.__name__}", category)
    return value


def _is_id(value: str) -> bool:
    return bool(HEX_ID.fullmatch(value))


def _hex_id(m: dict[str, Any], key: str, optional: bool = False) -> Optional[str]:
    """02: 'Ids inside payloads are text: 64 lowercase hex digits.'"""
    value = _field(m, key, str, optional)
    if value is not None and not _is_id(value):
        raise NotUnderstood(f"`{key}` is not 64 lowercase hex digits", "id")
    return value


def _list(m: dict[str, Any], key: str, item_kind: type, what: str) -> list[Any]:
    """An array key; absent or null is the empty array (02 §(intro))."""
    value = _field(m, key, list, optional=True)
    if value is None:
        return []
    if not all(isinstance(v, item_kind) and not isinstance(v, bool) for v in value):
        raise NotUnderstood(f"`{key}` is not an array of {what}", "candidates" if item_kind is dict else "field")
    return value


def _id_list(m: dict[str, Any], key: str, low: int, high: int, category: str) -> list[str]:
    """An array of ids with `low`…`high` entries."""
    values = _list(m, key, str, "text")
    if not low <= len(values) <= high:
        raise NotUnderstood(f"`{key}` lists {len(values)} ids, not {low}–{high}", category)
    for v in values:
        if not _is_id(v):
            raise NotUnderstood(f"`{key}` holds {v[:16]!r}, not 64 lowercase hex digits", "id")
    return values


def _bounded_text(m: dict[str, Any], key: str, limit: int, optional: bool = False) -> Optional[str]:
    """A text field with a byte limit from 01 §Limits."""
    value = _field(m, key, str, optional)
    if value is not None and len(value.encode("utf-8")) > limit:
        raise NotUnderstood(f"`{key}` is above {limit} bytes", "limit")
    return value


def _is_white_space(ch: str) -> bool:
    """02 §TagAdded: white space is Unicode category Zs, Zl or Zp, or one of U+0009–U+000D, U+0085,
    U+200B (zero width space)."""
    return unicodedata.category(ch) in ("Zs", "Zl", "Zp") or ch in "\t\n\x0b\x0c\r\x85\u200b"


def _has_control(value: str) -> bool:
    """A control character: Unicode general category Cc."""
    return any(unicodedata.category(ch) == "Cc" for ch in value)


def check_label(m: dict[str, Any], key: str, optional: bool = False) -> Optional[str]:
    """02 §TagAdded: 1–64 bytes, no control characters, no white space at either end."""
    value = _field(m, key, str, optional)
    if value is None:
        return None
    if not 1 <= len(value.encode("utf-8")) <= MAX_LABEL:
        raise NotUnderstood(f"`{key}` is {len(value.encode('utf-8'))} bytes, not 1–{MAX_LABEL}", "label")
    if _has_control(value):
        raise NotUnderstood(f"`{key}` has a control character", "label")
    if _is_white_space(value[0]) or _is_white_space(value[-1]):
        raise NotUnderstood(f"`{key}` {value!r} has surrounding white space", "label")
    return value


def check_selector(value: Any, key: str) -> dict[str, Any]:
    """02 §Selectors in payloads: a map {exact, prefix, suffix (text), start, end (integers)},
    0 ≤ start < end ≤ 4,194,304, exact exactly end − start scalars, prefix and suffix ≤ 32 scalars."""
    if value is None:
        raise NotUnderstood(f"missing `{key}`", "field")
    if not isinstance(value, dict):
        raise NotUnderstood(f"`{key}` is not a map", "selector")
    start = _field(value, "start", int, category="selector")
    end = _field(value, "end", int, category="selector")
    if not 0 <= start < end <= MAX_ARTICLE_TEXT:
        raise NotUnderstood(f"`{key}` positions {start}..{end} are not 0 ≤ start < end ≤ {MAX_ARTICLE_TEXT}", "selector")
    exact = _field(value, "exact", str, category="selector")
    prefix = _field(value, "prefix", str, category="selector")
    suffix = _field(value, "suffix", str, category="selector")
    if len(exact) != end - start:
        raise NotUnderstood(f"`{key}` exact is {len(exact)} scalars, not end − start = {end - start}", "selector")
    if len(prefix) > MAX_CONTEXT or len(suffix) > MAX_CONTEXT:
        raise NotUnderstood(f"`{key}` prefix or suffix is over {MAX_CONTEXT} scalars", "selector")
    return value


def check_record_value(name: str, value: Optional[str]) -> None:
    """02 §FactAdded: required fields present; every value one line: non-empty, no control characters
    or U+2028/2029, no white space at either end, ≤ 4,096 bytes; `source` a source id."""
    if value is None:
        if name in RECORD_REQUIRED:
            raise NotUnderstood(f"record `{name}` is required", "record")
        return
    if not value:
        raise NotUnderstood(f"record `{name}` is empty", "record")
    if _has_control(value) or "\u2028" in value or "\u2029" in value:
        raise NotUnderstood(f"record `{name}` is not one line (control character or U+2028/2029)", "record")
    if _is_white_space(value[0]) or _is_white_space(value[-1]):
        raise NotUnderstood(f"record `{name}` has surrounding white space", "record")
    if len(value.encode("utf-8")) > MAX_RECORD_VALUE:
        raise NotUnderstood(f"record `{name}` is over {MAX_RECORD_VALUE} bytes", "record")
    if name == "source" and not _is_id(value):
        raise NotUnderstood("record `source` is not a source id (64 lowercase hex digits)", "record")


def check_record(value: Any) -> dict[str, Optional[str]]:
    """02 §FactAdded `record`: a map of the six fields (text; optional ones absent or null)."""
    if value is None:
        raise NotUnderstood("missing `record`", "field")
    if not isinstance(value, dict):
        raise NotUnderstood("`record` is not a map", "record")
    record = {}
    for name in RECORD_FIELDS:
        v = _field(value, name, str, optional=True, category="record")
        check_record_value(name, v)
        record[name] = v
    return record


def record_text(record: dict[str, Optional[str]]) -> str:
    """02 §FactAdded: six lines `name: V` in order, an absent optional field as the bare `name:`."""
    return "\n".join(f"{n}: {record[n]}" if record.get(n) is not None else f"{n}:" for n in RECORD_FIELDS)


def parse_record_text(text: str) -> dict[str, Optional[str]]:
    """The inverse of `record_text`, then the value rules (08 / 02 §ConflictResolved `record`)."""
    lines = text.split("\n")
    if len(lines) != len(RECORD_FIELDS):
        raise NotUnderstood(f"a fact record text has {len(RECORD_FIELDS)} lines, this has {len(lines)}", "resolution")
    record: dict[str, Optional[str]] = {}
    for name, line in zip(RECORD_FIELDS, lines):
        if line == f"{name}:":
            record[name] = None
        elif line.startswith(f"{name}: "):
            record[name] = line[len(name) + 2 :]
        else:
            raise NotUnderstood(f"record text line {line[:40]!r} is not `{name}: …` or `{name}:`", "resolution")
    try:
        for name in RECORD_FIELDS:
            check_record_value(name, record[name])
    except NotUnderstood as exc:
        raise NotUnderstood(str(exc), "resolution") from None
    return record


def check_candidates(m: dict[str, Any], required_version: bool) -> None:
    """02 §ArticleIngested / §CandidatesExtracted: `candidates` an array (≤ 100,000) of maps shaped
    as 06 §1: `kind`, `value`, `rule` text, `selector` a selector; `precision`, `speaker`, `role`,
    `saidOn`, `affiliation` optional text, `attribution` optional selector. A candidate's selector
    may be empty (start = end) and its `exact` is not counted (02 §CandidatesExtracted)."""
    version = _field(m, "rulesVersion", int, optional=not required_version)
    if required_version and version < 1:
        raise NotUnderstood(f"`rulesVersion` {version} is below 1", "rules-version")
    candidates = _list(m, "candidates", dict, "maps")
    if len(candidates) > MAX_LIST:
        raise NotUnderstood(f"{len(candidates)} candidates, over {MAX_LIST}", "candidates")
    if version is None:
        return
    for i, c in enumerate(candidates):
        try:
            for key in ("kind", "value", "rule"):
                _field(c, key, str)
            for key in ("precision", "speaker", "role", "saidOn", "affiliation"):
                _field(c, key, str, optional=True)
            for key in ("selector", "attribution"):
                if key == "attribution" and key not in c:
                    continue
                s = c.get(key)
                if not isinstance(s, dict):
                    raise NotUnderstood(f"`{key}` is not a map")
                start, end = _field(s, "start", int), _field(s, "end", int)
                for k in ("exact", "prefix", "suffix"):
                    _field(s, k, str)
                if not 0 <= start <= end <= MAX_ARTICLE_TEXT:
                    raise NotUnderstood(f"`{key}` positions {start}..{end} out of range")
        except NotUnderstood as exc:
            raise NotUnderstood(f"candidate {i}: {exc}", "candidates") from None


def article_id_for_revision(revision_sha256: bytes) -> bytes:
    """02 §ArticleIngested: article id = SHA-256("gloss/article" ‖ 0x00 ‖ revision SHA-256 bytes)."""
    return hashlib.sha256(ARTICLE_DOMAIN + revision_sha256).digest()


def lower_case(name: str) -> str:
    """02 §SourceAdded: each scalar's full Unicode lower-case mapping, without context (Σ is always σ).
    Python's str.lower() on the whole string would apply the final-sigma rule, so map scalar by scalar."""
    return "".join(ch.lower() for ch in name)


def source_id_for_name(name: str) -> str:
    """02 §SourceAdded: SHA-256("gloss/source" ‖ 0x00 ‖ lower-case NFC name), hex."""
    return hashlib.sha256(SOURCE_DOMAIN + lower_case(unicodedata.normalize("NFC", name)).encode("utf-8")).hexdigest()


def check_revision_text(m: dict[str, Any], notes: list[str]) -> bytes:
    """02 §ArticleIngested / §ArticleRevised: `text` within its limit and `sha256` = SHA-256(text).
    Returns the revision's SHA-256. The meaning column (NFC, date shape, places = dateline split on
    '/', filename without folders) is not a validity rule: breaking it only yields notes."""
    text = _bounded_text(m, "text", MAX_ARTICLE_TEXT)
    revision = _hex_id(m, "sha256")
    for key in ("date", "dateline", "filename"):
        _field(m, key, str, optional=True)
    places = _list(m, "places", str, "text")
    actual_revision = hashlib.sha256(text.encode("utf-8")).digest()
    if revision != actual_revision.hex():
        raise NotUnderstood(f"`sha256` {revision[:12]} is not SHA-256(text) {short(actual_revision)}", "sha256")
    if not unicodedata.is_normalized("NFC", text):
        notes.append("`text` is not in Unicode NFC (02 §ArticleIngested, meaning column)")
    date, dateline, filename = m.get("date"), m.get("dateline"), m.get("filename")
    if date is not None and not _is_calendar_date(date):
        notes.append(f"`date` {date!r} is not a YYYY-MM-DD date (02 §ArticleIngested, meaning column)")
    if dateline is not None and places != dateline.split("/"):
        notes.append(f"`places` {places} is not `dateline` {dateline!r} split on '/' (02 §ArticleIngested)")
    if dateline is None and places:
        notes.append("`places` is non-empty but there is no `dateline`")
    if filename is not None and "/" in filename:
        notes.append(f"`filename` {filename!r} has folders (02 §ArticleIngested: 'no folders')")
    return actual_revision


def check_article_ingested(m: dict[str, Any]) -> list[str]:
    """02 §ArticleIngested: sha256 = SHA-256(text) and the article id derived from it."""
    notes: list[str] = []
    _hex_id(m, "article")
    check_candidates(m, required_version=False)
    revision = check_revision_text(m, notes)
    expected_article = article_id_for_revision(revision)
    if m["article"] != expected_article.hex():
        raise NotUnderstood(f"`article` {m['article'][:12]} is not the id derived from sha256 ({short(expected_article)})", "derived-id")
    return notes


def _is_calendar_date(value: str) -> bool:
    """02 §ArticleIngested `date`: `YYYY-MM-DD`."""
    try:
        return bool(ISO_DATE.fullmatch(value)) and datetime.date.fromisoformat(value) is not None
    except ValueError:
        return False


def check_resolution(m: dict[str, Any]) -> None:
    """02 §ConflictResolved: ids, `field` 1–64 bytes, 1–10,000 candidate ids, exactly one of `value`
    (text ≤ 1 MiB) and `deleted: true`, optional `picked` (id) and `reason`; the value by field."""
    _hex_id(m, "conflict")
    _hex_id(m, "object")
    field_name = _field(m, "field", str)
    _id_list(m, "candidates", 1, MAX_RESOLUTION_CANDIDATES, "resolution")
    value = _bounded_text(m, "value", MAX_NOTE_TEXT, optional=True)
    deleted = m.get("deleted") is True  # anything but `true` is not a deletion
    _hex_id(m, "picked", optional=True)
    _bounded_text(m, "reason", MAX_NOTE_TEXT, optional=True)
    if not 1 <= len(field_name.encode("utf-8")) <= MAX_LABEL:
        raise NotUnderstood(f"`field` is not 1–{MAX_LABEL} bytes", "resolution")
    if deleted == (value is not None):
        raise NotUnderstood("exactly one of `value` and `deleted: true` must be given", "resolution")
    if field_name == "body":
        return
    if field_name == "record":
        if value is not None:
            parse_record_text(value)
    elif field_name in ("credibility", "reliability"):
        scale = CREDIBILITY if field_name == "credibility" else RELIABILITY
        if value not in scale:
            raise NotUnderstood(f"{field_name} resolution value {value!r} is not one of {' '.join(sorted(scale))}", "resolution")
    else:
        raise NotUnderstood(f"`field` {field_name!r} is not body, record, credibility or reliability", "resolution")


def check_payload(type_name: str, schema: int, m: dict[str, Any]) -> list[str]:
    """02 §Types: every rule decided by the payload alone (no causal past). Raises NotUnderstood with
    its category; returns notes."""
    if type_name not in PAYLOAD_TYPES:
        raise NotUnderstood(f"unknown type {type_name} (schema {schema})", "unknown-type")
    if schema > KNOWN_SCHEMA:
        raise NotUnderstood(f"schema {schema} of {type_name} is newer than {KNOWN_SCHEMA}", "schema")
    if schema < KNOWN_SCHEMA:
        raise NotUnderstood(f"schema {schema} of {type_name} is not defined", "schema")
    notes: list[str] = []
    t = type_name
    if t == "ArticleIngested":
        notes += check_article_ingested(m)
    elif t == "ArticleRevised":
        _hex_id(m, "article")
        previous = _hex_id(m, "previous")
        check_candidates(m, required_version=False)
        revision = check_revision_text(m, notes)
        if previous == revision.hex():
            raise NotUnderstood("`previous` equals `sha256`: a revision cannot revise itself", "previous")
    elif t == "CandidatesExtracted":
        _hex_id(m, "article")
        _hex_id(m, "revision")
        check_candidates(m, required_version=True)
    elif t == "ConflictResolved":
        check_resolution(m)
    elif t == "TagAdded":
        _hex_id(m, "object")
        check_label(m, "tag")
    elif t == "TagRemoved":
        _hex_id(m, "object")
        check_label(m, "tag")
        _id_list(m, "additions", 1, MAX_LIST, "list")
    elif t == "LinkAdded":
        _hex_id(m, "from")
        _hex_id(m, "to")
        check_label(m, "relation")
    elif t == "LinkRemoved":
        _id_list(m, "additions", 1, MAX_LIST, "list")
    elif t == "NoteAdded":
        _hex_id(m, "on")
        _bounded_text(m, "body", MAX_NOTE_TEXT)
    elif t == "NoteEdited":
        _hex_id(m, "note")
        _bounded_text(m, "body", MAX_NOTE_TEXT)
    elif t == "NoteDeleted":
        _hex_id(m, "note")
    elif t == "FactAdded":
        _hex_id(m, "article")
        _hex_id(m, "revision")
        check_record(m.get("record"))
        check_selector(m.get("evidence"), "evidence")
        _hex_id(m, "fromCandidate", optional=True)
    elif t == "FactAmended":
        _hex_id(m, "fact")
        field_name = _field(m, "field", str)
        check_record(m.get("record"))
        if field_name not in RECORD_FIELDS:
            raise NotUnderstood(f"`field` {field_name!r} is not one of {', '.join(RECORD_FIELDS)}", "field-name")
    elif t == "FactRetracted":
        _hex_id(m, "fact")
        if not _bounded_text(m, "reason", MAX_NOTE_TEXT):
            raise NotUnderstood("`reason` is empty", "reason")
    elif t == "FactGraded":
        _hex_id(m, "fact")
        if _field(m, "credibility", str) not in CREDIBILITY:
            raise NotUnderstood(f"`credibility` {m['credibility']!r} is not 1–6", "grade")
        _bounded_text(m, "reason", MAX_NOTE_TEXT, optional=True)
    elif t == "SourceAdded":
        source = _field(m, "source", str)
        name = check_label(m, "name")
        check_label(m, "kind", optional=True)
        if source != source_id_for_name(name):
            raise NotUnderstood(f"`source` {source[:12]} is not derived from the name ({source_id_for_name(name)[:12]})", "derived-id")
    elif t == "SourceGraded":
        _hex_id(m, "source")
        if _field(m, "reliability", str) not in RELIABILITY:
            raise NotUnderstood(f"`reliability` {m['reliability']!r} is not A–F", "grade")
        _bounded_text(m, "reason", MAX_NOTE_TEXT, optional=True)
    elif t == "AnnotationAdded":
        _hex_id(m, "article")
        _hex_id(m, "revision")
        check_selector(m.get("target"), "target")
        _bounded_text(m, "comment", MAX_NOTE_TEXT, optional=True)
    elif t == "AnchorDecided":
        _hex_id(m, "object")
        _hex_id(m, "revision")
        check_selector(m.get("selector"), "selector")
        if _field(m, "decision", str) not in DECISIONS:
            raise NotUnderstood(f"`decision` {m['decision']!r} is not confirm or retarget", "decision")
    elif t == "TeamCreated":
        check_label(m, "name")
        check_label(m, "analyst")
    elif t in ("MemberAdded", "DeviceEnrolled", "RoleChanged", "MemberRemoved"):
        check_label(m, "analyst")
        if t in ("MemberAdded", "RoleChanged") and _field(m, "role", str) not in ROLES:
            raise NotUnderstood(f"`role` {m['role']!r} is not admin, analyst or reader", "role")
        if t in ("MemberAdded", "DeviceEnrolled"):
            _hex_id(m, "key")
        if t == "MemberRemoved":
            _bounded_text(m, "reason", MAX_NOTE_TEXT)
    elif t == "PayloadRedacted":
        _hex_id(m, "event")
        _bounded_text(m, "reason", MAX_NOTE_TEXT)
    elif t == "KeyRevoked":
        _hex_id(m, "key")
        _bounded_text(m, "reason", MAX_NOTE_TEXT)
    return notes


def _earlier(key: str, target: str, event: EventInfo, lookup: Callable[[str], Optional[EventInfo]],
             types: tuple[str, ...] = ()) -> None:
    """Valid only if the event `target` (of one of `types`, when given) happened before this event."""
    held = lookup(target)
    if held is None:
        raise NotUnderstood(f"{key} {target[:12]} is not an event held here", "causal")
    if types and held.type not in types:
        raise NotUnderstood(f"{key} {target[:12]} is a {held.type}, not a {' or '.join(types)}", "causal")
    if not happened_before(held, event):
        raise NotUnderstood(f"the {key} {target[:12]} did not happen before this event", "causal")


def check_causal(type_name: str, m: dict[str, Any], event: EventInfo, lookup: Callable[[str], Optional[EventInfo]]) -> None:
    """02: the **Valid only if** rules about the causal past (01 §Deps happened-before)."""
    if type_name in ("NoteEdited", "NoteDeleted"):
        _earlier("note", m["note"], event, lookup, ("NoteAdded",))
    elif type_name in ("FactAmended", "FactRetracted", "FactGraded"):
        _earlier("fact", m["fact"], event, lookup, ("FactAdded",))
    elif type_name in ("TagRemoved", "LinkRemoved"):
        for addition in m.get("additions") or []:
            _earlier("addition", addition, event, lookup)
    elif type_name == "AnchorDecided":
        _earlier("object", m["object"], event, lookup, ("AnnotationAdded", "FactAdded"))
    elif type_name == "ConflictResolved":
        for candidate in m.get("candidates") or []:
            _earlier("candidate", candidate, event, lookup)
        kinds = {"body": ("NoteAdded",), "record": ("FactAdded",), "credibility": ("FactAdded",)}
        if m["field"] in kinds:
            _earlier("object", m["object"], event, lookup, kinds[m["field"]])


def check_note_target(m: dict[str, Any], event: EventInfo, lookup: Callable[[str], Optional[EventInfo]]) -> None:
    """02 §NoteEdited/§NoteDeleted: valid only if the note's NoteAdded happened before this event."""
    _earlier("note", _hex_id(m, "note"), event, lookup, ("NoteAdded",))


def understand_payload(env: Envelope, payload: bytes, event: EventInfo,
                       lookup: Callable[[str], Optional[EventInfo]]) -> tuple[Optional[str], list[str]]:
    """02: decide whether an event is understood. Returns (reason it is not understood or None, notes).

    Unknown types and schemas other than 1 are not understood; so is a payload that does not
    decode, breaks its type's rules, or names an event that did not happen before it. None of this
    is a fault of the log (02: 'never blocks its feed').
    """
    notes: list[str] = []
    try:
        d = decode_payload_detail(payload)
    except CborError as exc:
        return f"payload does not decode as CBOR: {exc}", notes
    if d.unsorted_maps:
        notes.append(f"{d.unsorted_maps} map(s) with keys not in deterministic order (accepted: 02 is lenient)")
    if d.non_shortest:
        notes.append(f"{d.non_shortest} head(s) not in shortest form (accepted: 02 is lenient)")
    try:
        notes += check_payload(env.type, env.schema, d.value)
        check_causal(env.type, d.value, event, lookup)
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


@dataclass
class Section:
    """The items of one mode run (a vectors file, a database, a bundle, the wire vectors).

    `tag` prefixes the item labels in the closing list of failures when several sections ran."""

    title: str
    items: list[Item]
    tag: str = ""


def print_report(sections: list[Section]) -> int:
    """Print each section's items, then one summary ending in `N passed, M failed`; return the
    exit status (0 when every item passed, 1 otherwise). With one section the output is exactly
    the single-mode output of earlier versions."""
    for number, section in enumerate(sections):
        if number:
            print()
        print(section.title)
        for item in section.items:
            print(f"{'PASS' if item.ok else 'FAIL'}  {item.label}")
            for fault in item.faults:
                print(f"        fault: {fault}")
            for note in item.notes:
                print(f"        note:  {note}")
    everything = [(section, item) for section in sections for item in section.items]
    passed = sum(item.ok for _, item in everything)
    failed = len(everything) - passed
    print()
    if failed:
        print("FAILED items:")
        for section, item in everything:
            if not item.ok:
                prefix = f"{section.tag}: " if len(sections) > 1 and section.tag else ""
                print(f"  {prefix}{item.label}: {item.faults[0]}")
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


def read_json_object(path: Path, what: str, keys: tuple[str, ...] = ()) -> dict[str, Any]:
    """The JSON object in `path`, holding every one of `keys`; an InputError naming `what` otherwise."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        missing = [k for k in keys if k not in data]
        if missing:
            raise KeyError(", ".join(missing))
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"cannot read {what} {path}: {exc}") from None
    return data


def verify_vectors(path: Path) -> Section:
    """--vectors: check Protocol/vectors/events.json as 01 §Golden vectors describes it."""
    data = read_json_object(path, "vectors", ("events", "invalid"))
    events, invalid = data["events"], data["invalid"]
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
        elif env.type in PAYLOAD_TYPES and env.schema == KNOWN_SCHEMA:
            item.fail("payload", f"golden vector of a known type is not understood: {reason}")
        else:
            item.notes.append(f"payload not understood, as allowed (02): {reason}")
    for number, entry in enumerate(invalid):
        try:
            items.append(verify_invalid_vector(entry))
        except MALFORMED as exc:
            items.append(malformed_vector("invalid", number, entry, exc))
    return Section(f"Gloss protocol vectors: {path} ({len(events)} events, {len(invalid)} invalid)", items, f"vectors {path.name}")


# ---------------------------------------------------------------------------------------------
# --payloads: 02 §Golden vectors
# ---------------------------------------------------------------------------------------------


def _as_json(value: Any) -> Any:
    """A decoded CBOR value as 02 §Golden vectors writes it in `fields` (byte strings as hex)."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    return value


def _same_json(a: Any, b: Any) -> bool:
    """Equality that keeps booleans, integers and null apart (Python has True == 1)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    return a == b


def verify_payload_vector(entry: dict[str, Any]) -> Item:
    """One entry of payloads.json: decode `cbor`, judge it by 02 alone and compare with the entry:
    `understood` (and `reason` for invalid ones); for valid ones `fields`, `deterministic` and, for
    FactAdded / FactAmended, `recordText`."""
    name, type_name, schema = entry["name"], entry["type"], entry["schema"]
    expected = entry["understood"]
    item = Item(f"payload {type_name}: {name}" + ("" if expected else f"  (expect {entry.get('reason')})"))
    raw = _hex(entry, "cbor")
    decoded: Optional[DecodedCbor] = None
    try:
        decoded = decode_payload_detail(raw)
        notes = check_payload(type_name, schema, decoded.value)
        category, reason = None, None
        item.notes += notes
    except NotAMap as exc:
        category, reason = "not-a-map", str(exc)
    except CborError as exc:
        category, reason = "cbor", str(exc)
    except NotUnderstood as exc:
        category, reason = exc.category, str(exc)
    if expected is True:
        if reason is not None:
            item.fail("payload", f"stated understood, but {reason} ({category})")
            return item
        assert decoded is not None
        if not _same_json(_as_json(decoded.value), entry.get("fields")):
            item.fail("payload", "`fields` differs from the decoded cbor")
        if decoded.deterministic != entry.get("deterministic"):
            item.fail("payload", f"stated deterministic {entry.get('deterministic')!r}, but the bytes are"
                      f"{'' if decoded.deterministic else ' not'} in deterministic encoding "
                      f"({decoded.unsorted_maps} unsorted map(s), {decoded.non_shortest} non-shortest head(s))")
        if type_name in ("FactAdded", "FactAmended"):
            text = record_text(check_record(decoded.value["record"]))
            if entry.get("recordText") != text:
                item.fail("payload", f"`recordText` {entry.get('recordText')!r} is not the record text {text!r}")
        elif "recordText" in entry:
            item.fail("payload", f"`recordText` given for a {type_name}")
    elif expected is False:
        if reason is None:
            item.fail("payload", "stated not understood, but every rule of 02 holds")
        elif category != entry.get("reason"):
            item.fail("payload", f"not understood as stated, but for `{category}` ({reason}), not `{entry.get('reason')}`")
        else:
            item.notes.append(f"detected: {reason}")
    else:
        item.fail("vector", f"`understood` is {expected!r}, not a boolean")
    return item


def verify_payloads(path: Path) -> Section:
    """--payloads: check Protocol/vectors/payloads.json as 02 §Golden vectors describes it."""
    data = read_json_object(path, "payload vectors", ("valid", "invalid"))
    valid, invalid = data["valid"], data["invalid"]
    items: list[Item] = []
    for kind, entries in (("valid  ", valid), ("invalid", invalid)):
        for number, entry in enumerate(entries):
            try:
                items.append(verify_payload_vector(entry))
            except MALFORMED as exc:
                items.append(malformed_vector(f"payload {kind}", number, entry, exc))
    coverage = Item("file    every type of 02 has a valid vector")
    covered = {e.get("type") for e in valid if isinstance(e, dict) and e.get("understood") is True}
    missing = [t for t in PAYLOAD_TYPES if t not in covered]
    if missing:
        coverage.fail("vector", f"no valid vector for {', '.join(missing)}")
    fields = {e.get("fields", {}).get("field") for e in valid if isinstance(e, dict) and e.get("type") == "ConflictResolved"}
    if not {"body", "record", "credibility", "reliability"} <= fields:
        coverage.fail("vector", f"ConflictResolved vectors cover fields {sorted(f for f in fields if f)}, not all four")
    items.append(coverage)
    return Section(f"Gloss payload vectors: {path} ({len(valid)} valid, {len(invalid)} invalid)", items, f"payloads {path.name}")


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
        feeds = {r[0]: r for r in conn.execute("SELECT feed, replica, head_seq, head_id, fork_seq FROM feeds")}
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
                      stored: dict[tuple[int, int], dict[int, int]], pos_of: dict[tuple[int, int], int],
                      frozen_at: dict[int, int], time_of: dict[tuple[int, int], int]) -> None:
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
        if dep_pos is None and dep_feed in frozen_at and dep_seq >= frozen_at[dep_feed]:
            continue  # 01 §Verification 7: an entry at or beyond a frozen feed's fork counts as held
        if dep_pos is None:
            item.fail(DEPS, f"deps entry {short(dep_replica)}:{dep_seq} names an event that is not stored")
        elif dep_pos >= row.pos:
            item.fail(DEPS, f"deps entry {short(dep_replica)}:{dep_seq} was applied after this event (pos {dep_pos} ≥ {row.pos})")
    # 01 §Time: later than its feed predecessor and every event its deps entries name.
    for dep_feed, dep_seq in list(expected.items()) + ([(row.feed, row.seq - 1)] if row.seq > 1 else []):
        t = time_of.get((dep_feed, dep_seq))
        if t is not None and env.time <= t:
            item.fail(DEPS, f"time {env.time} is not later than its causal past's event at seq {dep_seq} (time {t})")
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
    check_stored_deps(item, row, env, ctx["feed_of"], ctx["stored_deps"], ctx["pos_of"], ctx["frozen_at"], ctx["time_of"])
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
    for feed_no, (_, replica, head_seq, head_id, _fork_seq) in sorted(feeds.items()):
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


def verify_db(path: Path) -> Section:
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
        "frozen_at": {feed: r[4] for feed, r in feeds.items() if r[4] is not None},
        "time_of": {(r.feed, r.seq): r.time & (2**64 - 1) for r in rows},
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
    by_feed: dict[int, list[tuple[Item, Envelope, bytes]]] = {}
    for item, env, row, _ in decoded:
        by_feed.setdefault(row.feed, []).append((item, env, event_id(row.envelope)))
    for entries in by_feed.values():
        vouch_chains(entries)
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
    return Section(f"Gloss replica database: {path} ({len(rows)} events, {len(feeds)} feeds)", items, f"db {path}")


# ---------------------------------------------------------------------------------------------
# Vectors and records shared by bundles and the wire: 05-bundle.md §(intro) and §Layout
# ---------------------------------------------------------------------------------------------

BUNDLE_MAGIC = b"GLOSSBDL"
BUNDLE_TRAILER_MAGIC = b"GLOSSEND"
BUNDLE_FORMAT = 1
BUNDLE_FORMAT_EVIDENCE = 2  # 05 §Layout: format 2 adds evidence_count and the fork evidence records
BUNDLE_CONTEXT = b"GLOSS-BUNDLE-V1"
PURGED = 0xFFFF_FFFF  # 05 §Layout: payload_len of a purged payload; no bytes follow
MAX_VECTOR = 1_000_000  # 05 §(intro) and 01 §Limits: version-vector entries

# Kinds of bundle and wire faults, besides the event ones above.
FRAMING, TRUNCATED, HEADER, HEADER_SIG, TRAILER, CHECKSUM = "framing", "truncated", "header", "header-signature", "trailer", "checksum"
CAUSALITY, COVERAGE, EXPECTED, EVIDENCE = "causality", "coverage", "expected", "evidence"
WIRE, MESSAGE = "wire", "message"


class VectorLimitError(ValueError):
    """A vector's count is above 1,000,000: rejected before reading (or allocating for) its entries."""


class Truncated(Exception):
    """The bundle file ended inside a field (05 §Reading: the file is cut short)."""

    def __init__(self, offset: int, needed: int, available: int, what: str) -> None:
        super().__init__(f"the file ends at byte {offset + available} inside {what} "
                         f"(needs {needed} byte(s) at offset {offset}, {available} left)")


def read_vector(r: Any, what: str) -> tuple[list[tuple[bytes, int]], list[str]]:
    """05 §(intro): u32 n (≤ 1,000,000, checked before the entries are read), then n × ([32] replica,
    u64 seq), strictly ascending by replica id, every seq ≥ 1. `r` is a _Reader or a BundleStream.

    Returns the entries and the ordering/seq faults (the entries are still framed when those break)."""
    count = r.uint(4, f"{what} count")
    if count > MAX_VECTOR:
        raise VectorLimitError(f"{what} has {count} entries, above the limit of {MAX_VECTOR}")
    entries: list[tuple[bytes, int]] = []
    faults: list[str] = []
    for k in range(count):
        replica = r.take(32, f"{what}[{k}].replica")
        seq = r.uint(8, f"{what}[{k}].seq")
        if entries and replica <= entries[-1][0]:
            faults.append(f"{what}[{k}] ({short(replica)}) is not strictly above the previous replica id")
        if seq < 1:
            faults.append(f"{what}[{k}] ({short(replica)}) has seq 0")
        entries.append((replica, seq))
    return entries, faults


def first_difference(actual: bytes, expected: bytes) -> str:
    """Where two byte strings first differ, for messages: `byte N: xx ≠ yy (lengths a, b)`."""
    n = next((k for k, (x, y) in enumerate(zip(actual, expected)) if x != y), min(len(actual), len(expected)))
    here = f"{actual[n]:02x}" if n < len(actual) else "end"
    there = f"{expected[n]:02x}" if n < len(expected) else "end"
    return f"first difference at byte {n}: {here} ≠ {there} (lengths {len(actual)}, {len(expected)})"


def vector_text(entries: Any) -> str:
    """A vector for messages: `{abcdef012345:3, …}`."""
    pairs = entries.items() if isinstance(entries, dict) else entries
    return "{" + ", ".join(f"{short(r)}:{s}" for r, s in pairs) + "}"


def check_event_record(item: Item, envelope: bytes, payload: Optional[bytes]) -> tuple[Optional[Envelope], bytes]:
    """01 §Verification steps 1, 2 and 5 for one record (bundle or batch): structure, payload length
    and hash unless the payload is purged, and the signature (every one: this is a verifier; a fault
    of an event a later signed event of its feed vouches for is settled afterwards by vouch_chains).
    Steps 3-4 need the surrounding stream and are checked by the caller. Returns (envelope, id)."""
    eid = event_id(envelope)
    try:
        env = parse_envelope(envelope)
    except StructureError as exc:
        item.label += f"  (id {short(eid)}, envelope does not parse)"
        item.fail(STRUCTURE, str(exc))
        return None, eid
    item.label += f"  (id {short(eid)}, {env.type}, feed {short(env.replica)} seq {env.seq})"
    if payload is None:
        item.notes.append("payload purged (0xFFFFFFFF): length and hash not checked (01 §Verification step 2)")
    else:
        problem = payload_fault(env, payload)
        if problem:
            item.fail(PAYLOAD_HASH, problem)
    problem = signature_fault(env)
    if problem:
        item.fail(SIGNATURE, problem)
    return env, eid


def vouch_chains(entries: list[tuple[Item, Envelope, bytes]]) -> None:
    """01 §Verification step 3, for the events of one feed (a database's or a bundle's): an event
    whose own signature does not verify is proven when a validly signed later event of its feed
    reaches it through `prev` ids (the id covers the signature bytes). Its signature fault becomes
    a note; an event no proven later event reaches keeps its fault."""
    by_seq: dict[int, tuple[Item, Envelope, bytes]] = {}
    for entry in entries:
        by_seq.setdefault(entry[1].seq, entry)
    vouched: set[bytes] = set()
    for seq in sorted(by_seq, reverse=True):
        item, env, eid = by_seq[seq]
        bad = any(f.startswith(f"[{SIGNATURE}]") for f in item.faults)
        if eid in vouched or not bad:
            below = by_seq.get(seq - 1)
            if below is not None and below[2] == env.prev:
                vouched.add(below[2])
    for item, env, eid in entries:
        if eid in vouched and any(f.startswith(f"[{SIGNATURE}]") for f in item.faults):
            item.faults = [f for f in item.faults if not f.startswith(f"[{SIGNATURE}]")]
            item.notes.append("own signature does not verify; proven by a validly signed later event of its feed "
                              "whose prev chain reaches it (01 §Verification step 3)")


# ---------------------------------------------------------------------------------------------
# --bundle: 05-bundle.md
# ---------------------------------------------------------------------------------------------


class BundleStream:
    """A forward-only reader over a bundle file: holds at most one field (one record's envelope or
    payload) plus a 64 KiB read-ahead, feeds every consumed byte to the running SHA-256 of the
    trailer checksum while `hashing` is on, and can capture the header bytes for its signature."""

    CHUNK = 65_536

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.buffer = bytearray()
        self.offset = 0  # file offset of the next unread byte
        self.sha = hashlib.sha256()
        self.hashing = True
        self.capture: Optional[bytearray] = None

    def _fill(self, n: int) -> None:
        while len(self.buffer) < n:
            chunk = self.handle.read(max(self.CHUNK, n - len(self.buffer)))
            if not chunk:
                return
            self.buffer += chunk

    def peek(self, n: int) -> bytes:
        self._fill(n)
        return bytes(self.buffer[:n])

    def take(self, n: int, what: str) -> bytes:
        self._fill(n)
        if len(self.buffer) < n:
            raise Truncated(self.offset, n, len(self.buffer), what)
        chunk = bytes(self.buffer[:n])
        del self.buffer[:n]
        self.offset += n
        if self.hashing:
            self.sha.update(chunk)
        if self.capture is not None:
            self.capture += chunk
        return chunk

    def uint(self, width: int, what: str) -> int:
        return int.from_bytes(self.take(width, what), "big")

    def rest_length(self) -> int:
        """Count (and discard) the bytes left in the file."""
        total = len(self.buffer)
        self.buffer.clear()
        while chunk := self.handle.read(self.CHUNK):
            total += len(chunk)
        return total


@dataclass
class FeedRun:
    """The records of one feed seen so far in a bundle (or batch)."""

    first_seq: int
    last_seq: int
    last_id: bytes
    last_time: int
    acc_deps: dict[bytes, int]  # accumulated deps of the feed's records seen in the stream
    exact: bool  # True when the run started at seq 1, so acc_deps is the true full deps


@dataclass
class StreamChecker:
    """Per-stream causal checks of 05 §Layout ('every event comes after its feed predecessor and
    its deps, when those are in the bundle at all') and 01 §Verification steps 3-4, relative to a
    base vector (what the receiver is assumed to hold) and the sender's vector.

    What is checked, for a record of feed R with seq s (b = base[R], S = sender_vector[R]):
    - s ≤ S (the sender held it by its own header);
    - first record of R in the stream: s = b + 1 (s ≤ b: the event is at or below the base and does
      not belong in the bundle; s > b + 1: seqs b+1 … s−1 are missing before it). Its prev is checked
      only when s = 1 (all zero, 01 §Layout); for s = b + 1 > 1 the predecessor is held by the
      receiver at the base and its id is not in the bundle, so prev cannot be checked here;
    - a later record of R: s = previous record's seq + 1 and prev = that record's id (01 step 3);
    - deps entries grow over the feed's accumulation seen in the stream (exact when the run starts at
      seq 1, a lower bound otherwise: an entry at or below it is malformed either way, 01 §Deps);
    - each deps entry (R', s'): s' ≤ sender_vector[R']; s' ≤ base[R'] is held by the receiver;
      otherwise (R', s') must be an earlier record of the stream (a later one breaks causality,
      none at all means the bundle misses an event above its base).
    """

    base: dict[bytes, int]
    sender: Optional[dict[bytes, int]]
    feeds: dict[bytes, FeedRun] = field(default_factory=dict)
    where: dict[tuple[bytes, int], int] = field(default_factory=dict)  # (replica, seq) → record index
    pending: list[tuple[Item, int, bytes, int]] = field(default_factory=list)
    infos: dict[str, EventInfo] = field(default_factory=dict)

    def check(self, item: Item, index: int, env: Envelope, eid: bytes) -> EventInfo:
        b = self.base.get(env.replica, 0)
        if self.sender is not None and env.seq > self.sender.get(env.replica, 0):
            item.fail(COVERAGE, f"seq {env.seq} is above sender_vector[{short(env.replica)}] = "
                                f"{self.sender.get(env.replica, 0)}: the header says the sender did not hold it")
        run = self.feeds.get(env.replica)
        if run is None:
            if env.seq <= b:
                item.fail(CHAIN, f"seq {env.seq} is at or below base_vector[{short(env.replica)}] = {b}: "
                                 "the bundle carries only events above its base")
            elif env.seq != b + 1:
                missing = f"seq {b + 1}" if env.seq == b + 2 else f"seqs {b + 1} … {env.seq - 1}"
                item.fail(CHAIN, f"first record of feed {short(env.replica)} has seq {env.seq}, but base_vector "
                                 f"gives {b}: {missing} not before it in the bundle")
            elif env.seq > 1:
                item.notes.append(f"prev not checked: seq {env.seq - 1} is at the base (held by the receiver, not in the bundle)")
            acc: dict[bytes, int] = {}
            exact = env.seq == 1
        else:
            if env.seq != run.last_seq + 1:
                item.fail(CHAIN, f"seq {env.seq} does not follow seq {run.last_seq} of the feed's previous record "
                                 f"(record {self.where.get((env.replica, run.last_seq), '?')})")
            elif env.prev != run.last_id:
                item.fail(CHAIN, f"prev {short(env.prev)} is not the id of seq {run.last_seq} ({short(run.last_id)})")
            if env.time <= run.last_time:
                item.notes.append(f"time {env.time} does not increase over the previous record's {run.last_time} (not a fault, 01 §Time)")
            acc, exact = run.acc_deps, run.exact
        for dep_replica, dep_seq in env.deps:
            before = acc.get(dep_replica, 0)
            if dep_seq <= before:
                kind = "accumulated" if exact else "accumulated over this feed's records in the bundle, a lower bound"
                item.fail(DEPS, f"deps entry {short(dep_replica)}:{dep_seq} did not grow ({kind}: {before})")
            if self.sender is not None and dep_seq > self.sender.get(dep_replica, 0):
                item.fail(DEPS, f"deps entry {short(dep_replica)}:{dep_seq} is above sender_vector "
                                f"({self.sender.get(dep_replica, 0)}): the sender cannot have applied this event")
            if dep_seq <= self.base.get(dep_replica, 0):
                continue
            dep_run = self.feeds.get(dep_replica)
            if dep_run is None or (dep_replica, dep_seq) not in self.where:
                self.pending.append((item, index, dep_replica, dep_seq))
        new_acc = dict(acc)
        for dep_replica, dep_seq in env.deps:
            new_acc[dep_replica] = max(new_acc.get(dep_replica, 0), dep_seq)
        if run is None:
            self.feeds[env.replica] = FeedRun(env.seq, env.seq, eid, env.time, new_acc, exact)
        else:
            run.last_seq, run.last_id, run.last_time, run.acc_deps = env.seq, eid, env.time, new_acc
        self.where.setdefault((env.replica, env.seq), index)
        info = EventInfo(env.replica, env.seq, env.type, new_acc)
        self.infos[eid.hex()] = info
        return info

    def resolve(self, complete: bool) -> None:
        """At the end of the stream: a deps entry above the base that was not an earlier record is
        either a later record (causality broken) or absent (when the stream was read completely)."""
        for item, index, dep_replica, dep_seq in self.pending:
            later = self.where.get((dep_replica, dep_seq))
            if later is not None:
                item.fail(CAUSALITY, f"deps entry {short(dep_replica)}:{dep_seq} is record {later}, after this record {index}")
            elif complete:
                item.fail(CAUSALITY, f"deps entry {short(dep_replica)}:{dep_seq} is above base_vector "
                                     f"({self.base.get(dep_replica, 0)}) but not in the bundle")
            else:
                item.notes.append(f"deps entry {short(dep_replica)}:{dep_seq} not among the records read before the read ended")


@dataclass
class BundleHeader:
    team: bytes
    sender: bytes
    sender_vector: list[tuple[bytes, int]]
    base_vector: list[tuple[bytes, int]]
    event_count: int
    format: int = BUNDLE_FORMAT
    evidence_count: int = 0  # format 2 only (05 §Layout); 0 for format 1

    @property
    def record_count(self) -> int:
        """05 §Layout: every record of the file, the trailer's count: event_count + evidence_count."""
        return self.event_count + self.evidence_count

    @property
    def count_name(self) -> str:
        """How the header's record count is named in messages."""
        return "event_count" if self.format == BUNDLE_FORMAT else "event_count + evidence_count"


def read_bundle_header(s: BundleStream, item: Item) -> Optional[BundleHeader]:
    """05 §Layout header. Returns None when the file cannot be framed past the header (bad magic,
    format neither 1 nor 2, or a vector above the limit). Ordering faults of a vector, format 2 with
    evidence_count 0 and a bad header signature make the file unusable (05 §Reading) but leave it
    framed, so the records are still checked."""
    s.capture = bytearray()
    magic = s.take(8, "header magic")
    if magic != BUNDLE_MAGIC:
        item.fail(HEADER, f"magic {magic!r} is not {BUNDLE_MAGIC!r}: not a bundle (unusable)")
        return None
    fmt = s.uint(2, "header format")
    if fmt not in (BUNDLE_FORMAT, BUNDLE_FORMAT_EVIDENCE):
        item.fail(HEADER, f"bundle format {fmt} is neither {BUNDLE_FORMAT} nor {BUNDLE_FORMAT_EVIDENCE}: "
                          "unsupported (unusable)")
        return None
    team = s.take(32, "header team")
    sender = s.take(32, "header sender")
    vectors = []
    for what in ("sender_vector", "base_vector"):
        try:
            entries, faults = read_vector(s, what)
        except VectorLimitError as exc:
            item.fail(HEADER, f"{exc} (unusable)")
            return None
        for fault in faults:
            item.fail(HEADER, f"{fault} (unusable)")
        vectors.append(entries)
    count = s.uint(8, "header event_count")
    evidence = 0
    if fmt == BUNDLE_FORMAT_EVIDENCE:
        evidence = s.uint(8, "header evidence_count")
        if evidence == 0:
            item.fail(HEADER, "format 2 with evidence_count 0: a bundle without fork evidence is format 1 "
                              "(05 §Reading: unusable)")
    signed = bytes(s.capture)
    s.capture = None
    header_sig = s.take(SIGNATURE_LEN, "header_sig")
    try:
        Ed25519PublicKey.from_public_bytes(sender).verify(header_sig, BUNDLE_CONTEXT + signed)
    except (InvalidSignature, ValueError) as exc:
        item.fail(HEADER_SIG, f"header_sig does not verify under sender {short(sender)} over "
                              f"\"GLOSS-BUNDLE-V1\" ‖ {len(signed)} header bytes ({type(exc).__name__}) (unusable)")
    item.notes.append(f"team {team.hex() if team != ZERO32 else '(all zero: no team)'}, sender {sender.hex()}")
    counts = f"event_count {count}" + (f", evidence_count {evidence}" if fmt == BUNDLE_FORMAT_EVIDENCE else "")
    item.notes.append(f"format {fmt}, sender_vector {vector_text(vectors[0])}, base_vector {vector_text(vectors[1])}, "
                      f"{counts}, header {len(signed) + SIGNATURE_LEN} bytes")
    return BundleHeader(team, sender, vectors[0], vectors[1], count, fmt, evidence)


@dataclass
class BundleResult:
    """What the expectations of bundles.json are compared with."""

    header: Optional[BundleHeader] = None
    ids: list[str] = field(default_factory=list)
    evidence_ids: list[str] = field(default_factory=list)  # format 2: the evidence records, in record order
    purged: list[int] = field(default_factory=list)
    complete: bool = False  # all event_count records were framed and read
    evidence_complete: bool = False  # and all evidence_count records after them


EARLY_TRAILER, UNFRAMEABLE = "early trailer", "unframeable"


def read_bundle_record(s: BundleStream, index: int, count: int, items: list[Item],
                       count_name: str = "event_count") -> Union[str, tuple[Item, bytes, Optional[bytes]]]:
    """05 §Layout record: envelope_len (1 … 4,194,304), envelope, payload_len (≤ 8,388,608, or
    0xFFFFFFFF for a purged payload with no bytes), payload. Returns (item, envelope, payload or None
    when purged), or EARLY_TRAILER when the trailer magic stands where a record should start, or
    UNFRAMEABLE when a length breaks its limit (the read ends: the rest cannot be framed)."""
    item = Item(f"record {index}")
    items.append(item)
    if s.peek(8) == BUNDLE_TRAILER_MAGIC:
        item.fail(FRAMING, f"trailer magic at byte {s.offset} where record {index} of {count} should start: "
                           f"the header's {count_name} {count} is larger than the records present")
        return EARLY_TRAILER
    envelope_len = s.uint(4, f"record {index} envelope_len")
    if not 1 <= envelope_len <= MAX_ENVELOPE:
        item.fail(FRAMING, f"envelope_len {envelope_len} at byte {s.offset - 4} outside 1 … {MAX_ENVELOPE}: "
                           "the read ends here (the rest cannot be framed)")
        return UNFRAMEABLE
    envelope = s.take(envelope_len, f"record {index} envelope ({envelope_len} bytes)")
    payload_len = s.uint(4, f"record {index} payload_len")
    if payload_len == PURGED:
        return item, envelope, None
    if payload_len > MAX_PAYLOAD:
        item.fail(FRAMING, f"payload_len {payload_len} at byte {s.offset - 4} above {MAX_PAYLOAD} and not the purged "
                           "marker 0xFFFFFFFF: the read ends here (the rest cannot be framed)")
        return UNFRAMEABLE
    return item, envelope, s.take(payload_len, f"record {index} payload ({payload_len} bytes)")


def read_bundle_trailer(s: BundleStream, item: Item, count: int, count_name: str = "event_count") -> None:
    """05 §Layout trailer: magic, record_count = the header's event_count + evidence_count (`count`,
    format 1: event_count), SHA-256 of every byte before the trailer; and nothing after it (05 §Layout:
    'a verifier reports trailing bytes')."""
    s.hashing = False
    digest = s.sha.digest()
    start = s.offset
    magic = s.take(8, "trailer magic")
    if magic != BUNDLE_TRAILER_MAGIC:
        item.fail(TRAILER, f"bytes {magic.hex()} at byte {start} are not the trailer magic {BUNDLE_TRAILER_MAGIC!r}: "
                           f"more records than the header's {count_name} {count}, or misframed records")
        return
    trailer_count = s.uint(8, "trailer record_count")
    if trailer_count != count:
        item.fail(TRAILER, f"trailer record_count {trailer_count} is not the header's {count_name} {count}")
    checksum = s.take(32, "trailer checksum")
    if checksum != digest:
        item.fail(CHECKSUM, f"checksum {short(checksum)} is not SHA-256 of bytes 0 … {start - 1} ({short(digest)})")
    else:
        item.notes.append(f"checksum {checksum.hex()} matches bytes 0 … {start - 1}")
    extra = s.rest_length()
    if extra:
        item.fail(TRAILER, f"{extra} byte(s) after the trailer (the file should end with it)")


def check_bundle_coverage(header: BundleHeader, checker: StreamChecker) -> Item:
    """05 §Export: `event_count` is the vector difference sender_vector − base_vector, and the event
    records of each feed run from base + 1 up to the sender's seq. Evidence records (format 2) lie at
    S[r] + 1 by design and are not part of this: `checker` holds the event records only."""
    item = Item("vectors  (records = sender_vector − base_vector, 05 §Export)")
    sender, base = dict(header.sender_vector), dict(header.base_vector)
    difference = sum(max(0, seq - base.get(replica, 0)) for replica, seq in sender.items())
    if header.event_count != difference:
        item.fail(COVERAGE, f"event_count {header.event_count} is not the vector difference {difference}")
    for replica, seq in sender.items():
        b = base.get(replica, 0)
        missing = [q for q in range(b + 1, seq + 1) if (replica, q) not in checker.where]
        if missing:
            shown = ", ".join(map(str, missing[:5])) + (f" … ({len(missing)} in all)" if len(missing) > 5 else "")
            item.fail(COVERAGE, f"feed {short(replica)}: sender_vector {seq}, base_vector {b}, but seq {shown} not in the bundle")
    for replica in checker.feeds.keys() - sender.keys():
        item.fail(COVERAGE, f"feed {short(replica)} has records but is not in sender_vector")
    return item


def check_evidence_record(item: Item, env: Envelope, eid: bytes, payload: Optional[bytes], header: BundleHeader,
                          checker: StreamChecker, previous: Optional[tuple[bytes, int, bytes]]) -> None:
    """05 §Fork evidence (format 2), for one evidence record whose envelope parsed (check_event_record
    has already checked its structure, payload and own signature — this verifier asks each evidence
    event to carry a valid signature of its own, stricter than 01 step 3 allows, since a writer signs
    every event). Checked here: its seq is S[r] + 1 or S[r] + 2 (S[r] = 0 when sender_vector does not
    name the feed: the frozen feed's head is fork_seq − 1, and the evidence is the events at the fork
    seq and the seq after it), and it comes after the previous evidence record `previous` =
    (replica, seq, id) in (replica id, seq, event id) order. Its prev, time and deps are described in
    notes (05 states no rule for them); it is not fed to `checker`."""
    sender = dict(header.sender_vector)
    held = sender.get(env.replica, 0)
    if env.seq not in (held + 1, held + 2):
        named = (f"sender_vector[{short(env.replica)}] = {held}" if env.replica in sender
                 else f"sender_vector does not name feed {short(env.replica)}")
        item.fail(EVIDENCE, f"evidence at seq {env.seq}, but {named}: fork evidence lies at seq {held + 1} or {held + 2} "
                            "(05 §Fork evidence: sender_vector[r] + 1 or + 2)")
    if previous is not None and (env.replica, env.seq, eid) <= previous:
        same = "the same event as" if (env.replica, env.seq, eid) == previous else "not after"
        item.fail(EVIDENCE, f"evidence (feed {short(env.replica)}, seq {env.seq}, id {short(eid)}) is {same} the previous "
                            f"evidence record (feed {short(previous[0])}, seq {previous[1]}, id {short(previous[2])}): evidence "
                            "records ascend by replica id, then seq, then event id (05 §Fork evidence)")
    run = checker.feeds.get(env.replica)
    below = checker.where.get((env.replica, env.seq - 1))
    if env.seq == 1:
        joins = False
    elif run is not None and run.last_seq == env.seq - 1 and run.last_id == env.prev:
        joins = True
        item.notes.append(f"prev is the id of record {below} (seq {env.seq - 1}), the last event record of the feed")
    else:
        joins = False
        where = ("not an event record of this bundle" if run is None or run.last_seq != env.seq - 1
                 else f"not the id of record {below} (seq {env.seq - 1}, {short(run.last_id)}): this key signed another seq {env.seq - 1}")
        item.notes.append(f"prev {short(env.prev)} is {where} (not checked: 05 states no rule for it)")
    if joins and run is not None and env.time <= run.last_time:
        item.notes.append(f"time {env.time} does not increase over its predecessor's {run.last_time} (not a fault, 01 §Time)")
    above = [f"{short(r)}:{q}" for r, q in env.deps if q > sender.get(r, 0)]
    if above:
        item.notes.append(f"deps entr{'ies' if len(above) > 1 else 'y'} {', '.join(above)} above sender_vector "
                          "(a receiver keeps this event pending until it holds them; 05 states no rule)")
    full = dict(run.acc_deps) if joins and run is not None else {}
    for dep_replica, dep_seq in env.deps:
        full[dep_replica] = max(full.get(dep_replica, 0), dep_seq)
    if payload is not None and not payload_fault(env, payload):
        info = EventInfo(env.replica, env.seq, env.type, full)
        reason, notes = understand_payload(env, payload, info, checker.infos.get)
        item.notes += notes
        item.notes.append(f"payload not understood within this bundle (02, not a fault): {reason}"
                          if reason else "payload understood (02)")


def check_bundle_evidence(header: BundleHeader, evidence: list[tuple[int, Envelope, bytes]], complete: bool) -> Item:
    """05 §Fork evidence (format 2), over all evidence records: per feed, the events the sender holds
    at its fork seq and the seq after it, "at least two per feed" — a feed with a single evidence
    record shows no fork. Two records at one (replica, seq) are the point, not a fault: each forked
    feed is reported in a note."""
    item = Item("evidence (fork evidence records, 05 §Fork evidence)")
    by_feed: dict[bytes, list[tuple[int, Envelope, bytes]]] = {}
    for entry in evidence:
        by_feed.setdefault(entry[1].replica, []).append(entry)
    for replica, entries in sorted(by_feed.items()):
        distinct = {eid for _, _, eid in entries}
        seqs = sorted({env.seq for _, env, _ in entries})
        records = ", ".join(f"record {index} ({short(eid)}, seq {env.seq}, prev {short(env.prev)})" for index, env, eid in entries)
        if len(distinct) < 2:
            item.fail(EVIDENCE, f"feed {short(replica)} has a single evidence event ({records}): 05 §Fork evidence "
                                "sends at least two events per forked feed; one proves no fork")
        elif len(seqs) == 1:
            item.notes.append(f"feed {short(replica)} is forked at seq {seqs[0]}: {len(distinct)} events — {records}")
        else:
            item.notes.append(f"feed {short(replica)}: evidence at seqs {seqs} (the fork seq and the seq after it) — {records}")
    if not complete:
        item.notes.append(f"{len(evidence)} of {header.evidence_count} evidence records read before the read ended")
    elif item.ok:
        item.notes.append(f"{len(evidence)} evidence records over {len(by_feed)} forked feed(s)")
    return item


def verify_bundle(path: Path, expected: Optional[dict[str, Any]] = None) -> Section:
    """--bundle: stream one bundle through every check of 05-bundle.md and 01 §Verification."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read bundle {path}: {exc}") from None
    items: list[Item] = []
    header_item, trailer_item = Item("header"), Item("trailer")
    items.append(header_item)
    result = BundleResult()
    checker: Optional[StreamChecker] = None
    chains: dict[bytes, list[tuple[Item, Envelope, bytes]]] = {}  # event records only (05: evidence stands alone)
    evidence: list[tuple[int, Envelope, bytes]] = []
    current = header_item
    with handle:
        s = BundleStream(handle)
        try:
            header = read_bundle_header(s, header_item)
            result.header = header
            if header is None:
                trailer_item.fail(TRAILER, "not reached: the header cannot be framed")
            else:
                checker = StreamChecker(dict(header.base_vector), dict(header.sender_vector))
                framed = True
                total, count_name = header.record_count, header.count_name
                for index in range(header.event_count):
                    current = None
                    record = read_bundle_record(s, index, total, items, count_name)
                    current = items[-1]
                    if isinstance(record, str):
                        framed = record == EARLY_TRAILER
                        break
                    item, envelope, payload = record
                    env, eid = check_event_record(item, envelope, payload)
                    if env is not None:
                        chains.setdefault(env.replica, []).append((item, env, eid))
                    result.ids.append(eid.hex())
                    if payload is None:
                        result.purged.append(index)
                    if env is None:
                        continue
                    if env.team != header.team:
                        item.notes.append(f"event team {short(env.team)} differs from the header team {short(header.team)} (05 does not relate them)")
                    info = checker.check(item, index, env, eid)
                    if payload is not None and not payload_fault(env, payload):
                        reason, notes = understand_payload(env, payload, info, checker.infos.get)
                        item.notes += notes
                        item.notes.append(f"payload not understood within this bundle (02, not a fault): {reason}"
                                          if reason else "payload understood (02)")
                result.complete = len(result.ids) == header.event_count
                if framed and result.complete:
                    # 05 §Fork evidence: evidence_count records after the event records, each
                    # checked on its own and kept out of the coverage and chain checks above.
                    previous: Optional[tuple[bytes, int, bytes]] = None
                    for number in range(header.evidence_count):
                        index = header.event_count + number
                        current = None
                        record = read_bundle_record(s, index, total, items, count_name)
                        current = items[-1]
                        current.label = f"record {index} (evidence {number})"
                        if isinstance(record, str):
                            framed = record == EARLY_TRAILER
                            break
                        item, envelope, payload = record
                        env, eid = check_event_record(item, envelope, payload)
                        result.evidence_ids.append(eid.hex())
                        if payload is None:
                            result.purged.append(index)
                        if env is None:
                            continue
                        check_evidence_record(item, env, eid, payload, header, checker, previous)
                        evidence.append((index, env, eid))
                        previous = (env.replica, env.seq, eid)
                    result.evidence_complete = len(result.evidence_ids) == header.evidence_count
                current = trailer_item
                if framed:
                    read_bundle_trailer(s, trailer_item, total, count_name)
                else:
                    trailer_item.fail(TRAILER, "not reached: the read ended at an unframeable record; checksum not checked")
        except Truncated as exc:
            target = current if current is not None else items[-1]
            target.fail(TRUNCATED, f"{exc}: the file is cut short")
            if target is not trailer_item:
                trailer_item.fail(TRUNCATED, f"not reached (the file is {s.offset + len(s.buffer)} bytes); checksum not checked")
    for entries in chains.values():
        vouch_chains(entries)
    if checker is not None:
        checker.resolve(result.complete)
    items.append(trailer_item)
    if result.complete and result.header is not None and checker is not None:
        items.append(check_bundle_coverage(result.header, checker))
    if result.header is not None and result.header.evidence_count and result.complete:
        items.append(check_bundle_evidence(result.header, evidence, result.evidence_complete))
    if expected is not None:
        items.append(compare_bundle_expectations(expected, result))
    header = result.header
    if header is None:
        declared = "? events declared"
    elif header.format == BUNDLE_FORMAT:
        declared = f"{header.event_count} events declared"
    else:
        declared = f"format {header.format}: {header.event_count} events and {header.evidence_count} evidence records declared"
    title = f"Gloss bundle: {path} ({declared}, {len(result.ids) + len(result.evidence_ids)} records read)"
    return Section(title, items, f"bundle {path.name}")


def compare_bundle_expectations(expected: dict[str, Any], result: BundleResult) -> Item:
    """vectors/bundles.json: sender, senderVector, baseVector, eventCount, eventIds (in record order),
    evidenceCount and evidenceIds (format 2, in record order; absent: 0 and []) and purgedPayloads
    (0-based record indices) must equal what was read."""
    item = Item("expected (bundles.json: sender, vectors, counts, ids, evidence, purged records)")
    header = result.header
    if header is None:
        item.fail(EXPECTED, "the header could not be read")
        return item

    def as_vector(value: Any) -> dict[str, int]:
        if not isinstance(value, dict):
            raise InputError(f"bundles.json: a vector is not an object: {value!r}")
        return {str(k).lower(): v for k, v in value.items()}

    try:
        checks = [
            ("sender", expected["sender"].lower(), header.sender.hex()),
            ("senderVector", as_vector(expected["senderVector"]), {r.hex(): s for r, s in header.sender_vector}),
            ("baseVector", as_vector(expected["baseVector"]), {r.hex(): s for r, s in header.base_vector}),
            ("eventCount", expected["eventCount"], header.event_count),
            ("eventIds", [str(x).lower() for x in expected["eventIds"]], result.ids),
            ("evidenceCount", expected.get("evidenceCount", 0), header.evidence_count),
            ("evidenceIds", [str(x).lower() for x in expected.get("evidenceIds", [])], result.evidence_ids),
            ("purgedPayloads", sorted(expected.get("purgedPayloads", [])), result.purged),
        ]
    except (KeyError, AttributeError, TypeError, InputError) as exc:
        item.fail(EXPECTED, f"malformed bundles.json entry: {type(exc).__name__}: {exc}")
        return item
    for name, stated, actual in checks:
        if stated != actual:
            item.fail(EXPECTED, f"{name}: bundles.json says {stated!r}, the bundle gives {actual!r}")
    if item.ok:
        item.notes.append(f"{len(result.ids)} event ids, {len(result.evidence_ids)} evidence ids, "
                          f"purged records {result.purged}: as stated")
    return item


def bundle_sections(paths: list[Path]) -> list[Section]:
    """--bundle FILE …: a `.json` file is a bundles description (vectors/bundles.json) and every bundle
    it lists is checked against it; any other file is a bundle, checked against the `bundles.json`
    beside it when that lists the file's name."""
    sections = []
    for path in paths:
        if path.suffix == ".json":
            listed = read_json_object(path, "bundle descriptions", ("bundles",))["bundles"]
            try:
                entries = [(path.parent / entry["file"], entry) for entry in listed]
            except (KeyError, TypeError) as exc:
                raise InputError(f"cannot read bundle descriptions {path}: {exc}") from None
            for bundle_path, entry in entries:
                sections.append(verify_bundle(bundle_path, entry))
            continue
        expected = None
        description = path.parent / "bundles.json"
        if description.is_file():
            try:
                listed = json.loads(description.read_text(encoding="utf-8")).get("bundles", [])
                expected = next((e for e in listed if isinstance(e, dict) and e.get("file") == path.name), None)
            except (OSError, ValueError, AttributeError):
                expected = None
        section = verify_bundle(path, expected)
        if expected is not None:
            section.title += f", expectations from {description}"
        sections.append(section)
    return sections


# ---------------------------------------------------------------------------------------------
# --wire: 07-wire.md
# ---------------------------------------------------------------------------------------------

WIRE_MAGIC = b"GLOSSNET"
WIRE_VERSION = 1
WIRE_CONTEXT = b"GLOSS-WIRE-V1"
WIRE_AUTH_CONTEXT = b"GLOSS-WIRE-AUTH-V1"
INFO_I2R = b"gloss initiator to responder"
INFO_R2I = b"gloss responder to initiator"
MAX_BATCH = 10_000
MAX_FRAME = 16_777_216
MAX_ERROR_REASON = 1000
TAG_LEN = 16
MAX_HEADS = 100_000
MESSAGE_NAMES = {1: "key exchange", 2: "hello", 3: "batch", 4: "done", 5: "ack", 6: "error", 7: "progress", 8: "heads"}


@dataclass
class Message:
    """A decoded message of 07 §Messages; `fields` depends on the type."""

    type: int
    fields: dict[str, Any]
    faults: list[str]  # rule breaks that still let the message be framed (vector order, …)


def decode_message(data: bytes) -> Message:
    """07 §Messages: decode one (plaintext or decrypted) message by its type byte. Raises
    StructureError when it cannot be framed or breaks a limit; nothing may follow the body."""
    r = _Reader(data)
    kind = r.uint(1, "type")
    fields: dict[str, Any] = {}
    faults: list[str] = []

    def vector(what: str) -> list[tuple[bytes, int]]:
        try:
            entries, problems = read_vector(r, what)
        except VectorLimitError as exc:
            raise StructureError(str(exc)) from None
        faults.extend(problems)
        return entries

    if kind == 1:
        magic = r.take(8, "magic")
        if magic != WIRE_MAGIC:
            raise StructureError(f"magic {magic!r} is not {WIRE_MAGIC!r}")
        fields["version"] = r.uint(2, "version")
        fields["ephemeral"] = r.take(32, "ephemeral public key")
        fields["challenge"] = r.take(32, "challenge")
    elif kind == 2:
        fields["version"] = r.uint(2, "version")
        fields["team"] = r.take(32, "team")
        fields["replica"] = r.take(32, "replica")
        fields["flags"] = r.uint(1, "flags")
        fields["vector"] = vector("vector")
        fields["signed_end"] = r.pos
        fields["signature"] = r.take(SIGNATURE_LEN, "signature")
    elif kind == 3:
        count = r.uint(4, "count")
        if count > MAX_BATCH:
            raise StructureError(f"batch count {count} above {MAX_BATCH}")
        records = []
        for k in range(count):
            envelope_len = r.uint(4, f"records[{k}].envelope_len")
            if not 1 <= envelope_len <= MAX_ENVELOPE:
                raise StructureError(f"records[{k}].envelope_len {envelope_len} outside 1 … {MAX_ENVELOPE}")
            envelope = r.take(envelope_len, f"records[{k}].envelope")
            payload_len = r.uint(4, f"records[{k}].payload_len")
            if payload_len != PURGED and payload_len > MAX_PAYLOAD:
                raise StructureError(f"records[{k}].payload_len {payload_len} above {MAX_PAYLOAD}")
            payload = None if payload_len == PURGED else r.take(payload_len, f"records[{k}].payload")
            records.append((envelope, payload))
        fields["records"] = records
    elif kind == 4:
        fields["sent"] = r.uint(8, "events sent")
        fields["vector"] = vector("vector")
    elif kind in (5, 7):
        fields["vector"] = vector("vector")
    elif kind == 6:
        fields["code"] = r.uint(2, "code")
        length = r.uint(2, "reason length")
        if length > MAX_ERROR_REASON:
            raise StructureError(f"reason length {length} above {MAX_ERROR_REASON}")
        try:
            fields["reason"] = r.take(length, "reason").decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            raise StructureError("reason is not valid UTF-8") from None
    elif kind == 8:
        last = r.uint(1, "last")
        if last > 1:
            raise StructureError(f"heads `last` is {last}, not 0 or 1")
        count = r.uint(4, "count")
        if count > MAX_HEADS:
            raise StructureError(f"heads count {count} above {MAX_HEADS}")
        entries = []
        for k in range(count):
            replica = r.take(32, f"entries[{k}].replica")
            seq = r.uint(8, f"entries[{k}].seq")
            if not 1 <= seq <= MAX_SEQ:
                raise StructureError(f"entries[{k}].seq {seq} outside 1 … 2^63 − 1")
            if entries and not entries[-1][0] < replica:
                raise StructureError(f"entries[{k}] is not strictly above the one before it by replica")
            entries.append((replica, seq, r.take(32, f"entries[{k}].id")))
        fields["last"] = bool(last)
        fields["entries"] = entries
    else:
        raise StructureError(f"unknown message type {kind}")
    if r.remaining():
        raise StructureError(f"{r.remaining()} byte(s) after the {MESSAGE_NAMES[kind]} body")
    return Message(kind, fields, faults)


def x25519_public(private: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(private).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def hkdf32(shared: bytes, salt: bytes, info: bytes) -> bytes:
    """07 §Channel: HKDF-SHA256(ikm = shared, salt = transcript, info, 32 bytes)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(shared)


def frame_nonce(n: int) -> bytes:
    """07 §Channel: the nth sealed frame of a direction uses 00000000 ‖ u64 n (big-endian)."""
    return bytes(4) + n.to_bytes(8, "big")


def hello_message_to_sign(transcript: bytes, role: int, hello: bytes, signed_end: int) -> bytes:
    """07 §Hello: "GLOSS-WIRE-AUTH-V1" ‖ transcript ‖ role ‖ hello fields, where the hello fields are
    the body after the type byte and before the signature (the reading the vectors confirm)."""
    return WIRE_AUTH_CONTEXT + transcript + bytes([role]) + hello[1:signed_end]


class WireVectors:
    """Access to vectors/wire.json with the failures reported on the item that needs a value."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def hex(self, *keys: str, length: Optional[int] = None) -> bytes:
        value: Any = self.data
        for key in keys:
            if not isinstance(value, dict) or key not in value:
                raise InputError(f"wire.json has no `{'.'.join(keys)}`")
            value = value[key]
        try:
            raw = bytes.fromhex(value)
        except (TypeError, ValueError):
            raise InputError(f"wire.json `{'.'.join(keys)}` is not hex") from None
        if length is not None and len(raw) != length:
            raise InputError(f"wire.json `{'.'.join(keys)}` is {len(raw)} bytes, not {length}")
        return raw


def wire_item(items: list[Item], label: str, check: Callable[[Item], None]) -> Item:
    """Run one wire check; a missing or malformed vector value fails the item instead of stopping."""
    item = Item(label)
    try:
        check(item)
    except StructureError as exc:
        item.fail(MESSAGE, f"does not decode under 07 §Messages: {exc}")
    except (InputError, ValueError, KeyError, TypeError) as exc:
        item.fail("vector", f"{type(exc).__name__}: {exc}")
    items.append(item)
    return item


def verify_wire(path: Path) -> Section:
    """--wire: reproduce vectors/wire.json from its seeds, ephemeral keys and challenges (07-wire.md)."""
    v = WireVectors(read_json_object(path, "wire vectors"))
    items: list[Item] = []
    st: dict[str, Any] = {}  # values derived by earlier checks

    # Identities and ephemeral keys.
    for side in ("initiator", "responder"):
        def keys(item: Item, side: str = side) -> None:
            seed, replica = v.hex(side, "seed", length=32), v.hex(side, "replica", length=32)
            derived = public_key_of_seed(seed)
            if derived != replica:
                item.fail(SIGNATURE, f"seed gives Ed25519 public key {short(derived)}, not the stated replica {short(replica)}")
            st[f"{side}.replica"] = replica
            st[f"{side}.seed"] = seed
            st[f"{side}.ephemeral"] = x25519_public(v.hex(side, "ephemeralPrivate", length=32))
            st[f"{side}.challenge"] = v.hex(side, "challenge", length=32)
            item.notes.append(f"replica {replica.hex()}, ephemeral X25519 public {st[f'{side}.ephemeral'].hex()}")
        wire_item(items, f"keys     {side}: seed → replica, ephemeral private → public", keys)

    # Key exchange messages (07 §Messages type 1), byte for byte.
    for side, name in (("initiator", "keyExchangeInitiator"), ("responder", "keyExchangeResponder")):
        def key_exchange(item: Item, side: str = side, name: str = name) -> None:
            stated = v.hex("messages", name)
            st[name] = stated
            rebuilt = (bytes([1]) + WIRE_MAGIC + WIRE_VERSION.to_bytes(2, "big")
                       + st[f"{side}.ephemeral"] + st[f"{side}.challenge"])
            if rebuilt != stated:
                item.fail(WIRE, f"rebuilt message differs from the vector: {first_difference(rebuilt, stated)}")
            message = decode_message(stated)
            if message.type != 1:
                item.fail(MESSAGE, f"type {message.type}, not 1 (key exchange)")
            elif message.fields["version"] != WIRE_VERSION:
                item.fail(MESSAGE, f"version {message.fields['version']}, not {WIRE_VERSION}")
            item.notes.append(f"{len(stated)} bytes, decoded: type 1, \"GLOSSNET\", version {message.fields.get('version')}")
        wire_item(items, f"message  {name} (type 1, rebuilt from ephemeral key and challenge)", key_exchange)

    def transcript(item: Item) -> None:
        kx_i, kx_r = st["keyExchangeInitiator"], st["keyExchangeResponder"]
        computed = hashlib.sha256(WIRE_CONTEXT + kx_i + kx_r).digest()
        stated = v.hex("messages", "transcriptHash", length=32)
        if computed != stated:
            item.fail(WIRE, f"SHA-256(\"GLOSS-WIRE-V1\" ‖ KX_i ‖ KX_r) = {computed.hex()}, the vector says {stated.hex()}")
        st["transcript"] = computed
    wire_item(items, "channel  transcriptHash = SHA-256(\"GLOSS-WIRE-V1\" ‖ KX_i ‖ KX_r)", transcript)

    def session_keys(item: Item) -> None:
        i_private = X25519PrivateKey.from_private_bytes(v.hex("initiator", "ephemeralPrivate", length=32))
        r_private = X25519PrivateKey.from_private_bytes(v.hex("responder", "ephemeralPrivate", length=32))
        peer_of_i = X25519PublicKey.from_public_bytes(decode_message(st["keyExchangeResponder"]).fields["ephemeral"])
        peer_of_r = X25519PublicKey.from_public_bytes(decode_message(st["keyExchangeInitiator"]).fields["ephemeral"])
        shared_i, shared_r = i_private.exchange(peer_of_i), r_private.exchange(peer_of_r)
        if shared_i != shared_r:
            item.fail(WIRE, "the two sides compute different X25519 shared secrets")
        keys = {}
        for side, shared in (("initiator", shared_i), ("responder", shared_r)):
            keys[side] = (hkdf32(shared, st["transcript"], INFO_I2R), hkdf32(shared, st["transcript"], INFO_R2I))
        if keys["initiator"] != keys["responder"]:
            item.fail(WIRE, "the two sides derive different session keys")
        st["k_i2r"], st["k_r2i"] = keys["initiator"]
        if st["k_i2r"] == st["k_r2i"]:
            item.fail(WIRE, "k_i→r equals k_r→i")
        item.notes.append(f"shared {shared_i.hex()}")
        item.notes.append(f"k_i→r {st['k_i2r'].hex()}  (HKDF-SHA256, salt = transcript, info \"{INFO_I2R.decode()}\")")
        item.notes.append(f"k_r→i {st['k_r2i'].hex()}  (HKDF-SHA256, salt = transcript, info \"{INFO_R2I.decode()}\")")
        item.notes.append("wire.json states no session keys: they are confirmed by the sealed frames below")
    wire_item(items, "channel  session keys (X25519 both ways, HKDF-SHA256 both directions)", session_keys)

    # Plaintext hellos (type 2): decode, verify, re-sign.
    for side, role, name in (("initiator", 0, "helloInitiatorPlain"), ("responder", 1, "helloResponderPlain")):
        def hello(item: Item, side: str = side, role: int = role, name: str = name) -> None:
            raw = v.hex("messages", name)
            st[name] = raw
            message = decode_message(raw)
            if message.type != 2:
                item.fail(MESSAGE, f"type {message.type}, not 2 (hello)")
                return
            f = message.fields
            for fault in message.faults:
                item.fail(MESSAGE, fault)
            if f["version"] != WIRE_VERSION:
                item.fail(MESSAGE, f"version {f['version']}, not {WIRE_VERSION}")
            if f["replica"] != st[f"{side}.replica"]:
                item.fail(MESSAGE, f"names replica {short(f['replica'])}, not the {side}'s {short(st[f'{side}.replica'])}")
            if f["flags"] & ~3:
                item.notes.append(f"flags {f['flags']:#04x} set bits other than 0 and 1 (07 defines only those)")
            signed = hello_message_to_sign(st["transcript"], role, raw, f["signed_end"])
            try:
                Ed25519PublicKey.from_public_bytes(f["replica"]).verify(f["signature"], signed)
            except (InvalidSignature, ValueError):
                item.fail(SIGNATURE, "signature does not verify under the hello's replica over "
                                     f"\"GLOSS-WIRE-AUTH-V1\" ‖ transcript ‖ {role} ‖ hello fields")
            resigned = Ed25519PrivateKey.from_private_bytes(st[f"{side}.seed"]).sign(signed)
            if resigned != f["signature"]:
                item.fail(SIGNATURE, f"re-signing with the {side}'s seed gives another signature: {first_difference(resigned, f['signature'])}")
            other = hello_message_to_sign(st["transcript"], 1 - role, raw, f["signed_end"])
            try:
                Ed25519PublicKey.from_public_bytes(f["replica"]).verify(f["signature"], other)
                item.fail(SIGNATURE, f"the signature also verifies for role {1 - role}: the role is not bound")
            except (InvalidSignature, ValueError):
                pass
            st[f"{side}.hello"] = f
            item.notes.append(f"version {f['version']}, team {'zero' if f['team'] == ZERO32 else short(f['team'])}, "
                              f"replica {short(f['replica'])}, flags {f['flags']} (wants events: {bool(f['flags'] & 1)}, "
                              f"offers heads: {bool(f['flags'] & 2)}), "
                              f"vector {vector_text(f['vector'])}; signature verifies and re-signs identically")
        wire_item(items, f"message  {name} (type 2, role {role})", hello)

    def batch(item: Item) -> None:
        raw = v.hex("messages", "batchPlain")
        st["batchPlain"] = raw
        message = decode_message(raw)
        if message.type != 3:
            item.fail(MESSAGE, f"type {message.type}, not 3 (batch)")
            return
        records = message.fields["records"]
        responder_hello = st.get("responder.hello")
        base = dict(responder_hello["vector"]) if responder_hello else {}
        checker = StreamChecker(base, None)
        for k, (envelope, payload) in enumerate(records):
            sub = Item("")
            env, eid = check_event_record(sub, envelope, payload)
            if env is not None:
                checker.check(sub, k, env, eid)
                if payload is not None and not payload_fault(env, payload):
                    reason, _ = understand_payload(env, payload, checker.infos[eid.hex()], checker.infos.get)
                    sub.notes.append(f"payload not understood (02): {reason}" if reason else "payload understood (02)")
                if env.replica != st.get("initiator.replica"):
                    sub.notes.append("event of another replica than the initiator (forwarded)")
            item.faults += [f"records[{k}]: {fault}" for fault in sub.faults]
            item.notes.append(f"records[{k}]{sub.label}; {'; '.join(sub.notes) or 'verified'}")
        checker.resolve(False)
        st["batch.count"] = len(records)
        st["batch.runs"] = {r: run.last_seq for r, run in checker.feeds.items()}
        item.notes.append(f"{len(records)} record(s) (≤ {MAX_BATCH}); chain and deps checked against the responder's hello vector")
    wire_item(items, "message  batchPlain (type 3: count, records as in a bundle)", batch)

    def done(item: Item) -> None:
        message = decode_message(v.hex("messages", "donePlain"))
        if message.type != 4:
            item.fail(MESSAGE, f"type {message.type}, not 4 (done)")
            return
        for fault in message.faults:
            item.fail(MESSAGE, fault)
        f = message.fields
        item.notes.append(f"events sent {f['sent']}, vector {vector_text(f['vector'])}")
        if "batch.count" in st and f["sent"] != st["batch.count"]:
            item.notes.append(f"consistency: done says {f['sent']} events sent, batchPlain carries {st['batch.count']}")
        hello_i = st.get("initiator.hello")
        if hello_i and dict(f["vector"]) != dict(hello_i["vector"]):
            item.notes.append(f"consistency: done's vector differs from the initiator's hello vector {vector_text(hello_i['vector'])}")
        if hello_i and "batch.runs" in st:
            responder_vector = dict(st["responder.hello"]["vector"]) if st.get("responder.hello") else {}
            owed = sum(max(0, seq - responder_vector.get(r, 0)) for r, seq in dict(f["vector"]).items())
            if owed != f["sent"]:
                item.notes.append(f"consistency (not a fault, the vectors need not be one real session): the initiator's "
                                  f"vector {vector_text(f['vector'])} minus the responder's hello vector "
                                  f"{vector_text(responder_vector)} is {owed} event(s), but done says {f['sent']} sent")
    wire_item(items, "message  donePlain (type 4: events sent, vector)", done)

    def ack(item: Item) -> None:
        message = decode_message(v.hex("messages", "ackPlain"))
        if message.type != 5:
            item.fail(MESSAGE, f"type {message.type}, not 5 (ack)")
            return
        for fault in message.faults:
            item.fail(MESSAGE, fault)
        vector = dict(message.fields["vector"])
        item.notes.append(f"vector {vector_text(vector)}")
        runs = st.get("batch.runs")
        if runs is not None and any(vector.get(r, 0) < seq for r, seq in runs.items()):
            item.notes.append(f"consistency: the ack does not cover the batch's events {vector_text(runs)}")
    wire_item(items, "message  ackPlain (type 5: vector)", ack)

    def error(item: Item) -> None:
        message = decode_message(v.hex("messages", "errorPlain"))
        if message.type != 6:
            item.fail(MESSAGE, f"type {message.type}, not 6 (error)")
            return
        item.notes.append(f"code {message.fields['code']}, reason {message.fields['reason']!r} "
                          "(07 defines no error codes: the code is not checked)")
    wire_item(items, "message  errorPlain (type 6: code, reason)", error)

    def progress(item: Item) -> None:
        message = decode_message(v.hex("messages", "progressPlain"))
        if message.type != 7:
            item.fail(MESSAGE, f"type {message.type}, not 7 (progress)")
            return
        for fault in message.faults:
            item.fail(MESSAGE, fault)
        item.notes.append(f"vector {vector_text(dict(message.fields['vector']))}")
    wire_item(items, "message  progressPlain (type 7: vector)", progress)

    def heads(item: Item) -> None:
        message = decode_message(v.hex("messages", "headsPlain"))
        if message.type != 8:
            item.fail(MESSAGE, f"type {message.type}, not 8 (heads)")
            return
        entries = message.fields["entries"]
        # 07 §Heads: the id of the event the sender holds at each seq where both vectors agree.
        # The vectors' initiator holds the batch's event at (its replica, 1): its heads name it.
        records = decode_message(v.hex("messages", "batchPlain")).fields["records"]
        held = {}
        for envelope, _ in records:
            try:
                env = parse_envelope(envelope)
            except StructureError:
                continue
            held[(env.replica, env.seq)] = event_id(envelope)
        if not any((r, s) in held for r, s, _ in entries):
            item.fail(MESSAGE, "names no (replica, seq) of the batch's event: the vectors' session holds (initiator, 1)")
        for replica, seq, named in entries:
            if (replica, seq) in held and held[(replica, seq)] != named:
                item.fail(MESSAGE, f"names id {short(named)} at ({short(replica)}, {seq}), where the batch's event is {short(held[(replica, seq)])}")
        item.notes.append(f"last {message.fields['last']}, {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}: "
                          + ", ".join(f"({short(r)}, {s}) → {short(i)}" for r, s, i in entries))
    wire_item(items, "message  headsPlain (type 8: last, count, (replica, seq, id) ascending)", heads)

    # Sealed frames: re-seal exactly, open with the right key and counter only.
    frames = (("initiator0Hello", "k_i2r", 0, "helloInitiatorPlain", 2),
              ("responder0Hello", "k_r2i", 0, "helloResponderPlain", 2),
              ("initiator1Batch", "k_i2r", 1, "batchPlain", 3),
              ("initiator2Done", "k_i2r", 2, "donePlain", 4),
              ("responder1Ack", "k_r2i", 1, "ackPlain", 5),
              ("responder2Done", "k_r2i", 2, "responderDonePlain", 4))
    for name, key_name, counter, plain_name, kind in frames:
        def frame(item: Item, name: str = name, key_name: str = key_name, counter: int = counter,
                  plain_name: str = plain_name, kind: int = kind) -> None:
            sealed = v.hex("frames", name)
            plain = v.hex("messages", plain_name)
            if len(sealed) > MAX_FRAME:
                item.fail(WIRE, f"frame of {len(sealed)} bytes above {MAX_FRAME}")
            key = st[key_name]
            aead = ChaCha20Poly1305(key)
            resealed = aead.encrypt(frame_nonce(counter), plain, None)
            if resealed != sealed:
                item.fail(WIRE, f"sealing {plain_name} with {key_name} and nonce counter {counter} does not give "
                                f"the vector's frame: {first_difference(resealed, sealed)}")
            try:
                opened = aead.decrypt(frame_nonce(counter), sealed, None)
            except InvalidTag:
                item.fail(WIRE, f"does not open with {key_name} and nonce counter {counter}")
                return
            if opened != plain:
                item.fail(WIRE, f"opens to another plaintext than {plain_name}: {first_difference(opened, plain)}")
            if opened[:1] != bytes([kind]):
                item.fail(MESSAGE, f"decrypted message has type {opened[:1].hex()}, not {kind}")
            decode_message(opened)
            other_key = st["k_r2i" if key_name == "k_i2r" else "k_i2r"]
            wrong = [("the other direction's key", other_key, counter), ("nonce counter + 1", key, counter + 1)]
            if counter:
                wrong.append(("nonce counter − 1", key, counter - 1))
            for label, bad_key, bad_counter in wrong:
                try:
                    ChaCha20Poly1305(bad_key).decrypt(frame_nonce(bad_counter), sealed, None)
                    item.fail(WIRE, f"also opens with {label}")
                except InvalidTag:
                    pass
            item.notes.append(f"{len(sealed)} bytes = {len(plain)} + {TAG_LEN}-byte tag; nonce {frame_nonce(counter).hex()}; "
                              f"re-sealed identically, opens to {plain_name} ({MESSAGE_NAMES[kind]}); "
                              "refused under the other key and neighbouring counters")
        direction = "i→r" if key_name == "k_i2r" else "r→i"
        wire_item(items, f"frame    {name} (k_{direction}, n = {counter}, {plain_name})", frame)

    return Section(f"Gloss wire vectors: {path} (07-wire.md)", items, f"wire {path.name}")


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


# --- 05 §Encrypted bundles ---------------------------------------------------------------------

ENC_MAGIC = b"GLOSSENC"
ENC_CONTEXT = b"GLOSS-BUNDLE-ENC-V1"
ENC_INFO = b"GLOSS-BUNDLE-ENC-V1 content key"
ENC_CHUNK = 65536
P25519 = 2**255 - 19
D25519 = (-121665 * pow(121666, P25519 - 2, P25519)) % P25519


def x25519_of_replica(replica: bytes) -> bytes:
    """05 §Keys: the Edwards y of the id mapped to Montgomery u = (1 + y)/(1 − y) mod p."""
    y = int.from_bytes(replica, "little") & ((1 << 255) - 1)
    if y >= P25519:
        raise ValueError("y is not below p")
    x2 = (y * y - 1) * pow(D25519 * y * y + 1, P25519 - 2, P25519) % P25519
    if pow(x2, (P25519 - 1) // 2, P25519) not in (0, 1):
        raise ValueError("not a point of Ed25519")
    u = (1 + y) * pow((1 - y) % P25519, P25519 - 2, P25519) % P25519
    return u.to_bytes(32, "little")


def x25519_private_of_seed(seed: bytes) -> bytes:
    k = bytearray(hashlib.sha512(seed).digest()[:32])
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    return bytes(k)


def _hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    import hmac
    return hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()


def _hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    import hmac
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def hpke_base_key_nonce(dh: bytes, enc: bytes, pk_r: bytes, info: bytes) -> tuple[bytes, bytes]:
    """RFC 9180 §4.1 and §5.1, base mode, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20-Poly1305."""
    kem = b"KEM" + (0x20).to_bytes(2, "big")
    suite = b"HPKE" + (0x20).to_bytes(2, "big") + (1).to_bytes(2, "big") + (3).to_bytes(2, "big")
    def extract(salt: bytes, label: bytes, ikm: bytes, sid: bytes) -> bytes:
        return _hkdf_extract(salt, b"HPKE-v1" + sid + label + ikm)
    def expand(prk: bytes, label: bytes, inf: bytes, n: int, sid: bytes) -> bytes:
        return _hkdf_expand(prk, n.to_bytes(2, "big") + b"HPKE-v1" + sid + label + inf, n)
    shared = expand(extract(b"", b"eae_prk", dh, kem), b"shared_secret", enc + pk_r, 32, kem)
    context = b"\x00" + extract(b"", b"psk_id_hash", b"", suite) + extract(b"", b"info_hash", info, suite)
    secret = extract(shared, b"secret", b"", suite)
    return expand(secret, b"key", context, 32, suite), expand(secret, b"base_nonce", context, 12, suite)


def verify_encrypted(path: Path) -> Section:
    """--encrypted: rebuild vectors/bundle-encrypted.glossb from bundles-encrypted.json (05 §Encrypted bundles)."""
    v = read_json_object(path, "encrypted bundle vectors")
    items: list[Item] = []
    st: dict[str, Any] = {}
    folder = path.parent

    def keys(item: Item) -> None:
        st["keys"] = {}
        for k in v["keys"]:
            seed, replica = bytes.fromhex(k["seed"]), bytes.fromhex(k["replica"])
            if public_key_of_seed(seed) != replica:
                item.fail("keys", f"{k['name']}: the seed does not give the replica id")
            pub, priv = x25519_of_replica(replica), x25519_private_of_seed(seed)
            if pub.hex() != k["x25519Public"] or priv.hex() != k["x25519Private"]:
                item.fail("keys", f"{k['name']}: derived X25519 keys differ from the vector")
            if x25519_public(priv) != pub:
                item.fail("keys", f"{k['name']}: the converted public key is not the derived private key's")
            try:
                import nacl.bindings as sodium  # optional cross-check against libsodium
                if sodium.crypto_sign_ed25519_pk_to_curve25519(replica) != pub:
                    item.fail("keys", f"{k['name']}: libsodium converts the id differently")
                if sodium.crypto_sign_ed25519_sk_to_curve25519(seed + replica) != priv:
                    item.fail("keys", f"{k['name']}: libsodium derives another private key")
                st["sodium"] = True
            except ImportError:
                st["sodium"] = False
            st["keys"][replica] = (seed, priv, pub, k["name"])
        item.notes.append(f"{len(v['keys'])} keys; libsodium cross-check: {'yes (PyNaCl)' if st['sodium'] else 'skipped (no PyNaCl)'}")
    wire_item(items, "keys     seed → replica id → X25519 public; seed → X25519 private (05 §Keys)", keys)

    def rebuild(item: Item) -> None:
        data = (folder / v["file"]).read_bytes()
        inner = (folder / v["inner"]).read_bytes()
        if hashlib.sha256(inner).hexdigest() != v["innerSHA256"]:
            item.fail("vector", "the inner file's SHA-256 differs from innerSHA256")
        sender = bytes.fromhex(v["sender"])
        content_key = bytes.fromhex(v["contentKey"])
        recips = sorted(v["recipients"], key=lambda r: r["replica"])
        prefix = ENC_MAGIC + (1).to_bytes(2, "big") + bytes(32) + sender + len(recips).to_bytes(2, "big")
        table = b""
        for r in recips:
            rid = bytes.fromhex(r["replica"])
            eph = X25519PrivateKey.from_private_bytes(bytes.fromhex(r["ephemeralPrivate"]))
            pk_r = x25519_of_replica(rid)
            enc = eph.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            dh = eph.exchange(X25519PublicKey.from_public_bytes(pk_r))
            key, nonce = hpke_base_key_nonce(dh, enc, pk_r, ENC_INFO)
            wrapped = ChaCha20Poly1305(key).encrypt(nonce, content_key, prefix + rid)
            table += rid + enc + wrapped
        seed = st["keys"][sender][0]
        signature = Ed25519PrivateKey.from_private_bytes(seed).sign(ENC_CONTEXT + prefix + table)
        body = b""
        pieces = [inner[i:i + ENC_CHUNK] for i in range(0, len(inner), ENC_CHUNK)] or [b""]
        for i, piece in enumerate(pieces):
            nonce = i.to_bytes(11, "big") + (b"\x01" if i == len(pieces) - 1 else b"\x00")
            body += ChaCha20Poly1305(content_key).encrypt(nonce, piece, None)
        rebuilt = prefix + table + signature + body
        if rebuilt != data:
            item.fail("bundle", f"rebuilt file differs from {v['file']}: {first_difference(rebuilt, data)}")
        st["data"], st["prefix"], st["inner"] = data, prefix, inner
        item.notes.append(f"{len(data)} bytes: header {len(prefix) + len(table) + 64}, {len(pieces)} chunk(s)")
    wire_item(items, "file     rebuilt byte for byte (HPKE SealBase with the fixed ephemeral keys, Ed25519, STREAM chunks)", rebuild)

    def open_as_each(item: Item) -> None:
        data, prefix = st["data"], st["prefix"]
        count = int.from_bytes(data[74:76], "big")
        sender = data[42:74]
        table_end = 76 + 112 * count
        try:
            Ed25519PublicKey.from_public_bytes(sender).verify(data[table_end:table_end + 64], ENC_CONTEXT + data[:table_end])
        except InvalidSignature:
            item.fail("bundle", "header_sig does not verify")
        entries = {data[76 + 112 * i:108 + 112 * i]: data[108 + 112 * i:188 + 112 * i] for i in range(count)}
        for replica, (_seed, priv, pub, name) in st["keys"].items():
            if replica not in entries:
                item.notes.append(f"{name}: not a recipient (refused)")
                continue
            enc, wrapped = entries[replica][:32], entries[replica][32:]
            dh = X25519PrivateKey.from_private_bytes(priv).exchange(X25519PublicKey.from_public_bytes(enc))
            key, nonce = hpke_base_key_nonce(dh, enc, pub, ENC_INFO)
            try:
                content_key = ChaCha20Poly1305(key).decrypt(nonce, wrapped, prefix + replica)
            except InvalidTag:
                item.fail("bundle", f"{name}: the wrapped key does not open")
                continue
            rest, inner, i = data[table_end + 64:], b"", 0
            while rest:
                last = len(rest) <= ENC_CHUNK + 16
                n = len(rest) if last else ENC_CHUNK + 16
                try:
                    inner += ChaCha20Poly1305(content_key).decrypt(i.to_bytes(11, "big") + (b"\x01" if last else b"\x00"), rest[:n], None)
                except InvalidTag:
                    item.fail("bundle", f"{name}: chunk {i + 1} does not authenticate")
                    break
                rest, i = rest[n:], i + 1
            if inner != st["inner"]:
                item.fail("bundle", f"{name}: the decrypted inner bundle differs from {v['inner']}")
            item.notes.append(f"{name}: opened, {len(inner)} inner bytes")
    wire_item(items, "open     as each key: recipients decrypt the inner bundle, the outsider is not listed", open_as_each)
    return Section(f"Encrypted bundle vectors {path}", items, "encrypted")


def main(argv: Optional[list[str]] = None) -> int:
    """Parse the command line and run every mode given, in the order vectors, db, bundles, wire, payloads.

    Usage errors exit with status 2 (argparse's own). An input that cannot be read at all is reported
    on stderr; the other modes still run, and the exit status is then 2."""
    parser = argparse.ArgumentParser(description="Independent verifier for the Gloss protocol (Protocol/01-07).")
    parser.add_argument("--vectors", type=Path, metavar="EVENTS_JSON", help="check golden vectors (01 §Golden vectors)")
    parser.add_argument("--db", type=Path, metavar="REPLICA_DB", help="check a replica database (03 §Writing)")
    parser.add_argument("--bundle", type=Path, nargs="+", metavar="FILE",
                        help="check bundles (05-bundle.md); a .json file is a bundles description (vectors/bundles.json)")
    parser.add_argument("--wire", type=Path, metavar="WIRE_JSON", help="reproduce the golden handshake (07-wire.md)")
    parser.add_argument("--payloads", type=Path, metavar="PAYLOADS_JSON", help="check golden payload vectors (02 §Golden vectors)")
    parser.add_argument("--encrypted", type=Path, metavar="ENCRYPTED_JSON",
                        help="rebuild and open the golden encrypted bundle (05 §Encrypted bundles)")
    args = parser.parse_args(argv)
    if not (args.vectors or args.db or args.bundle or args.wire or args.payloads or args.encrypted):
        parser.error("give at least one of --vectors, --db, --bundle, --wire, --payloads, --encrypted")
    runs: list[Callable[[], list[Section]]] = []
    if args.vectors:
        runs.append(lambda: [verify_vectors(args.vectors)])
    if args.db:
        runs.append(lambda: [verify_db(args.db)])
    for path in args.bundle or []:
        runs.append(lambda path=path: bundle_sections([path]))
    if args.wire:
        runs.append(lambda: [verify_wire(args.wire)])
    if args.payloads:
        runs.append(lambda: [verify_payloads(args.payloads)])
    if args.encrypted:
        runs.append(lambda: [verify_encrypted(args.encrypted)])
    sections: list[Section] = []
    unreadable = False
    for run in runs:
        try:
            sections += run()
        except InputError as exc:
            print(f"verify_protocol: {exc}", file=sys.stderr)
            unreadable = True
    status = print_report(sections) if sections else 0
    return 2 if unreadable else status


if __name__ == "__main__":
    sys.exit(main())
