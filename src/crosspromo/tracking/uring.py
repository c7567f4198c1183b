"""``fdatasync`` without waiting: Linux's io_uring, driven by its three system calls.

The click journal (``tracking.journal``) syncs each turn's clicks before their redirects are
answered. Made on the event loop's thread, a sync stops the loop for as long as the disk takes
(measured: 37% of the worker's time under ``wrk -c32``); made on a thread of Python's, its end
waits for the interpreter's lock, which the busy loop holds (measured slower still). Submitted
to an io_uring instead, the kernel syncs while the loop goes on reading requests, and says so
on an ``eventfd`` the loop watches: no thread of ours waits, so nothing waits for the lock.

Only what the journal needs is here: a ring, an ``IORING_OP_FSYNC`` with
``IORING_FSYNC_DATASYNC`` per group (``submit``), its completions (``reap``, or ``wait`` at
the end). The kernel reads the submission ring only inside ``io_uring_enter`` (no polling
thread), and we read the completion ring after a system call: both are ordered by the call
itself, so plain loads and stores are enough on any processor. ``Ring`` raises ``OSError``
where io_uring cannot be had (an old kernel, a sandbox that forbids it): the journal then
syncs on the loop's thread, as it did before.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import mmap
import os
import struct

# the system calls' numbers are the same on every architecture (Linux 5.1's generic table)
_SETUP, _ENTER, _REGISTER = 425, 426, 427
_OP_FSYNC = 3
_FSYNC_DATASYNC = 1
_ENTER_GETEVENTS = 1
_REGISTER_EVENTFD = 4
_FEAT_SINGLE_MMAP = 1
_OFF_SQES = 0x10000000
# opcode, flags, ioprio, fd, offset, address, length, fsync flags, user data; 24 bytes unused
_SQE = struct.Struct("<BBHiQQIIQ24x")
_CQE = struct.Struct("<QiI")  # user_data, res, flags
_U32 = struct.Struct("<I")


class _SqOffsets(ctypes.Structure):
    _fields_ = [
        *((name, ctypes.c_uint32) for name in ("head", "tail", "ring_mask", "ring_entries")),
        *((name, ctypes.c_uint32) for name in ("flags", "dropped", "array", "resv1")),
        ("user_addr", ctypes.c_uint64),
    ]


class _CqOffsets(ctypes.Structure):
    _fields_ = [
        *((name, ctypes.c_uint32) for name in ("head", "tail", "ring_mask", "ring_entries")),
        *((name, ctypes.c_uint32) for name in ("overflow", "cqes", "flags", "resv1")),
        ("user_addr", ctypes.c_uint64),
    ]


class _Params(ctypes.Structure):
    _fields_ = [
        *((name, ctypes.c_uint32) for name in ("sq_entries", "cq_entries", "flags")),
        *((name, ctypes.c_uint32) for name in ("sq_thread_cpu", "sq_thread_idle", "features")),
        ("wq_fd", ctypes.c_uint32),
        ("resv", ctypes.c_uint32 * 3),
        ("sq_off", _SqOffsets),
        ("cq_off", _CqOffsets),
    ]


_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long


def _call(number: int, *args: object) -> int:
    while True:
        result = int(_syscall(number, *args))
        if result >= 0:
            return result
        code = ctypes.get_errno()
        if code != errno.EINTR:
            raise OSError(code, os.strerror(code))


class Ring:
    """An io_uring of ``entries`` submissions, its completions signalled on ``eventfd``."""

    def __init__(self, entries: int = 256) -> None:
        params = _Params()
        self.fd = _call(_SETUP, ctypes.c_uint(entries), ctypes.byref(params))
        self._rings: mmap.mmap | None = None
        self._sqes: mmap.mmap | None = None
        self.eventfd = -1
        try:
            if not params.features & _FEAT_SINGLE_MMAP:  # before Linux 5.4
                raise OSError(errno.ENOTSUP, "io_uring without a single mapping")
            sq, cq = params.sq_off, params.cq_off
            size = max(sq.array + params.sq_entries * 4, cq.cqes + params.cq_entries * _CQE.size)
            shared, access = mmap.MAP_SHARED | mmap.MAP_POPULATE, mmap.PROT_READ | mmap.PROT_WRITE
            self._rings = mmap.mmap(self.fd, size, shared, access, offset=0)
            sqes = params.sq_entries * _SQE.size
            self._sqes = mmap.mmap(self.fd, sqes, shared, access, offset=_OFF_SQES)
            self.eventfd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
            signal = ctypes.c_int(self.eventfd)
            _call(_REGISTER, self.fd, _REGISTER_EVENTFD, ctypes.byref(signal), 1)
        except OSError:
            self.close()
            raise
        self.entries = params.sq_entries
        self._sq_tail, self._sq_array = sq.tail, sq.array
        self._sq_mask = _U32.unpack_from(self._rings, sq.ring_mask)[0]
        self._cq_head, self._cq_tail, self._cqes = cq.head, cq.tail, cq.cqes
        self._cq_mask = _U32.unpack_from(self._rings, cq.ring_mask)[0]
        self.in_flight = 0

    def submit(self, fd: int, token: int) -> None:
        """Sync ``fd``'s data (``fdatasync``) in the kernel; ``reap`` gives back ``token``."""
        rings, sqes = self._rings, self._sqes
        assert rings is not None, "closed"
        assert sqes is not None, "closed"
        if self.in_flight >= self.entries:  # the completion ring could overflow
            raise OSError(errno.EBUSY, "too many syncs in flight")
        tail = _U32.unpack_from(rings, self._sq_tail)[0]
        index = tail & self._sq_mask
        entry = (_OP_FSYNC, 0, 0, fd, 0, 0, 0, _FSYNC_DATASYNC, token)
        _SQE.pack_into(sqes, index * _SQE.size, *entry)
        _U32.pack_into(rings, self._sq_array + index * 4, index)
        _U32.pack_into(rings, self._sq_tail, (tail + 1) & 0xFFFFFFFF)
        try:
            _call(_ENTER, self.fd, 1, 0, 0, None, 0)
        except OSError:
            _U32.pack_into(rings, self._sq_tail, tail)  # not taken: as if never written
            raise
        self.in_flight += 1

    def reap(self) -> list[tuple[int, int]]:
        """The syncs finished since the last call: ``(token, 0)``, or ``(token, -errno)``."""
        rings = self._rings
        assert rings is not None, "closed"
        with contextlib.suppress(BlockingIOError):  # read: signals from now on are new
            os.eventfd_read(self.eventfd)
        head = _U32.unpack_from(rings, self._cq_head)[0]
        tail = _U32.unpack_from(rings, self._cq_tail)[0]
        done = []
        while head != tail:
            at = self._cqes + (head & self._cq_mask) * _CQE.size
            token, result, _ = _CQE.unpack_from(rings, at)
            done.append((token, result))
            head = (head + 1) & 0xFFFFFFFF
        _U32.pack_into(rings, self._cq_head, head)
        self.in_flight -= len(done)
        return done

    def wait(self) -> list[tuple[int, int]]:
        """Every sync still in flight, waited for."""
        done = self.reap()
        while self.in_flight:
            _call(_ENTER, self.fd, 0, self.in_flight, _ENTER_GETEVENTS, None, 0)
            done += self.reap()
        return done

    def close(self) -> None:
        for mapping in (self._rings, self._sqes):
            if mapping is not None:
                mapping.close()
        self._rings = self._sqes = None
        for fd in (self.eventfd, self.fd):
            if fd >= 0:
                os.close(fd)
        self.eventfd = self.fd = -1
