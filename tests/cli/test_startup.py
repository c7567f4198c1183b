"""The command line starts at once: --version and --help load no heavy stack, and a command
loads what it uses and nothing more (the modules a real process ends up with are read from
``sys.modules``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET

HEAVY = {
    "sqlalchemy", "pandas", "ibis", "scipy", "duckdb", "pyarrow", "numpy", "pydantic", "psycopg",
    "fastapi", "sklearn", "lifelines", "statsmodels", "uvicorn",
}  # fmt: skip
PROBE = """
import json, sys
from crosspromo.cli.main import run
try:
    run(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}),
      file=sys.stderr)
"""


def loaded(*args: str, tmp: Path) -> set[str]:
    """The heavy packages a ``crosspromo ARGS`` process has loaded when it is done."""
    env = {**os.environ, "CROSSPROMO_SECRET_KEY": TEST_SECRET,
           "CROSSPROMO_DATABASE_URL": f"sqlite:///{tmp / 'startup.db'}"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env,
        timeout=120, check=False,
    )  # fmt: skip
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None), done.stderr
    return HEAVY & set(report["modules"])


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_version_and_help_load_nothing_heavy(args: list[str], tmp_path: Path) -> None:
    assert loaded(*args, tmp=tmp_path) == set()


def test_a_command_loads_only_its_own_stack(tmp_path: Path) -> None:
    paths = tmp_path / "paths.csv"
    paths.write_text("path;total_conversions;total_conversion_value;total_null\na > b;2;30;1\n")
    # the models' stack, no store, no warehouse, no pandas
    assert loaded("attribution", "run", "--paths", str(paths), tmp=tmp_path) <= {
        "numpy", "scipy", "pyarrow", "pydantic"
    }  # fmt: skip
    assert loaded("experiment", "power", "--baseline", "0.05", "--mde", "0.1", tmp=tmp_path) <= {
        "numpy", "scipy", "pydantic"
    }  # fmt: skip
    # the store's stack, no models, no warehouse
    assert loaded("db", "upgrade", tmp=tmp_path).isdisjoint({"ibis", "scipy", "pandas", "duckdb"})
    assert loaded("orgs", "list", tmp=tmp_path).isdisjoint({"ibis", "scipy", "pandas", "duckdb"})
