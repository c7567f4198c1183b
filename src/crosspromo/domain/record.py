"""A partnership's tamper-evident record: an append-only chain of signed entries that either
side, or anyone given the bundle, can check without the server.

- Every entry is a JSON object encoded canonically (RFC 8785): the same entry is always the
  same bytes. Its **hash** is SHA-256 of those bytes, signature included; the next entry
  names it in ``previous`` (the first names ``GENESIS``), and its ``index`` is its place.
- Every entry is **signed** with Ed25519 by the organization that made it, over its encoding
  without the signature; ``key`` names the public key by its fingerprint (SHA-256 of the key).
  A ``key_rotation`` entry, signed with the old key, hands the signer's later entries to
  ``body.new_key``.
- A **bundle** is the record as exported: its format, the partnership, the public keys the
  entries need, and the entries, written canonically. Verification reads the file's bytes, so
  anything a byte changes is found: the bytes must be the canonical encoding of what they say,
  every key must be used, and every entry must be in its place, linked and correctly signed.
- Two copies **fork** when neither is the beginning of the other.

Keys and signatures are lower-case hex, one spelling each (base64 would let two spellings of a
signature decode to the same bytes).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import rfc8785
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

FORMAT = "crosspromo-agreement-record/1"
GENESIS = "0" * 64
KINDS = frozenset({
    "proposal", "counter", "acceptance", "decline", "amendment", "pause", "resume", "end",
    "statement", "key_rotation",
})  # fmt: skip
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX128 = re.compile(r"[0-9a-f]{128}")
_ENTRY_FIELDS = (
    "partnership", "index", "previous", "kind", "signer", "key", "at", "body", "signature",
)  # fmt: skip


def canonical(value: Any) -> bytes:
    """The RFC 8785 encoding of ``value``."""
    return bytes(rfc8785.dumps(value))


def is_public_key(text: str) -> bool:
    """Whether ``text`` is an Ed25519 public key as records spell it: 64 lower-case hex."""
    return _HEX64.fullmatch(text) is not None


def fingerprint(public_key: str) -> str:
    """The fingerprint of a public key (hex): SHA-256 of its 32 bytes, in hex."""
    return hashlib.sha256(bytes.fromhex(public_key)).hexdigest()


def public_key_of(signing_key: SigningKey) -> str:
    return bytes(signing_key.verify_key).hex()


@dataclass(frozen=True)
class Entry:
    """One step of the record of ``partnership``; ``body`` depends on the kind (terms and
    their version, a reason, a month's figures, a new key)."""

    partnership: str
    index: int
    previous: str
    kind: str
    signer: str
    key: str
    at: str
    body: dict[str, Any] = field(default_factory=dict)
    signature: str = ""

    def document(self) -> dict[str, Any]:
        return asdict(self)

    def signed_bytes(self) -> bytes:
        """What the signature covers: the entry without its signature."""
        unsigned = self.document()
        del unsigned["signature"]
        return canonical(unsigned)

    @property
    def hash(self) -> str:
        return hashlib.sha256(canonical(self.document())).hexdigest()

    def signed_with(self, signing_key: SigningKey) -> Entry:
        signature = signing_key.sign(self.signed_bytes()).signature.hex()
        return replace(self, signature=signature)


def next_entry(
    partnership: str, entries: Sequence[Entry], kind: str, signer: str,
    signing_key: SigningKey, at: str, body: Mapping[str, Any] | None = None,
) -> Entry:  # fmt: skip
    """The entry of ``partnership`` that follows ``entries``, signed by ``signer`` with
    ``signing_key``."""
    if kind not in KINDS:
        raise ValueError(f"unknown entry kind {kind!r}")
    previous = entries[-1].hash if entries else GENESIS
    key = fingerprint(public_key_of(signing_key))
    made = Entry(partnership, len(entries), previous, kind, signer, key, at, dict(body or {}))
    return made.signed_with(signing_key)


def bundle(partnership: str, entries: Sequence[Entry], keys: Mapping[str, Sequence[str]]) -> bytes:
    """The exported record: canonical bytes of the format, the partnership, each signer's
    public keys (those the entries use, in the order they were used) and the entries."""
    used: dict[str, list[str]] = {}
    by_fingerprint = {fingerprint(k): (org, k) for org, ks in keys.items() for k in ks}
    for entry in entries:
        pairs = [(entry.signer, entry.key)]
        if entry.kind == "key_rotation":
            new_key = str(entry.body.get("new_key", ""))
            pairs.append((entry.signer, fingerprint(new_key)))
        for org, print_ in pairs:
            owner, key = by_fingerprint[print_]
            if owner != org:
                raise ValueError(f"key {print_} is {owner}'s, not {org}'s")
            if key not in used.setdefault(org, []):
                used[org].append(key)
    document = {"format": FORMAT, "partnership": partnership, "keys": used,
                "entries": [e.document() for e in entries]}  # fmt: skip
    return canonical(document)


@dataclass(frozen=True)
class Verdict:
    """Whether a record holds; when it does not, the first thing wrong and the entry it is in
    (None when the fault is not in one entry)."""

    valid: bool
    entries: int
    head: str
    error: str | None = None
    entry: int | None = None


class RecordFault(ValueError):
    """What is wrong with a record or an entry, and the entry it is in (None: not one)."""

    def __init__(self, message: str, entry: int | None = None) -> None:
        super().__init__(message)
        self.entry = entry


def verify(data: bytes, against: bytes | None = None) -> Verdict:
    """Check a bundle's bytes and, given ``against`` (the other side's copy), that the two
    hold the same entries: a fork, or a copy lacking entries the other has, is a fault. (A
    bundle alone cannot show that entries after its last were removed: the other side's copy
    or a head published elsewhere can.)"""
    try:
        partnership, entries = _read(data)
        if against is not None:
            other_partnership, others = _read(against)
            if other_partnership != partnership:
                raise RecordFault("the two copies are records of different partnerships")
            for mine, theirs in zip(entries, others, strict=False):
                if mine.hash != theirs.hash:
                    raise RecordFault("the two copies fork: they differ at this entry", mine.index)
            if len(entries) != len(others):  # one copy lacks what the other has
                raise RecordFault(
                    f"the copies agree on their first {min(len(entries), len(others))} entries, "
                    f"but one has {max(len(entries), len(others))}",
                    min(len(entries), len(others)),
                )
    except RecordFault as fault:
        return Verdict(False, 0, "", str(fault), fault.entry)
    return Verdict(True, len(entries), entries[-1].hash)


def _read(data: bytes) -> tuple[str, list[Entry]]:
    try:
        document = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
        written = canonical(document)
    except (UnicodeDecodeError, ValueError, rfc8785.CanonicalizationError) as exc:
        raise RecordFault(f"not a JSON document of this kind: {exc}") from None
    if not isinstance(document, dict) or written != data:
        raise RecordFault("not written canonically (RFC 8785): the bytes were changed")
    if set(document) != {"format", "partnership", "keys", "entries"}:
        raise RecordFault("a bundle has exactly: format, partnership, keys, entries")
    if document["format"] != FORMAT:
        raise RecordFault(f"format {document['format']!r} is not {FORMAT!r}")
    partnership, keys, raw = document["partnership"], document["keys"], document["entries"]
    if not isinstance(partnership, str) or not partnership:
        raise RecordFault("the partnership is not named")
    known = _keys(keys)
    if not isinstance(raw, list) or not raw:
        raise RecordFault("the record has no entries")
    entries = [parse_entry(item, number) for number, item in enumerate(raw)]
    if any(e.partnership != partnership for e in entries):
        raise RecordFault("an entry belongs to another partnership's record")
    _check_chain(entries, known)
    return partnership, entries


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _keys(keys: Any) -> dict[str, tuple[str, str]]:
    """Each listed key by fingerprint, with its owner."""
    if not isinstance(keys, dict):
        raise RecordFault("keys are not listed by organization")
    known: dict[str, tuple[str, str]] = {}
    for org, listed in keys.items():
        if not isinstance(listed, list) or not listed:
            raise RecordFault(f"no keys listed for {org!r}")
        for key in listed:
            if not isinstance(key, str) or not is_public_key(key):
                raise RecordFault(f"a key of {org!r} is not 64 lower-case hex digits")
            print_ = fingerprint(key)
            if print_ in known:
                raise RecordFault(f"key {print_} is listed twice")
            known[print_] = (org, key)
    return known


def parse_entry(item: Any, number: int | None = None) -> Entry:
    """An entry from its JSON document, its fields checked for shape (not its signature);
    ``number``: the place it must say it has."""
    if not isinstance(item, dict) or set(item) != set(_ENTRY_FIELDS):
        raise RecordFault(f"an entry has exactly: {', '.join(_ENTRY_FIELDS)}", number)
    entry = Entry(**item)
    if not isinstance(entry.index, int) or isinstance(entry.index, bool):
        raise RecordFault("an entry's index is a whole number", number)
    if number is not None and entry.index != number:
        raise RecordFault(f"entry {number} says it is entry {entry.index!r}: removed or reordered",
                          number)  # fmt: skip
    if entry.kind not in KINDS:
        raise RecordFault(f"unknown entry kind {entry.kind!r}", number)
    texts = (entry.partnership, entry.previous, entry.signer, entry.key, entry.at,
             entry.signature)  # fmt: skip
    if not all(isinstance(t, str) for t in texts) or not isinstance(entry.body, dict):
        raise RecordFault("an entry's fields have the wrong types", number)
    if not _HEX64.fullmatch(entry.key) or not _HEX128.fullmatch(entry.signature):
        raise RecordFault("a key fingerprint or signature is not lower-case hex", number)
    return entry


def _check_chain(entries: list[Entry], known: dict[str, tuple[str, str]]) -> None:
    current: dict[str, str] = {}  # each signer's key in force, by fingerprint
    used: set[str] = set()
    previous = GENESIS
    for entry in entries:
        if entry.previous != previous:
            raise RecordFault("the link to the entry before is broken", entry.index)
        owner, key = known.get(entry.key, ("", ""))
        if owner != entry.signer:
            raise RecordFault(f"signed with a key that is not {entry.signer!r}'s", entry.index)
        if current.setdefault(entry.signer, entry.key) != entry.key:
            raise RecordFault(f"signed with a key {entry.signer!r} no longer uses", entry.index)
        try:
            VerifyKey(bytes.fromhex(key)).verify(entry.signed_bytes(),
                                                 bytes.fromhex(entry.signature))  # fmt: skip
        except BadSignatureError:
            raise RecordFault(f"the signature is not {entry.signer!r}'s", entry.index) from None
        used.add(entry.key)
        if entry.kind == "key_rotation":
            new_key = entry.body.get("new_key")
            rotated = (
                fingerprint(new_key) if isinstance(new_key, str) and is_public_key(new_key) else ""
            )
            if rotated not in known:
                raise RecordFault(
                    "a key rotation names a key the bundle does not list", entry.index
                )
            if known[rotated][0] != entry.signer:
                raise RecordFault("a key rotation hands over to another organization's key",
                             entry.index)  # fmt: skip
            current[entry.signer] = rotated
            used.add(rotated)
        previous = entry.hash
    if set(known) - used:
        raise RecordFault("the bundle lists a key no entry uses")
