"""`crosspromo agreements verify` as a partner would run it on a record it was sent: a real
process, no database and no server, JSON on stdout and the exit code as the verdict."""

from __future__ import annotations

import json
import os
from pathlib import Path

from nacl.signing import SigningKey

from crosspromo.domain import OrgKind
from crosspromo.domain.record import Entry, bundle, next_entry, public_key_of
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.store.database import Database
from tests.cli.test_cli import cli, cli_here

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


def test_propose_counter_accept_export_and_sign_from_the_command_line(
    sqlite_db: Database, tmp_path: Path
) -> None:
    """The CLI surface with its exact JSON shapes; a key kept in a file signs an acceptance,
    after which the server cannot accept for that organization; nobody accepts for another."""
    for slug, kind in (("acme", OrgKind.BRAND), ("beans", OrgKind.PARTNER),
                       ("mallory", OrgKind.BRAND)):  # fmt: skip
        create_organization(sqlite_db, slug, slug.title(), kind)
    url = str(sqlite_db.settings.database_url)
    terms = tmp_path / "terms.json"
    made = cli_here("agreements", "template", "--brand", "acme", "--partner", "beans",
                    "--format", "json")  # fmt: skip
    terms.write_text(made.stdout)

    def run(*args: str) -> dict[str, object]:
        done = cli_here("agreements", *args, "--format", "json", db_url=url)
        assert done.returncode == 0, done.stderr
        answer = json.loads(done.stdout)
        assert isinstance(answer, dict)
        return answer

    proposed = run("propose", "--org", "acme", "--partner", "beans", "--terms", str(terms))
    assert set(proposed) == {"partnership_id", "version", "status", "entry_hash"}
    assert (proposed["version"], proposed["status"]) == (1, "negotiating")
    pid = str(proposed["partnership_id"])
    countered = run("counter", "--org", "beans", "--partnership", pid, "--terms", str(terms))
    assert (countered["version"], countered["status"]) == (2, "negotiating")
    foreign = cli_here("agreements", "accept", "--org", "mallory", "--partnership", pid,
                       "--version", "2", db_url=url)  # fmt: skip
    assert foreign.returncode == 4  # not found: another tenant cannot accept for acme
    accepted = run("accept", "--org", "acme", "--partnership", pid, "--version", "2")
    assert (accepted["version"], accepted["status"]) == (2, "active")
    assert run("pause", "--org", "beans", "--partnership", pid, "--reason", "audit")[
        "status"] == "paused"  # fmt: skip

    key_file = tmp_path / "beans.key"
    made_key = run("keygen", "--out", str(key_file))
    assert key_file.stat().st_mode & 0o777 == 0o600
    run("hold-key", "--org", "beans", "--public-key", str(made_key["public_key"]))
    refused = cli_here("agreements", "resume", "--org", "beans", "--partnership", pid,
                       db_url=url)  # fmt: skip
    assert refused.returncode != 0
    assert "keeps its signing key itself" in refused.stderr
    resumed = run("sign", "--org", "beans", "--partnership", pid, "--key", str(key_file),
                  "--kind", "resume", "--reason", "audit passed")  # fmt: skip
    assert resumed["status"] == "active"

    bundle_file = tmp_path / "record.json"
    exported = cli_here("agreements", "export", "--org", "acme", "--partnership", pid, "--out",
                        str(bundle_file), db_url=url)  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    verdict = run("verify", str(bundle_file))
    assert verdict["valid"] is True, verdict
    assert (verdict["entries"], verdict["head"]) == (6, resumed["entry_hash"])


def test_the_template_takes_the_commission_rules_it_is_given() -> None:
    done = cli_here("agreements", "template", "--percent-of-sale", "10", "--per-lead-minor",
                    "250", "--holding-days", "45", "--currency", "GBP", "--start", "2026-03-01",
                    "--format", "json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    terms = json.loads(done.stdout)
    assert terms["start"] == "2026-03-01"
    assert terms["commission"]["currency"] == "GBP"
    assert terms["commission"]["holding_days"] == 45
    assert [(r["kind"], r["rate_bp"], r["flat_minor"]) for r in terms["commission"]["rules"]] == [
        ("percent", 1000, None), ("flat", None, 250)]  # fmt: skip
    bad = cli_here("agreements", "template", "--percent-of-sale", "ten")
    assert bad.returncode == 5
    assert "--percent-of-sale 'ten' is not a number" in bad.stderr
