"""The scan service: signatures, revocation, rules, entries and exits, nonces, and two gates racing on one badge.

The race tests run on PostgreSQL with two threads, each with its own session and connection, released together by
a barrier. With the guard, exactly one gate admits and the other answers "already inside". The control switches the
guard off and pauses both scans after their check, so both admit: the double entry the guard prevents.
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, time, timedelta
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from expo.badges import codes, keys
from expo.badges import services as badge_services
from expo.checkin import services
from expo.checkin.models import Checkpoint, Presence, Scan
from expo.exhibitors.models import Exhibitor, ExhibitorStaff
from expo.exhibitors.services import current_expo
from expo.extensions import db
from tests.race import needs_pg, race

# 2027-04-19 10:00 in Jinjiang (UTC+8): the first day of the demo expo.
DAY1 = datetime(2027, 4, 19, 2, 0)


@pytest.fixture(autouse=True)
def _during_the_expo(monkeypatch):
    """The server's clock at the end of the expo: scans during it are in the past, not in the future."""
    monkeypatch.setattr(services, "utcnow", lambda: datetime(2027, 4, 23, 12, 0))


def _setup(app, *, mode: str = "entry_exit", reentry: bool = True, **checkpoint) -> tuple[int, int, str]:
    """A checkpoint and one exhibitor staff badge: (checkpoint id, badge id, code)."""
    with app.app_context():
        expo = current_expo()
        cp = Checkpoint(expo_id=expo.id, code=checkpoint.pop("code", "W1"), name_zh="西门", name_en="West gate",
                        mode=mode, reentry=reentry, badge_type_ids=[], days=[], **checkpoint)
        db.session.add(cp)
        member, exhibitor = db.session.execute(select(ExhibitorStaff, Exhibitor).join(Exhibitor).limit(1)).one()
        badge = badge_services.issue_for(None, expo, badge_services.holder_of_staff(member, exhibitor))
        db.session.commit()
        return cp.id, badge.id, badge.code


def _scan(app, cp_id: int, code: str, *, direction: str = "in", at: datetime = DAY1, nonce: str | None = None,
          device: str = "gate-1") -> services.Answer:
    with app.app_context():
        answer = services.scan(None, current_expo(), db.session.get(Checkpoint, cp_id), code, device_id=device,
                               nonce=nonce or uuid.uuid4().hex, direction=direction, scanned_at=at)
        db.session.commit()
        return answer


def test_admit_then_already_inside_then_exit_then_again(app):
    cp, badge_id, code = _setup(app)
    first = _scan(app, cp, code)
    assert first.result == "admitted" and first.badge_id == badge_id and first.badge_type == "Exhibitor"
    assert _scan(app, cp, code).reason == "already_inside"
    assert _scan(app, cp, code, direction="out").result == "exited"
    assert _scan(app, cp, code, direction="out").reason == "not_inside"
    assert _scan(app, cp, code).result == "admitted"  # re-entry allowed here


def test_no_reentry_checkpoint(app):
    cp, _badge, code = _setup(app, reentry=False)
    assert _scan(app, cp, code).result == "admitted"
    assert _scan(app, cp, code, direction="out").result == "exited"
    assert _scan(app, cp, code, at=DAY1 + timedelta(hours=1)).reason == "no_reentry"
    assert _scan(app, cp, code, at=DAY1 + timedelta(days=1)).result == "admitted"  # a new day


def test_yesterdays_presence_lapses_and_auto_checkout(app):
    cp, _badge, code = _setup(app, mode="entry", auto_checkout_at=time(18, 0))
    assert _scan(app, cp, code).result == "admitted"
    assert _scan(app, cp, code, direction="out").reason == "already_inside"  # entry-only: every scan is an entry
    assert _scan(app, cp, code, at=DAY1 + timedelta(days=1)).result == "admitted"
    with app.app_context():
        checkpoint = db.session.get(Checkpoint, cp)
        assert services.check_out_everyone(current_expo(), checkpoint, DAY1 + timedelta(days=1, hours=8)) == 1
        db.session.commit()
    assert _scan(app, cp, code, at=DAY1 + timedelta(days=1, hours=9)).result == "admitted"


def test_forged_malformed_unknown_and_revoked_codes(app):
    cp, badge_id, code = _setup(app)
    flipped = code[:60] + ("A" if code[60] != "A" else "B") + code[61:]
    assert _scan(app, cp, flipped).reason == "bad_signature"
    assert _scan(app, cp, "HELLO").reason == "malformed"
    stranger = Ed25519PrivateKey.generate()
    with app.app_context():
        key_id = keys.active_key(current_expo()).id
    assert _scan(app, cp, codes.encode(stranger, key_id, badge_id, 1, 1)).reason == "bad_signature"
    assert _scan(app, cp, codes.encode(stranger, 200, badge_id, 1, 1)).reason == "unknown_key"
    with app.app_context():
        from expo.badges.models import Badge

        badge = db.session.get(Badge, badge_id)
        badge_services.revoke_and_reissue(None, badge, "lost")
        db.session.commit()
        new_code = badge.code
    assert _scan(app, cp, code).reason == "revoked"  # the old code of a reissued badge
    assert _scan(app, cp, new_code).result == "admitted"


def test_rules_days_and_halls(app):
    cp, badge_id, code = _setup(app, kind="hall", hall_code="A1")
    with app.app_context():
        from expo.badges.models import Badge, BadgeType

        badge_type = db.session.get(BadgeType, db.session.get(Badge, badge_id).badge_type_id)
        badge_type.days, badge_type.areas = ["2027-04-20"], ["B1"]
        db.session.commit()
    assert _scan(app, cp, code).reason == "wrong_day"
    assert _scan(app, cp, code, at=DAY1 + timedelta(days=1)).reason == "not_admitted_here"
    with app.app_context():
        badge_type = db.session.get(BadgeType, db.session.get(Badge, badge_id).badge_type_id)
        badge_type.areas = ["A1", "B1"]
        db.session.commit()
    assert _scan(app, cp, code, at=DAY1 + timedelta(days=1)).result == "admitted"


def test_the_same_nonce_counts_once(app):
    cp, _badge, code = _setup(app)
    nonce = uuid.uuid4().hex
    answers = [_scan(app, cp, code, nonce=nonce) for _ in range(3)]
    assert [a.result for a in answers] == ["admitted"] * 3
    assert [a.replayed for a in answers] == [False, True, True]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Scan)) == 1
    # The same nonce from another device is another scan.
    assert _scan(app, cp, code, nonce=nonce, device="gate-2").reason == "already_inside"


def test_a_scan_sent_again_later_changes_nothing(app):
    """An entry's nonce sent again after its holder left (a scanner's retry, or an offline batch uploaded late)
    answers with the first answer and leaves them outside; likewise an exit's, after they came back."""
    cp, badge_id, code = _setup(app)
    entry, exit_ = uuid.uuid4().hex, uuid.uuid4().hex
    assert _scan(app, cp, code, nonce=entry).result == "admitted"
    assert _scan(app, cp, code, nonce=exit_, direction="out").result == "exited"
    again = _scan(app, cp, code, nonce=entry)
    assert (again.result, again.replayed, again.badge_id) == ("admitted", True, badge_id)
    assert _scan(app, cp, code, direction="out").reason == "not_inside"  # still outside
    assert _scan(app, cp, code).result == "admitted"
    assert _scan(app, cp, code, nonce=exit_, direction="out").replayed
    assert _scan(app, cp, code).reason == "already_inside"  # still inside
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Scan)) == 5


def test_a_refused_scan_sent_again_keeps_its_first_answer(app):
    """Its answer is what the scanner showed: a retry after the badge was reissued says what it said then."""
    cp, badge_id, code = _setup(app)
    nonce = uuid.uuid4().hex
    assert _scan(app, cp, code, nonce=nonce, direction="out").reason == "not_inside"
    with app.app_context():
        from expo.badges.models import Badge

        badge_services.revoke_and_reissue(None, db.session.get(Badge, badge_id), "lost")
        db.session.commit()
    again = _scan(app, cp, code, nonce=nonce, direction="out")
    assert (again.reason, again.replayed, again.name != "") == ("not_inside", True, True)
    assert _scan(app, cp, "NOT-A-BADGE", nonce="junk").reason == "malformed"
    assert _scan(app, cp, "NOT-A-BADGE", nonce="junk").replayed


def test_a_process_plans_its_first_writes_afresh(app, monkeypatch):
    """PostgreSQL keeps the plan of a prepared statement; planned while the scans table is empty, a lookup in it reads
    the whole table until autovacuum analyzes it. The first ``PREPARE_AFTER`` writes of a process are not prepared."""
    executed = []

    class Cursor:
        def execute(self, _sql, _params, prepare=None):
            executed.append(prepare)

        def fetchone(self):
            return 1, "refused", "closed"

    class Connection:
        def cursor(self):
            return Cursor()

    monkeypatch.setattr(services, "PREPARE_AFTER", 3)
    monkeypatch.setattr(services, "_writes", 0)
    sql = services._Driver("postgresql", "pyformat").on(Connection())
    closed = SimpleNamespace(id=1, mode="entry", active=False, reentry=True, zone="venue")
    with app.app_context():
        answers = [services.scan(None, SimpleNamespace(id=1), closed, "CODE", device_id="d", nonce=str(i), sql=sql)
                   for i in range(5)]
    assert [a.reason for a in answers] == ["closed"] * 5
    assert executed == [False, False, False, None, None]  # None: psycopg's own choice, prepared after a few


def _race(app, cp: int, code: str, devices: list[str], nonces: list[str] | None = None, *,
          direction: str = "in") -> list[object]:
    """The same code scanned at once by ``devices`` (with ``nonces``); each result the answer or the exception."""
    nonces = nonces or [uuid.uuid4().hex for _ in devices]

    def scanning(i: int):
        expo = current_expo()
        checkpoint = db.session.get(Checkpoint, cp)
        public = keys.public_keys(expo)
        return lambda: services.scan(None, expo, checkpoint, code, device_id=devices[i], nonce=nonces[i],
                                     direction=direction, scanned_at=DAY1, public_keys=public)

    return race(app, [lambda i=i: scanning(i) for i in range(len(devices))])


def _admissions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Scan).where(Scan.result == "admitted",
                                                                              Scan.device_id != "setup"))


@pytest.mark.postgres
@needs_pg
def test_two_gates_at_once_one_admits_the_other_says_already_inside(app):
    cp, _badge, code = _setup(app)
    for round_ in range(3):
        results = _race(app, cp, code, [f"gate-a{round_}", f"gate-b{round_}"])
        assert all(isinstance(r, services.Answer) for r in results), results
        assert sorted(r.result for r in results) == ["admitted", "refused"], results
        assert [r.reason for r in results if r.result == "refused"] == ["already_inside"]
        _scan(app, cp, code, direction="out", device="exit")
    assert _admissions(app) == 3


@pytest.mark.postgres
@needs_pg
def test_two_gates_at_once_for_the_way_out_one_exits(app):
    cp, _badge, code = _setup(app)
    for round_ in range(3):
        _scan(app, cp, code, device="entry")
        results = _race(app, cp, code, [f"exit-a{round_}", f"exit-b{round_}"], None, direction="out")
        assert sorted((r.result, r.reason) for r in results) == [("exited", ""), ("refused", "not_inside")], results


@pytest.mark.postgres
@needs_pg
def test_control_without_the_guard_both_gates_admit(app, monkeypatch):
    cp, _badge, code = _setup(app)
    _presence_row(app, cp, code)
    paused = threading.Barrier(2, timeout=20)
    monkeypatch.setattr(services, "GUARD", False)
    monkeypatch.setattr(services, "_between_check_and_write", paused.wait)
    results = _race(app, cp, code, ["gate-a", "gate-b"])
    assert [r.result for r in results] == ["admitted", "admitted"], results  # the double entry the guard prevents
    assert _admissions(app) == 2


def _presence_row(app, cp: int, code: str) -> None:
    """An earlier entry and exit, so both racing scans find the presence row (the control pauses after reading it)."""
    _scan(app, cp, code, device="setup", at=DAY1 - timedelta(days=1))
    _scan(app, cp, code, device="setup", direction="out", at=DAY1 - timedelta(days=1))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Presence)) == 1


@pytest.mark.postgres
@needs_pg
def test_the_same_offline_scan_uploaded_by_three_connections_counts_once(app):
    cp, _badge, code = _setup(app)
    nonce = uuid.uuid4().hex
    results = _race(app, cp, code, ["phone-7"] * 3, [nonce] * 3)
    assert all(isinstance(r, services.Answer) for r in results), results
    assert [r.result for r in results] == ["admitted"] * 3
    assert sorted(r.replayed for r in results) == [False, True, True]
    assert _admissions(app) == 1
