"""Error codes are stable and documented: the README's table lists each code with its
HTTP status and exit code, exactly as the code defines them."""

from __future__ import annotations

import re
from pathlib import Path

from crosspromo.errors import ALL_ERRORS

README = Path(__file__).resolve().parents[1] / "README.md"


def test_codes_are_unique() -> None:
    codes = [e.code for e in ALL_ERRORS]
    assert len(codes) == len(set(codes))


def test_readme_documents_every_code() -> None:
    rows = re.findall(r"^\| `(\w+)` \| (\d{3}) \| (\d+) \|", README.read_text(), flags=re.M)
    documented = {code: (int(status), int(exit_code)) for code, status, exit_code in rows}
    expected = {e.code: (e.http_status, e.exit_code) for e in ALL_ERRORS}
    assert documented == expected
