"""`crosspromo agreements verify` as a partner would run it on a record it was sent: a real
process, no database and no server, JSON on stdout and the exit code as the verdict."""

from __future__ import annotations

import json
import os
from pathlib import Path

from nacl.signing import SigningKey

from crosspromo.domain.record import Entry, bundle, next_entry, public_key_of
from tests.cli.test_cli import cli

BRAND, PARTNER = SigningKey(b"B" * 32), SigningKey(b"P" * 32)
KEYS = {"acme": [public_key_of(BRAND)], "beans": [public_key_of(PARTNER)]}


def _record(last: str = "acceptance") -> list[Entry]:
    entries: list[Entry] = []
    for kind, signer, key in (("proposal", "acme", BRAND), (last, "beans", PARTNER)):
        entries.append(next_entry("p-1", entries, kind, signer, key, "2026-11-01T00:00:00Z",
                                  {"version": 1}))  # fmt: skip
    return entries


def test_a_record_is_verified_with_nothing_but_the_file(tmp_path: Path) -> None:
    assert "CROSSPROMO_DATABASE_URL" not in os.environ
    mine, theirs = tmp_path / "mine.json", tmp_path / "theirs.json"
    mine.write_bytes(bundle("p-1", _record(), KEYS))
    theirs.write_bytes(bundle("p-1", _record("decline"), KEYS))
    unusable = "sqlite:////no-such-folder/crosspromo.db"  # any use of a database would fail
    done = cli("agreements", "verify", str(mine), "--format", "json", db_url=unusable)
    assert done.returncode == 0, done.stderr
    verdict = json.loads(done.stdout)
    assert verdict == {"valid": True, "entries": 2, "head": _record()[-1].hash, "error": None,
                       "entry": None}  # fmt: skip
    forked = cli("agreements", "verify", str(mine), "--against", str(theirs), "--format", "json")
    assert forked.returncode == 1
    assert json.loads(forked.stdout)["entry"] == 1
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(mine.read_bytes().replace(b'"version":1', b'"version":2', 1))
    changed = cli("agreements", "verify", str(tampered), "--format", "json")
    assert changed.returncode == 1
    assert json.loads(changed.stdout) | {"error": None} == {
        "valid": False, "entries": 0, "head": "", "error": None, "entry": 0,
    }  # fmt: skip
    missing = cli("agreements", "verify", str(tmp_path / "nope.json"))
    assert missing.returncode == 5
    assert "cannot read" in missing.stderr
