"""Racing requests on real concurrent database connections, for the tests that prove a guard (no booth booked twice,
no badge admitted twice, no table or person double-booked, one meeting per pair)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import pytest

from expo.extensions import db

#: Racing needs real concurrent connections: PostgreSQL (``.ci/run`` names it; SQLite serializes writers).
PG = os.environ.get("EXPO_TEST_DATABASE_URL", "")
needs_pg = pytest.mark.skipif(not PG, reason="needs the PostgreSQL named by EXPO_TEST_DATABASE_URL")


def race(app, prepares: list[Callable[[], Callable[[], object]]]) -> list[object]:
    """Each ``prepare()`` runs in its own thread, app context and so database connection, and returns the action;
    the actions are released together, each committed after it returns. The results: what each action returned, or
    the exception it raised (its transaction rolled back)."""
    barrier = threading.Barrier(len(prepares), timeout=20)
    results: list[object] = [None] * len(prepares)

    def run(i: int) -> None:
        with app.app_context():
            try:
                action = prepares[i]()
                barrier.wait()
                results[i] = action()
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - the result to assert on
                db.session.rollback()
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(prepares))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "a racing request hung"
    return results
