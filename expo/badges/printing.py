"""Printing badges: which badges a selection means, one badge on demand, and batches as background jobs.

A selection is plain data (kept on the :class:`~expo.badges.models.PrintJob`): ``{"delegation_id": 7}``,
``{"pavilion_id": 3}`` (the staff of the exhibitors holding booths in the pavilion), ``{"exhibitor_id": 12}``,
``{"badge_type_id": 2}`` (badges issued under that type), ``{"holder_kind": "buyer"}`` (everyone of a kind: every
buyer, the staff of every exhibitor holding a booth, every visitor, every organizer account) or
``{"badge_ids": [...]}``. Holders without a badge get one when the selection is resolved, so "print the
delegation" works before anyone issued anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from expo import countries
from expo.auth.models import ORGANIZER_ROLES, User
from expo.badges import layouts, render, services
from expo.badges.models import Badge, BadgeStatus, BadgeType, HolderKind, PrintJob, Visitor
from expo.buyers.models import Buyer
from expo.db import utcnow
from expo.exhibitors.models import Exhibitor, ExhibitorStaff
from expo.extensions import db
from expo.jobs import STALE_AFTER
from expo.venue.models import Booth, BoothStatus, Expo

SELECTION_KEYS = ("delegation_id", "pavilion_id", "exhibitor_id", "badge_type_id", "badge_ids", "holder_kind")
#: Progress is written to the job's row every this many badges (one small UPDATE and commit each time).
PROGRESS_EVERY = 200


class PrintError(services.BadgeError):
    code = "print"


def resolve(actor: User | None, expo: Expo, selection: dict[str, Any]) -> list[Badge]:
    """The badges a selection means, issuing badges to holders who have none yet; active badges only."""
    if "delegation_id" in selection:
        buyers = db.session.scalars(select(Buyer).where(Buyer.expo_id == expo.id,
                                                        Buyer.delegation_id == int(selection["delegation_id"]))
                                    .order_by(Buyer.id))
        badges = services.issue_many(actor, expo, [services.holder_of_buyer(b) for b in buyers])
    elif "pavilion_id" in selection or "exhibitor_id" in selection:
        if "pavilion_id" in selection:
            exhibitor_ids = select(Booth.exhibitor_id).where(
                Booth.expo_id == expo.id, Booth.pavilion_id == int(selection["pavilion_id"]),
                Booth.status == BoothStatus.ASSIGNED).distinct()
        else:
            exhibitor_ids = select(Exhibitor.id).where(Exhibitor.id == int(selection["exhibitor_id"]))
        rows = db.session.execute(select(ExhibitorStaff, Exhibitor).join(Exhibitor)
                                  .where(Exhibitor.id.in_(exhibitor_ids))
                                  .order_by(Exhibitor.name_en, Exhibitor.id, ExhibitorStaff.id)).all()
        badges = services.issue_many(actor, expo, [services.holder_of_staff(m, e) for m, e in rows])
    elif "badge_type_id" in selection:
        badges = list(db.session.scalars(select(Badge).where(
            Badge.expo_id == expo.id, Badge.badge_type_id == int(selection["badge_type_id"])).order_by(
            Badge.company, Badge.name, Badge.id)))
    elif "holder_kind" in selection:
        badges = services.issue_many(actor, expo, _holders_of_kind(expo, str(selection["holder_kind"])))
    elif "badge_ids" in selection:
        ids = [int(i) for i in selection["badge_ids"]]
        found = {b.id: b for b in db.session.scalars(select(Badge).where(Badge.expo_id == expo.id,
                                                                        Badge.id.in_(ids)))}
        badges = [found[i] for i in ids if i in found]
    else:
        raise PrintError(_l("Choose what to print: a delegation, a pavilion, a badge type or some badges."))
    return [b for b in badges if b.status == BadgeStatus.ACTIVE]


def _holders_of_kind(expo: Expo, kind: str) -> list[services.Holder]:
    """Everyone of one kind who gets a badge at ``expo``."""
    if kind == HolderKind.BUYER:
        return [services.holder_of_buyer(b) for b in db.session.scalars(
            select(Buyer).where(Buyer.expo_id == expo.id).order_by(Buyer.id))]
    if kind == HolderKind.EXHIBITOR_STAFF:
        holding = select(Booth.exhibitor_id).where(Booth.expo_id == expo.id, Booth.status == BoothStatus.ASSIGNED)
        return [services.holder_of_staff(m, e) for m, e in db.session.execute(
            select(ExhibitorStaff, Exhibitor).join(Exhibitor).where(Exhibitor.id.in_(holding))
            .order_by(Exhibitor.name_en, Exhibitor.id, ExhibitorStaff.id))]
    if kind == HolderKind.VISITOR:
        return [services.holder_of_visitor(v) for v in db.session.scalars(
            select(Visitor).where(Visitor.expo_id == expo.id).order_by(Visitor.id))]
    if kind == HolderKind.ORGANIZER:
        return [services.holder_of_user(u, expo) for u in db.session.scalars(
            select(User).where(User.role.in_([str(r) for r in ORGANIZER_ROLES]), User.active.is_(True))
            .order_by(User.id))]
    raise PrintError(_l("Unknown kind of badge holder."))


def cards(expo: Expo, badges: Sequence[Badge], *, layout: str = "", locale: str = "en") -> list[render.BadgeCard]:
    """What the renderer draws for each badge; ``layout`` overrides the badge types' own layouts."""
    types = {t.id: t for t in db.session.scalars(select(BadgeType).where(BadgeType.expo_id == expo.id))}
    ids = [b.id for b in badges]
    modules: dict[int, bytes] = {}
    for start in range(0, len(ids), 1000):  # the modules are deferred: one query per thousand, not per badge
        modules.update(db.session.execute(select(Badge.id, Badge.qr_modules).where(
            Badge.id.in_(ids[start:start + 1000]))).all())
    out = []
    for badge in badges:
        badge_type = types[badge.badge_type_id]
        packed = modules[badge.id]
        out.append(render.BadgeCard(
            name=badge.name, name_native=badge.name_native, company=badge.company,
            country=_country(badge.country), confirmation=badge.confirmation,
            type_label=f"{badge_type.name_zh} {badge_type.name_en.upper()}", colour=badge_type.colour,
            qr=packed, layout=layout or badge_type.layout))  # drawn from the packed bits as they are
    return out


def _country(code: str) -> str:
    if not code:
        return ""
    en, zh = countries.name(code, "en"), countries.name(code, "zh")
    return en if en == zh else f"{en} {zh}"


def pdf_of(expo: Expo, badges: Sequence[Badge], *, layout: str = "",
           progress: Callable[[int], None] | None = None) -> bytes:
    """The PDF of ``badges`` (no print is recorded here: see :func:`services.record_print`)."""
    if layout and layout not in layouts.PRESETS:
        raise PrintError(_l("Unknown layout."), field="layout")
    return render.render(cards(expo, badges, layout=layout), layouts.PRESETS, title=expo.name_en, progress=progress,
                         progress_every=PROGRESS_EVERY)


def create_job(actor: User | None, expo: Expo, selection: dict[str, Any], *, layout: str = "",
               title: str = "") -> PrintJob:
    """A queued print job for ``selection`` (checked here: an unknown key or id fails now, not in the background)."""
    selection = {k: v for k, v in selection.items() if k in SELECTION_KEYS and v not in (None, "", [])}
    if len(selection) != 1:
        raise PrintError(_l("Choose what to print: a delegation, a pavilion, a badge type or some badges."))
    if layout and layout not in layouts.PRESETS:
        raise PrintError(_l("Unknown layout."), field="layout")
    if "holder_kind" in selection and selection["holder_kind"] not in set(HolderKind):
        raise PrintError(_l("Unknown kind of badge holder."))
    job = PrintJob(expo_id=expo.id, created_by_id=actor.id if actor is not None and actor.is_authenticated else None,
                   title=title[:200], selection=selection, layout=layout, status="queued", total=0, done=0)
    db.session.add(job)
    db.session.flush()
    return job


def restart_job(job: PrintJob) -> PrintJob:
    """Queue a failed job again (the reason of its failure is cleared when it starts)."""
    if job.status != "failed":
        raise PrintError(_l("Only a failed print job can be started again."), status=409)
    job.status, job.done, job.finished_at = "queued", 0, None
    db.session.flush()
    return job


def run_job(job_id: int) -> None:
    """Do a print job: resolve its badges, render them with progress, keep the PDF, count the prints.

    Runs in its own transactions (it is the background thread's whole unit of work): progress is committed as it
    goes so that the page polling it sees it move; a failure marks the job failed with the reason.
    """
    job = db.session.get(PrintJob, job_id)
    if job is None or job.status not in ("queued", "failed"):
        return
    expo = db.session.get(Expo, job.expo_id)
    actor = db.session.get(User, job.created_by_id) if job.created_by_id else None
    try:
        job.status, job.error, job.done = "running", "", 0
        db.session.commit()
        ids = [b.id for b in resolve(actor, expo, job.selection)]
        job.total = len(ids)
        db.session.commit()  # the badges issued for the selection, and the total for the progress bar
        # The commit expired every badge: load them again in a few queries (touched one by one, each would be a
        # query of its own — for 10,000 badges the cards and the print counts took 20,000 queries).
        badges = _load(ids)
        done = [0]

        def progress(n: int) -> None:
            done[0] += n
            # Its own connection and transaction, committed at once so that the page polling the job sees it move;
            # a commit of the session would expire the badges again.
            with db.engine.begin() as connection:
                connection.execute(update(PrintJob).where(PrintJob.id == job_id).values(done=done[0],
                                                                                         updated_at=utcnow()))

        pdf = pdf_of(expo, badges, layout=job.layout, progress=progress)
        job = db.session.get(PrintJob, job_id)
        services.record_print(actor, badges, job_id=job_id)
        job.pdf, job.done, job.status, job.finished_at = pdf, len(badges), "done", utcnow()
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        job = db.session.get(PrintJob, job_id)
        job.status, job.error, job.finished_at = "failed", str(getattr(exc, "message", exc))[:2000], utcnow()
        db.session.commit()
        if not isinstance(exc, services.BadgeError):
            raise


def _load(ids: list[int]) -> list[Badge]:
    """The badges of ``ids`` in that order, loaded a thousand at a time."""
    found: dict[int, Badge] = {}
    for start in range(0, len(ids), 1000):
        found.update((b.id, b) for b in db.session.scalars(select(Badge).where(Badge.id.in_(ids[start:start + 1000]))))
    return [found[i] for i in ids if i in found]


def fail_stale(expo: Expo) -> int:
    """Mark as failed the running jobs whose progress has not moved for a while (their process stopped)."""
    cutoff = utcnow() - STALE_AFTER
    result = db.session.execute(update(PrintJob).where(
        PrintJob.expo_id == expo.id, PrintJob.status == "running", PrintJob.updated_at < cutoff).values(
        status="failed", error="stopped: the process running it ended", finished_at=utcnow()))
    return result.rowcount or 0
