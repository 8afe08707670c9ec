"""Factories with defaults: ``make_exhibitor(**overrides)`` and friends. Call them inside an app context."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import select

from expo.auth import services as auth_services
from expo.auth.models import Role, User
from expo.exhibitors import services
from expo.exhibitors.models import Exhibitor
from expo.extensions import db
from expo.venue.models import Pavilion

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def profile_data(**overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    data = {"name_zh": f"晋江测试鞋业有限公司{n}", "name_en": f"Jinjiang Test Footwear Co., Ltd. {n}", "country": "CN",
            "province": "福建", "city": "晋江", "address": "1 Test Road", "website": "https://example.com",
            "contact_name": "王伟", "contact_phone": "+86 139 0000 0000", "contact_email": f"contact{n}@example.com",
            "description": "Running shoes"}
    data.update(overrides)
    return data


def application_data(**overrides: Any) -> dict[str, Any]:
    data = {"space_kind": "standard", "booths_requested": 2, "raw_space_m2": None, "preferred_area_id": None,
            "preferred_pavilion_id": None, "corner_preference": "prefer", "years_exhibited": 3,
            "competitors": "Rival Shoes Ltd.", "notes": ""}
    data.update(overrides)
    return data


def make_exhibitor(*, email: str | None = None, submit: bool = False, application: dict | None = None,
                   **profile: Any) -> tuple[Exhibitor, User]:
    """A registered exhibitor with its account (password :data:`PASSWORD`) and an application."""
    email = email or f"exhibitor{next(_seq)}@example.com"
    return services.register(email=email, password=PASSWORD, profile=profile_data(**profile),
                             application=application_data(**(application or {})), submit=submit)


def make_user(role: Role | str = Role.STAFF, email: str | None = None, **kw: Any) -> User:
    return auth_services.create_user(email or f"{role}{next(_seq)}@example.com", PASSWORD, kw.pop("name", "Test"),
                                     role, **kw)


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def pavilion(code: str) -> Pavilion:
    return db.session.scalar(select(Pavilion).where(Pavilion.code == code))


# --- docking sessions and the schedule (helper sched) ---------------------------------------------------------------

def make_docking_session(**overrides: Any):
    """A docking session of the current expo: 09:00 on its first day, 4 slots of 20 minutes, 3 tables."""
    from datetime import datetime, time

    from expo.docking.models import DockingSession
    from expo.exhibitors.services import current_expo

    expo = current_expo()
    data = {"expo_id": expo.id, "name_zh": f"对接会{next(_seq)}", "name_en": "Docking session", "room": "R1",
            "starts_at": datetime.combine(expo.starts_on, time(9, 0)), "slot_minutes": 20, "slot_count": 4,
            "table_count": 3, "published": True}
    data.update(overrides)
    session = DockingSession(**data)
    db.session.add(session)
    db.session.flush()
    return session


def make_accepted_meeting(buyer, exhibitor, **overrides: Any):
    """An accepted meeting between ``buyer`` and ``exhibitor`` (rows), unscheduled unless told."""
    from expo.docking.models import Meeting, MeetingStatus

    data = {"expo_id": buyer.expo_id, "buyer_id": buyer.id, "exhibitor_id": exhibitor.id, "requested_by": "buyer",
            "status": MeetingStatus.ACCEPTED.value}
    data.update(overrides)
    meeting = Meeting(**data)
    db.session.add(meeting)
    db.session.flush()
    return meeting
