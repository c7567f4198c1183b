"""Free text as users type it: one line with its spaces collapsed, or a longer text, checked
for a length and for control characters (NUL above all, which PostgreSQL cannot store), with
an error naming the field."""

from __future__ import annotations

from crosspromo.errors import InvalidInputError

_ALLOWED = frozenset("\t\n\r")


def check_plain(field: str, *texts: str) -> None:
    """Refuse ``texts`` holding NUL or another control character (tab and line ends aside)."""
    for text in texts:
        if any((ord(c) < 32 and c not in _ALLOWED) or c == "\x7f" for c in text):
            raise InvalidInputError(
                f"{field}: must not contain NUL or other control characters", field=field
            )


def one_line(text: str, field: str, most: int, least: int = 1) -> str:
    """``text`` on one line (runs of spaces, tabs and line ends as one space), of ``least`` to
    ``most`` characters."""
    check_plain(field, text)
    line = " ".join(text.split())
    if not least <= len(line) <= most:
        raise InvalidInputError(f"{field} is {least}-{most} characters", field=field)
    return line


def paragraphs(text: str, field: str, most: int) -> str:
    """A longer text (line ends kept), trimmed, of at most ``most`` characters."""
    check_plain(field, text)
    kept = text.strip()
    if len(kept) > most:
        raise InvalidInputError(f"{field} is at most {most} characters", field=field)
    return kept


def digits(text: str) -> bool:
    """Whether ``text`` is one or more of the ASCII digits 0-9 (``str.isdigit`` also says yes
    to '²', which ``int()`` refuses, and to the digits of other scripts)."""
    return text.isascii() and text.isdigit()
