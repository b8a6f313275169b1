"""Flushing a SQLite store's write-ahead log to disk in the background, shortly after commits.

With ``synchronous=NORMAL`` (the default durability) a commit only writes its pages into the ``-wal`` file;
SQLite makes them durable at the next checkpoint, which it runs inside whichever commit brings the log to
1,000 pages. That checkpoint first fsyncs the whole log (about 4 MB, 3.5-4.5 ms on the development machine,
measured with strace) and so stalls one call in about a hundred. A :class:`WalFlusher` thread fsyncs the log
a few milliseconds after commits instead, off the calling thread: the checkpoint then finds the log already
on disk. Nothing about the transactions changes (SQLite still writes, checkpoints and restarts the log
itself); the flush only makes recent commits durable sooner, so a power cut loses at most the last few
milliseconds instead of everything since the last checkpoint.
"""

from __future__ import annotations

import logging
import os
import threading

__all__ = ["WAL_AUTOCHECKPOINT", "WalFlusher"]

_log = logging.getLogger(__name__)

#: fdatasync where the platform has it (Linux, the BSDs); macOS and Windows have only fsync.
_sync = getattr(os, "fdatasync", os.fsync)

#: The least time between two flushes: commits in between are flushed together.
FLUSH_INTERVAL = 0.01

#: The log size (in pages) at which a commit runs SQLite's checkpoint, for stores with a flusher (SQLite's own
#: default is 1,000). Without the flusher the checkpoint is what makes commits durable under
#: ``synchronous=NORMAL``, so a longer interval would widen what a power cut can lose; with it, the log is on
#: disk within milliseconds whatever the interval, and checkpointing a quarter as often saves about 4% of a
#: call (the copy back and the database fsync, about 1.5 ms each time; benchmarks/bench_engine.py, measured
#: with the two settings alternating in one process). The cost: the ``-wal`` file grows to about 16 MB
#: (4 KB pages) before SQLite restarts it, and readers look pages up in a larger log index.
WAL_AUTOCHECKPOINT = 4000


class WalFlusher:
    """A thread that fsyncs ``<database>-wal`` after commits, at most once per ``interval`` seconds.

    :meth:`committed` (called by the store after each commit) wakes it; with no commits it sleeps. Errors
    (the log not there yet, or removed when the last connection closed) are skipped: the flush is an
    optimisation, SQLite's own checkpoints still make everything durable.
    """

    def __init__(self, database: str, interval: float = FLUSH_INTERVAL) -> None:
        self._path = database + "-wal"
        self._interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="efficacy_flow-wal-flush", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        """A transaction committed: flush the log soon.

        Already woken (commits since the thread last cleared the event), it is not woken again: that flush
        clears the event before it runs, so it comes after this commit (``Event.set`` takes a lock and
        notifies, on every commit otherwise).
        """
        wake = self._wake
        if not wake.is_set():
            wake.set()

    def close(self) -> None:
        """Stop the thread (after its current flush); idempotent."""
        self._stop.set()
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    @property
    def alive(self) -> bool:
        """Whether the thread is running."""
        return self._thread.is_alive()

    def _run(self) -> None:
        opened: tuple[int, int] | None = None  # (file descriptor, inode) of the log
        try:
            while True:
                self._wake.wait()
                if self._stop.is_set():
                    return
                self._wake.clear()
                opened = self._flush(opened)
                if self._stop.wait(self._interval):  # commits meanwhile are flushed together, next
                    return
        finally:
            if opened is not None:
                os.close(opened[0])

    def _flush(self, opened: tuple[int, int] | None) -> tuple[int, int] | None:
        try:
            inode = os.stat(self._path).st_ino
            if opened is None or opened[1] != inode:  # first flush, or the log was removed and made again
                if opened is not None:
                    os.close(opened[0])
                    opened = None
                opened = (os.open(self._path, os.O_RDONLY), inode)
            _sync(opened[0])
        except OSError as exc:
            _log.debug("flushing %s skipped: %s", self._path, exc)
        return opened
