"""Audits in a child process, so that a file that crashes the HDF5 C library costs that file
only. A damaged HDF5 file can make HDF5 read through a wild pointer (a segfault, seen with one
byte flipped in a real Keras file: tests/test_mutated_files.py); no Python code can catch that
in the process where it happens. The CLI audits each file in one long-lived child (forked once,
so nothing is imported again) and starts a fresh child after a crash."""

from __future__ import annotations

import faulthandler
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from regaudit.errors import RegauditError

T = TypeVar("T")


class AuditCrashed(RegauditError):
    """The child process died while reading the file."""


CRASHED = (
    "reading this file crashed the HDF5 library (the file is damaged, or not what its header "
    "says); nothing in it could be audited. Re-save the model from Keras"
)


def _os_threads() -> int:
    """This process's threads, those of C libraries included (Linux), else Python's own."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


class Isolated:
    """`run(fn, *args)` calls fn(*args) in a child process where the platform can fork (the
    child inherits the imported modules), in this process elsewhere. Use as a context manager."""

    def __init__(self) -> None:
        methods = multiprocessing.get_all_start_methods()
        # fork is cheapest, but only safe with one thread: a lock another thread holds at the
        # fork stays held in the child (a hang seen under pytest with Playwright's threads).
        # With threads, a clean server process forks the children instead.
        if "fork" in methods and _os_threads() == 1:
            self._context: Any = multiprocessing.get_context("fork")
        elif "forkserver" in methods:
            self._context = multiprocessing.get_context("forkserver")
        else:
            self._context = None
        self._pool: ProcessPoolExecutor | None = None

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._context is None:
            return fn(*args)
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=self._context, initializer=faulthandler.disable
            )  # a crash is told in one line by this process, not by a dump from the child
        try:
            return self._pool.submit(fn, *args).result()
        except BrokenProcessPool:
            self.close()  # the next file gets a fresh child
            raise AuditCrashed(CRASHED) from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Isolated:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
