"""Audits in a child process, so that a file that crashes the HDF5 C library costs that file
only. A damaged HDF5 file can make HDF5 read through a wild pointer (a segfault, seen with one
byte flipped in a real Keras file: tests/test_mutated_files.py); no Python code can catch that
in the process where it happens. The CLI audits each file in one long-lived child (forked once,
so nothing is imported again) and starts a fresh child after a crash or a timeout.

The child never outlives the CLI: it asks the kernel for SIGKILL when its parent dies (Linux's
PR_SET_PDEATHSIG), and a thread in it checks its parent every PARENT_CHECK_S seconds as well
(other systems, and a parent that died before the first check could be set up)."""

from __future__ import annotations

import ctypes
import faulthandler
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from regaudit.errors import RegauditError

T = TypeVar("T")
PARENT_CHECK_S = 0.5
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class AuditCrashed(RegauditError):
    """The child process died while reading the file."""


class AuditTimedOut(RegauditError):
    """The file was still being audited when its time ran out; the child was killed."""


CRASHED = (
    "reading this file crashed the HDF5 library (the file is damaged, or not what its header "
    "says); nothing in it could be audited. Re-save the model from Keras"
)


def _set_pdeathsig() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux only)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)  # the parent is gone: nobody waits for this audit any more


def _child_start(parent: int | None) -> None:
    """Runs first in every audit child: tie its life to its parent's."""
    faulthandler.disable()  # a crash is told in one line by the CLI, not by a dump from here
    _set_pdeathsig()
    parent = os.getppid() if parent is None else parent  # a forkserver's child: the server
    if os.getppid() != parent:  # the parent died before the kernel was asked
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


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
        # The child's parent: this process when forked from it, else the fork server.
        self._parent: int | None = os.getpid()
        if "fork" in methods and _os_threads() == 1:
            self._context: Any = multiprocessing.get_context("fork")
        elif "forkserver" in methods:
            self._context = multiprocessing.get_context("forkserver")
            self._parent = None
        else:
            self._context = None
        self._pool: ProcessPoolExecutor | None = None

    def run(self, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        """fn(*args) in the child; AuditTimedOut after `timeout` seconds (None: no limit; in
        this process, where the platform cannot fork, there is none either)."""
        if self._context is None:
            return fn(*args)
        try:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1, mp_context=self._context, initializer=_child_start,
                    initargs=(self._parent,),
                )
                self._pool.submit(int).result()  # the child is up: its start is not the file's
            return self._pool.submit(fn, *args).result(timeout=timeout)
        except BrokenProcessPool:
            self.close()  # the next file gets a fresh child
            raise AuditCrashed(CRASHED) from None
        except TimeoutError:
            self._kill()  # the next file gets a fresh child
            raise AuditTimedOut(
                f"timed out: still being audited after {timeout:g} s (--timeout), so the "
                "audit was stopped and nothing of this file is reported"
            ) from None

    def _kill(self) -> None:
        if self._pool is not None:
            # The executor has no public way to stop a busy worker (before Python 3.14).
            for process in list(getattr(self._pool, "_processes", {}).values()):
                process.kill()
            self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Isolated:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
