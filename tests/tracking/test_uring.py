"""The io_uring the click journal syncs through: each submitted fdatasync comes back once,
with its token and the kernel's result, and the eventfd says when."""

from __future__ import annotations

import errno
import os
import select
from collections.abc import Iterator
from pathlib import Path

import pytest

from crosspromo.tracking.uring import Ring


@pytest.fixture
def ring() -> Iterator[Ring]:
    try:
        made = Ring(entries=4)
    except OSError as exc:  # a kernel or sandbox without io_uring: the journal syncs itself
        pytest.skip(f"no io_uring here: {exc}")
    yield made
    made.close()


def test_a_sync_comes_back_with_its_token(ring: Ring, tmp_path: Path) -> None:
    fd = os.open(tmp_path / "data", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.write(fd, b"x" * 5000)
        ring.submit(fd, 41)
        assert select.select([ring.eventfd], [], [], 5)[0] == [ring.eventfd], "signalled"
        assert ring.reap() == [(41, 0)]
        assert ring.in_flight == 0
        assert select.select([ring.eventfd], [], [], 0)[0] == [], "the signal was read"
        ring.submit(fd, 42)
        ring.submit(fd, 43)
        assert sorted(ring.wait()) == [(42, 0), (43, 0)]
        assert ring.reap() == []
    finally:
        os.close(fd)


def test_a_failed_sync_says_why(ring: Ring) -> None:
    read, write = os.pipe()
    os.close(read)
    os.close(write)  # a descriptor no longer open
    ring.submit(write, 7)
    assert ring.wait() == [(7, -errno.EBADF)]


def test_no_more_in_flight_than_completions_can_hold(ring: Ring, tmp_path: Path) -> None:
    fd = os.open(tmp_path / "data", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        for token in range(ring.entries):
            ring.submit(fd, token)
        with pytest.raises(OSError, match="too many syncs in flight"):
            ring.submit(fd, 99)
        assert sorted(ring.wait()) == [(token, 0) for token in range(ring.entries)]
        ring.submit(fd, 99)  # room again once reaped
        assert ring.wait() == [(99, 0)]
    finally:
        os.close(fd)
