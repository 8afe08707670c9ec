"""Exhibitor rules: registration, profile, the space application's life cycle, staff, and the review queue.

Services check the rules, change the models, write the audit log and queue messages; they flush and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import joinedload

from expo import audit, listing, mail
from expo.auth import services as auth_services
from expo.auth.models import Role, User
from expo.categories.models import ProductCategory, exhibitor_categories
from expo.categories.tree import with_descendants
from expo.db import utcnow
from expo.errors import ExpoError, NotFound
from expo.exhibitors.models import (
    SEARCHED_COLUMNS,
    ApplicationStatus,
    Exhibitor,
    ExhibitorStaff,
    SpaceApplication,
    SpaceKind,
)
from expo.extensions import db
from expo.uploads import reencode_logo
from expo.venue.models import ExhibitionArea, Expo, Pavilion

S = ApplicationStatus


class ApplicationError(ExpoError):
    code = "application_rule"


#: The life cycle as data: (from status, action) → (to status, who may do it).
TRANSITIONS: dict[tuple[str, str], tuple[str, str]] = {
    (S.DRAFT, "submit"): (S.SUBMITTED, "exhibitor"),
    (S.DRAFT, "withdraw"): (S.WITHDRAWN, "exhibitor"),
    (S.SUBMITTED, "withdraw"): (S.WITHDRAWN, "exhibitor"),
    (S.WAITLISTED, "withdraw"): (S.WITHDRAWN, "exhibitor"),
    (S.APPROVED, "withdraw"): (S.WITHDRAWN, "exhibitor"),
    (S.REJECTED, "reopen"): (S.DRAFT, "exhibitor"),
    (S.WITHDRAWN, "reopen"): (S.DRAFT, "exhibitor"),
    (S.SUBMITTED, S.APPROVED): (S.APPROVED, "organizer"),
    (S.SUBMITTED, S.WAITLISTED): (S.WAITLISTED, "organizer"),
    (S.SUBMITTED, S.REJECTED): (S.REJECTED, "organizer"),
    (S.WAITLISTED, S.APPROVED): (S.APPROVED, "organizer"),
    (S.WAITLISTED, S.REJECTED): (S.REJECTED, "organizer"),
    (S.APPROVED, S.WAITLISTED): (S.WAITLISTED, "organizer"),
}

#: Statuses in which the exhibitor may still change the application's content.
EDITABLE = frozenset({S.DRAFT})

STATUS_LABELS = {
    S.DRAFT: _l("Draft"),
    S.SUBMITTED: _l("Submitted"),
    S.APPROVED: _l("Approved"),
    S.WAITLISTED: _l("Waitlisted"),
    S.REJECTED: _l("Rejected"),
    S.WITHDRAWN: _l("Withdrawn"),
}

ACTION_LABELS = {
    "submit": _l("Submit application"),
    "withdraw": _l("Withdraw application"),
    "reopen": _l("Revise and apply again"),
}

PROFILE_FIELDS = ("name_zh", "name_en", "country", "province", "city", "address", "website", "contact_name",
                  "contact_phone", "contact_email", "description")
APPLICATION_FIELDS = ("space_kind", "booths_requested", "raw_space_m2", "preferred_area_id", "preferred_pavilion_id",
                      "corner_preference", "years_exhibited", "competitors", "notes")


def current_expo() -> Expo:
    """The edition the app works on: the latest one by start date."""
    expo = db.session.scalar(select(Expo).order_by(Expo.starts_on.desc(), Expo.id.desc()).limit(1))
    if expo is None:
        raise NotFound(_l("No expo has been set up yet. Run 'flask demo' or create one."))
    return expo


def _clean(data: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    out = {k: data[k] for k in fields if k in data}
    for k, v in out.items():
        if isinstance(v, str):
            out[k] = v.strip()
    return out


def _profile_values(profile: dict[str, Any]) -> dict[str, Any]:
    """The profile fields of ``profile``, trimmed. A text left out (None, as a form gives for a field that was not
    sent, or the API for ``null``) is stored empty: only the two names may be NULL in the table."""
    values = _clean(profile, PROFILE_FIELDS)
    values = {k: "" if v is None and k not in ("name_zh", "name_en") else v for k, v in values.items()}
    for key in ("name_zh", "name_en"):  # a name not given is NULL, never "", so sorting falls back to the other one
        if key in values and not values[key]:
            values[key] = None
    return values


def _normalize_application(expo: Expo, values: dict[str, Any]) -> dict[str, Any]:
    """Defaults, and the rules that tie fields together (pavilion inside the chosen area, one kind of space)."""
    values.setdefault("space_kind", SpaceKind.STANDARD)
    if values.get("space_kind") == SpaceKind.RAW:
        values["booths_requested"] = 0
    else:
        values["raw_space_m2"] = 0
    for key in ("booths_requested", "raw_space_m2", "years_exhibited"):
        if key in values and values[key] is None:
            values[key] = 0
    for key in ("competitors", "notes"):
        if key in values and values[key] is None:
            values[key] = ""
    area_id, pavilion_id = values.get("preferred_area_id"), values.get("preferred_pavilion_id")
    if area_id is not None:
        area = db.session.get(ExhibitionArea, area_id)
        if area is None or area.expo_id != expo.id:
            raise ApplicationError(_l("Choose an exhibition area of this expo."), field="preferred_area_id")
    if pavilion_id is not None:
        pavilion = db.session.get(Pavilion, pavilion_id)
        if pavilion is None or pavilion.expo_id != expo.id:
            raise ApplicationError(_l("Choose a pavilion of this expo."), field="preferred_pavilion_id")
        if area_id is not None and pavilion.area_id not in (None, area_id):
            raise ApplicationError(_l("The preferred pavilion is not in the preferred exhibition area."),
                                   field="preferred_pavilion_id")
    return values


def _set_categories(exhibitor: Exhibitor, category_ids: list[int] | None) -> dict[str, list]:
    if category_ids is None:
        return {}
    wanted = set(category_ids)
    cats = list(db.session.scalars(select(ProductCategory).where(ProductCategory.id.in_(wanted)))) if wanted else []
    if len(cats) != len(wanted):
        raise ExpoError(_l("Choose product categories from the list."), field="categories")
    old = sorted(c.code for c in exhibitor.categories)
    exhibitor.categories = cats
    new = sorted(c.code for c in cats)
    return {"categories": [old, new]} if old != new else {}


def register(*, email: str, password: str, profile: dict[str, Any], application: dict[str, Any],
             category_ids: list[int] | None = None, logo=None, submit: bool = False, locale: str | None = None
             ) -> tuple[Exhibitor, User]:
    """A company signs itself up: its account, its profile and a space application (a draft, or submitted)."""
    expo = current_expo()
    exhibitor = Exhibitor(**_profile_values(profile))
    if logo is not None:
        exhibitor.logo_png = reencode_logo(logo)
        exhibitor.logo_updated_at = utcnow()
    db.session.add(exhibitor)
    db.session.flush()
    _set_categories(exhibitor, category_ids)
    user = auth_services.create_user(email, password, exhibitor.contact_name or email, Role.EXHIBITOR,
                                     exhibitor_id=exhibitor.id, locale=locale)
    app_values = _normalize_application(expo, _clean(application, APPLICATION_FIELDS))
    app = SpaceApplication(expo_id=expo.id, exhibitor=exhibitor, status=S.DRAFT, **app_values)
    db.session.add(app)
    db.session.flush()
    audit.record(user, "registered", exhibitor, exhibitor_id=exhibitor.id, email=user.email)
    if submit:
        change_status(user, app, "submit")
    return exhibitor, user


def update_profile(actor: User, exhibitor: Exhibitor, profile: dict[str, Any], category_ids: list[int] | None = None,
                   logo=None) -> dict[str, list]:
    """Change the company profile; returns what changed (also written to the audit log)."""
    changes = audit.diff(exhibitor, _profile_values(profile))
    changes.update(_set_categories(exhibitor, category_ids))
    if logo is not None:
        exhibitor.logo_png = reencode_logo(logo)
        exhibitor.logo_updated_at = utcnow()
        changes["logo"] = ["", "new"]
    if changes:
        audit.record(actor, "profile_updated", exhibitor, exhibitor_id=exhibitor.id, **changes)
    db.session.flush()
    return changes


def update_application(actor: User, application: SpaceApplication, values: dict[str, Any]) -> dict[str, list]:
    """Change the application's content. Exhibitors may do so only while it is a draft; organizers always."""
    if _side(actor, application) == "exhibitor" and application.status not in EDITABLE:
        raise ApplicationError(
            _l("A %(status)s application cannot be changed. Withdraw it or ask the organizer.",
               status=STATUS_LABELS[S(application.status)]), status=409, code="not_editable")
    # The fields that are checked together are checked against what the application holds where a change leaves
    # them out: a new pavilion against the chosen area, a note on a raw-space application keeps it raw.
    linked = {k: getattr(application, k) for k in ("space_kind", "preferred_area_id", "preferred_pavilion_id")}
    values = _normalize_application(application.expo, {**linked, **_clean(values, APPLICATION_FIELDS)})
    changes = audit.diff(application, values)
    if changes:
        audit.record(actor, "application_updated", application, exhibitor_id=application.exhibitor_id, **changes)
    db.session.flush()
    return changes


def allowed_actions(application: SpaceApplication, *, organizer: bool) -> list[str]:
    who = "organizer" if organizer else "exhibitor"
    return [action for (src, action), (_dst, by) in TRANSITIONS.items() if src == application.status and by == who]


def _side(actor: User, application: SpaceApplication) -> str:
    """Which side of the table ``actor`` takes for ``application``: the organizer, or the applying company.
    Anyone else (another company, a buyer, gate staff) is refused here, whatever the views let through."""
    if actor.is_organizer:
        return "organizer"
    if actor.exhibitor_id is not None and actor.exhibitor_id == application.exhibitor_id:
        return "exhibitor"
    raise ApplicationError(_l("This application belongs to another company."), status=403, code="forbidden")


def change_status(actor: User, application: SpaceApplication, action: str, reason: str = "") -> SpaceApplication:
    """Move the application along its life cycle and tell the exhibitor, or raise :class:`ApplicationError`."""
    rule = TRANSITIONS.get((application.status, action))
    who = _side(actor, application)
    if rule is None or rule[1] != who:
        raise ApplicationError(
            _l("This application is %(status)s; that step is not possible now.",
               status=STATUS_LABELS[S(application.status)]), status=409, code="bad_transition")
    target = S(rule[0])
    if action == "submit":
        _check_complete(application)
    if target == S.REJECTED and not reason.strip():
        raise ApplicationError(_l("Give the exhibitor a reason for the rejection."), field="reason")
    old = application.status
    application.status = target
    now = utcnow()
    if target == S.SUBMITTED:
        application.submitted_at = now
    if who == "organizer":
        application.decided_at = now
        application.decided_by_id = actor.id
        application.decision_reason = reason.strip()
    audit.record(actor, f"application_{action}", application, exhibitor_id=application.exhibitor_id,
                 status=[old, target.value], **({"reason": reason.strip()} if reason.strip() else {}))
    _notify(application, target, reason.strip())
    db.session.flush()
    return application


def _check_complete(application: SpaceApplication) -> None:
    ex = application.exhibitor
    if not (ex.name_zh or ex.name_en) or not ex.contact_email or not ex.contact_phone:
        raise ApplicationError(_l("Complete the company profile before submitting."), code="incomplete")
    if application.space_kind == SpaceKind.STANDARD and application.booths_requested < 1:
        raise ApplicationError(_l("Say how many standard booths you need."), field="booths_requested")
    if application.space_kind == SpaceKind.RAW and application.raw_space_m2 < 18:
        raise ApplicationError(_l("Say how many m² of raw space you need (at least 18)."), field="raw_space_m2")


_STATUS_MESSAGES = {
    S.SUBMITTED: _l("We have received your application for space at %(expo)s. We will tell you when it is decided."),
    S.APPROVED: _l("Your application for space at %(expo)s is approved. Booth allocation follows."),
    S.WAITLISTED: _l("Your application for space at %(expo)s is on the waiting list. We will tell you when space "
                     "becomes free."),
    S.REJECTED: _l("We are sorry: your application for space at %(expo)s is not accepted."),
    S.WITHDRAWN: _l("Your application for space at %(expo)s is withdrawn."),
    S.DRAFT: _l("Your application for space at %(expo)s is open again as a draft. Change it and submit it."),
}


def _notify(application: SpaceApplication, status: S, reason: str) -> None:
    exhibitor = application.exhibitor
    account = next(iter(exhibitor.accounts), None)
    locale = (account.locale if account else None) or ("zh" if exhibitor.country == "CN" else "en")
    with force_locale(locale):
        expo_name = application.expo.name_zh if locale.startswith("zh") else application.expo.name_en
        body = str(_STATUS_MESSAGES[status]) % {"expo": expo_name}
        if reason:
            body += "\n\n" + _("Reason: %(reason)s", reason=reason)
        subject = _("Application %(status)s: %(expo)s", status=str(STATUS_LABELS[status]), expo=expo_name)
        mail.queue(account.email if account else exhibitor.contact_email, subject, body, exhibitor_id=exhibitor.id)


def decide_many(actor: User, application_ids: list[int], decision: str, reason: str = "") -> list[SpaceApplication]:
    """The same decision for many applications: all of them, or none if any one cannot take it."""
    apps = list(db.session.scalars(
        select(SpaceApplication).where(SpaceApplication.id.in_(set(application_ids)))
        .options(joinedload(SpaceApplication.exhibitor))))
    if len(apps) != len(set(application_ids)):
        raise NotFound(_l("Some of the selected applications no longer exist."))
    blocked = [a for a in apps if TRANSITIONS.get((a.status, decision), (None, None))[1] != "organizer"]
    if blocked:
        names = ", ".join(a.exhibitor.display_name() for a in blocked[:5])
        raise ApplicationError(
            _l("Nothing was changed: %(n)d of the selected applications cannot be given this decision (%(names)s).",
               n=len(blocked), names=names), status=409, code="bad_transition")
    for app in apps:
        change_status(actor, app, decision, reason)
    return apps


def add_staff(actor: User, exhibitor: Exhibitor, values: dict[str, Any]) -> ExhibitorStaff:
    member = ExhibitorStaff(exhibitor=exhibitor, **_clean(values, STAFF_FIELDS))
    db.session.add(member)
    db.session.flush()
    audit.record(actor, "staff_added", member, exhibitor_id=exhibitor.id, name=member.name)
    return member


STAFF_FIELDS = ("name", "title", "phone", "email", "id_number")


def update_staff(actor: User, member: ExhibitorStaff, values: dict[str, Any]) -> dict[str, list]:
    values = {k: (v or "") for k, v in _clean(values, STAFF_FIELDS).items()}
    changes = audit.diff(member, values)
    if "id_number" in changes:
        changes["id_number"] = ["***", "***"]  # the audit log never holds document numbers
    if changes:
        audit.record(actor, "staff_updated", member, exhibitor_id=member.exhibitor_id, **changes)
    db.session.flush()
    return changes


def remove_staff(actor: User, member: ExhibitorStaff) -> None:
    audit.record(actor, "staff_removed", member, exhibitor_id=member.exhibitor_id, name=member.name)
    db.session.delete(member)
    db.session.flush()


def application_of(exhibitor: Exhibitor, expo: Expo | None = None) -> SpaceApplication | None:
    expo = expo or current_expo()
    return db.session.scalar(select(SpaceApplication).where(SpaceApplication.exhibitor_id == exhibitor.id,
                                                            SpaceApplication.expo_id == expo.id))


# --- the organizer's review queue ---------------------------------------------------------------------------------

SORTS = {
    "submitted": SpaceApplication.submitted_at,
    "name": func.coalesce(Exhibitor.name_en, Exhibitor.name_zh),
    "name_zh": func.coalesce(Exhibitor.name_zh, Exhibitor.name_en),
    "country": Exhibitor.country,
    "status": SpaceApplication.status,
    "booths": SpaceApplication.booths_requested,
    "years": SpaceApplication.years_exhibited,
}
#: Sorts that read the exhibitor; the others order by a column of the application alone.
EXHIBITOR_SORTS = frozenset({"name", "name_zh", "country"})
#: Sort columns that are never NULL: "NULLS LAST" changes nothing for them, and left out it lets PostgreSQL walk
#: their index backwards for a descending sort.
_NOT_NULL_SORTS = frozenset({"country", "status", "booths", "years"})


@dataclass
class QueueFilter:
    status: str | None = None
    area_id: int | None = None
    pavilion_id: int | None = None
    country: str | None = None
    category_id: int | None = None
    q: str | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None
    sort: str = "submitted"
    descending: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def queue_query(expo: Expo, f: QueueFilter) -> Select:
    """The applications of ``expo`` that match ``f``, joined to their exhibitor, in the requested order."""
    return (select(SpaceApplication, Exhibitor).join(Exhibitor, SpaceApplication.exhibitor_id == Exhibitor.id)
            .where(*_queue_conditions(expo, f)).order_by(*_queue_order(f)))


def queue_page(expo: Expo, f: QueueFilter, page: int, per_page: int) -> listing.Page:
    """One page of :func:`queue_query` (rows of application and exhibitor) and the total, as the review queue and
    the API list show them. The same rows as ``listing.paginate(queue_query(...))``, in three cheap statements
    instead of two dear ones at Canton-Fair size (bench/README.md):

    - the count reads the applications alone (the filters on the exhibitor are ``exhibitor_id IN (...)``);
    - the page's ids are sorted by themselves, narrow rows, joined to the exhibitors only for a sort by name or
      country: a deep page sorted by booths walks an index instead of sorting 30,000 whole rows;
    - the page's rows are then loaded by id.
    """
    conditions = _queue_conditions(expo, f)
    ids = select(SpaceApplication.id).where(*conditions).order_by(*_queue_order(f))
    if _sort_key(f) in EXHIBITOR_SORTS:
        ids = ids.join(Exhibitor, SpaceApplication.exhibitor_id == Exhibitor.id)
    result = listing.paginate(ids, page, per_page, scalars=True,
                              count=select(func.count()).select_from(SpaceApplication).where(*conditions))
    if result.items:
        rows = {row[0].id: row for row in db.session.execute(
            select(SpaceApplication, Exhibitor).join(Exhibitor, SpaceApplication.exhibitor_id == Exhibitor.id)
            .where(SpaceApplication.id.in_(result.items)))}
        result.items = [rows[i] for i in result.items if i in rows]
    return result


def _queue_conditions(expo: Expo, f: QueueFilter) -> list:
    """The queue's WHERE, over space_applications alone. What concerns the exhibitor is asked as
    ``exhibitor_id IN (SELECT id FROM exhibitors WHERE ...)``: the rows of a join (every application has its
    exhibitor), but a count or a sort by the application's own columns never has to read the exhibitors."""
    conditions = [SpaceApplication.expo_id == expo.id]
    if f.status:
        conditions.append(SpaceApplication.status == f.status)
    if f.area_id:
        conditions.append(SpaceApplication.preferred_area_id == f.area_id)
    if f.pavilion_id:
        conditions.append(SpaceApplication.preferred_pavilion_id == f.pavilion_id)
    if f.category_id:  # a category with its subcategories: "Athletic shoes" finds the makers of running shoes
        conditions.append(exists().where(
            exhibitor_categories.c.exhibitor_id == SpaceApplication.exhibitor_id,
            exhibitor_categories.c.category_id.in_(with_descendants(f.category_id))))
    company = []
    if f.country:
        company.append(Exhibitor.country == f.country.upper())
    if f.q:
        like = f"%{escape_like(f.q.strip())}%"
        # SQLite's LIKE already ignores case for ASCII letters, the only ones its lower() folds: ILIKE, which SQLite
        # runs as lower(x) LIKE lower(y), finds the same rows at well over twice the cost of a plain LIKE there.
        # PostgreSQL's ILIKE folds every letter and uses the trigram indexes.
        sqlite = db.session.get_bind().dialect.name == "sqlite"
        company.append(or_(*(getattr(Exhibitor, column).like(like, escape="\\") if sqlite
                             else getattr(Exhibitor, column).ilike(like, escape="\\") for column in SEARCHED_COLUMNS)))
    if company:  # uncorrelated, also inside queue_query where the exhibitors are joined
        conditions.append(SpaceApplication.exhibitor_id.in_(select(Exhibitor.id).where(*company).correlate(None)))
    if f.submitted_from:
        conditions.append(SpaceApplication.submitted_at >= datetime.combine(f.submitted_from, time.min))
    if f.submitted_to:
        conditions.append(SpaceApplication.submitted_at <= datetime.combine(f.submitted_to, time.max))
    return conditions


def _sort_key(f: QueueFilter) -> str:
    return f.sort if f.sort in SORTS else "submitted"


def _queue_order(f: QueueFilter) -> list:
    key = _sort_key(f)
    order = SORTS[key].desc() if f.descending else SORTS[key].asc()
    if key not in _NOT_NULL_SORTS:
        order = order.nulls_last()
    return [order, SpaceApplication.id.desc() if f.descending else SpaceApplication.id]


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def status_counts(expo: Expo) -> dict[str, int]:
    rows = db.session.execute(select(SpaceApplication.status, func.count()).where(SpaceApplication.expo_id == expo.id)
                              .group_by(SpaceApplication.status))
    counts = {s.value: 0 for s in S}
    counts.update({status: n for status, n in rows})
    return counts
