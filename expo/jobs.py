"""Background jobs for long work started from the web (batch badge printing): the request returns at once, the
work runs in a thread of the same process with its own database session, and writes its progress to its row, which
any process serving the progress page reads.

One worker thread per process: the jobs here are CPU-bound PDF rendering, and a second thread would only share the
same core through the GIL. ``EXPO_JOBS_INLINE=true`` runs jobs in the request instead (scripts, some tests).

A job that was running when its process stopped stays "running"; :func:`fail_stale` (called when a page lists
jobs) marks those whose progress has not moved for ``STALE_AFTER`` as failed, so the user can start them again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

from flask import Flask, current_app

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=10)

_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="expo-job")
        return _executor


def submit(work: Callable[[], None]) -> Future | None:
    """Run ``work()`` in the background inside an app context of the current app (or now, when inline).

    ``work`` opens and commits its own transactions; an exception is logged (the work records its own failure).
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("JOBS_INLINE"):
        work()
        return None

    def run() -> None:
        with app.app_context():
            try:
                work()
            except Exception:  # noqa: BLE001 - a background failure must not kill the worker thread
                log.exception("background job failed")
            finally:
                from expo.extensions import db

                db.session.remove()

    return _pool().submit(run)
