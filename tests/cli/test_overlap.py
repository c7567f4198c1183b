"""`crosspromo overlap local` as a user runs it: two files in, the issue's JSON out."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.cli.test_cli import cli


def write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_overlap_local_prints_sizes_intersection_and_rates(tmp_path: Path) -> None:
    a = write(tmp_path / "a.csv", "email", [f" User{i}@Shop.com " for i in range(100)])
    b = tmp_path / "b.parquet"
    pq.write_table(pa.table({"email": [f"user{i}@shop.com" for i in range(60, 180)]}), b)
    run = cli("overlap", "local", str(a), str(b), "--format", "json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {
        "size_a": 100,
        "size_b": 120,
        "intersection": 40,
        "overlap_rate_a": 0.4,
        "overlap_rate_b": 40 / 120,
    }
    sketch = json.loads(
        cli("overlap", "local", str(a), str(b), "--sketch", "--format", "json").stdout
    )
    assert set(sketch) == {
        "size_a", "size_b", "intersection", "overlap_rate_a", "overlap_rate_b", "error_bound",
        "sample_rate",
    }  # fmt: skip
    assert sketch["intersection"] == 40
    assert sketch["error_bound"] == 0.0


def test_only_consenting_rows_take_part_and_segments_are_counted(tmp_path: Path) -> None:
    a = write(
        tmp_path / "a.csv",
        "phone,ok,tier",
        ["(415) 555-0100,true,gold", "415 555 0101,false,gold", "+1 415 555 0102,yes,silver"],
    )
    b = write(
        tmp_path / "b.csv",
        "phone,ok,tier",
        ["+14155550100,1,x", "+14155550101,1,x", "4155550102,1,y", "4155550199,0,y"],
    )
    run = cli(
        "overlap", "local", str(a), str(b), "--column", "phone", "--kind", "phone",
        "--consent-column", "ok", "--segment-column", "tier", "--format", "json",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert (out["size_a"], out["size_b"], out["intersection"]) == (2, 3, 2)
    pairs = {(s["segment_a"], s["segment_b"]): s["intersection"] for s in out["segments"]}
    assert pairs == {("gold", "x"): 1, ("gold", "y"): 0, ("silver", "x"): 0, ("silver", "y"): 1}


def test_bad_input_is_named(tmp_path: Path) -> None:
    a = write(tmp_path / "a.csv", "email", ["a@x.com", "oops", "b@x.com"])
    b = write(tmp_path / "b.csv", "mail", ["a@x.com"])
    run = cli("overlap", "local", str(a), str(a), "--format", "json")
    assert run.returncode == 5
    assert "a.csv: 1 row(s) hold no valid email (data rows 2)" in run.stderr
    skipped = cli("overlap", "local", str(a), str(a), "--skip-invalid", "--format", "json")
    assert json.loads(skipped.stdout)["intersection"] == 2
    missing = cli("overlap", "local", str(a), str(b), "--skip-invalid")
    assert missing.returncode == 5
    assert "b.csv: no column(s) email; it has mail" in missing.stderr
    consent = write(tmp_path / "c.csv", "email,ok", ["a@x.com,maybe"])
    bad = cli("overlap", "local", str(consent), str(consent), "--consent-column", "ok")
    assert "c.csv, data row 1, column ok: consent must be true or false" in bad.stderr
