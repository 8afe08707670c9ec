"""Delegation pages: the leader's (their delegation, its members with passport data) and the organizer's
(the delegations board with the arrival schedule, exports, a delegation's detail page, a new delegation).

Every lookup goes through :mod:`expo.buyers.access`: another leader's delegation or member is "not found". Passport
data is read through ``read_passports`` only (each read is audited) and committed with the page. The leader's and
the organizer's member pages are the same views and templates, told apart by ``side``.
"""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from expo.auth.access import ORGANIZERS, allow
from expo.auth.models import Role
from expo.buyers import access
from expo.buyers import delegations as services
from expo.buyers.delegation_forms import BoardFilterForm, DelegationDetailsForm, MemberForm, OrganizerDelegationForm
from expo.buyers.models import Buyer, Delegation
from expo.exhibitors.forms import EmptyForm
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.formflow import filter_args, run_form
from expo.i18n import current_lang
from expo.venue import queries as venue_queries

bp = Blueprint("delegations", __name__)

LEADER, ORGANIZER = "leader", "organizer"
FILTER_KEYS = ("q", "country", "arrival_from", "arrival_to", "interpreter", "sort", "desc")


def _category_choices() -> list[tuple[int, str]]:
    return venue_queries.category_choices(current_lang())


def _set_password_url(token: str) -> str:
    return url_for("auth.reset_password", token=token, _external=True)


def _endpoint(side: str, name: str) -> str:
    return f"delegations.{side}_{name}"


def _delegation_url(side: str, delegation: Delegation, **kwargs) -> str:
    return url_for(_endpoint(side, "delegation"), delegation_id=delegation.id, **kwargs)


#: The delegation's invitation letters (one PDF) and its members' import, per side (expo.letters,
#: expo.buyers.import_views).
OTHER_PAGES = {
    LEADER: {"letters": "letters.leader_letters", "import": "buyer_imports.leader_members"},
    ORGANIZER: {"letters": "letters.delegation_pdf", "import": "buyer_imports.organizer_members"},
}


def _links(side: str, delegation: Delegation) -> dict[str, str]:
    """The delegation's letters and import pages, for those of them this app has."""
    views = current_app.view_functions
    return {key: url_for(endpoint, delegation_id=delegation.id) for key, endpoint in OTHER_PAGES[side].items()
            if endpoint in views}


def _delegation_page(delegation: Delegation, form, side: str, status: int, *, show_passports: bool):
    """The delegation page, for either side: the details form and the members table. Reading the members' passport
    data writes one audit entry per member, committed here (a GET commits too) once the page is rendered: a commit
    expires the loaded rows, and the table would then load each member again, one query per row."""
    members = services.members_of(delegation)
    passports = access.read_passports(current_user, members, "member_page") if show_passports else {}
    page = render_template("delegations/delegation.html", delegation=delegation, form=form, members=members,
                           passports=passports, show_passports=show_passports, side=side,
                           links=_links(side, delegation), valid_until=services.passport_valid_until(current_expo()))
    db.session.commit()
    return page, status


# --- the leader's pages --------------------------------------------------------------------------------------------

@bp.get("/leader/")
@allow(Role.DELEGATION_LEADER)
def leader_home():
    mine = access.led_delegations(current_user, current_expo())
    if len(mine) == 1:  # most leaders lead one delegation: straight to it
        return redirect(_delegation_url(LEADER, mine[0]))
    counts = dict(db.session.execute(select(Buyer.delegation_id, func.count(Buyer.id)).where(
        Buyer.delegation_id.in_([d.id for d in mine])).group_by(Buyer.delegation_id)).all()) if mine else {}
    return render_template("delegations/leader_home.html", delegations=mine, counts=counts)


@bp.route("/leader/delegations/<int:delegation_id>", methods=["GET", "POST"])
@allow(Role.DELEGATION_LEADER)
def leader_delegation(delegation_id: int):
    expo = current_expo()
    delegation = access.delegation_for(current_user, expo, delegation_id)
    form = DelegationDetailsForm(obj=delegation, category_choices=_category_choices(), expo=expo,
                                 base=services.DelegationData.of(delegation))
    if request.method == "GET":
        form.categories.data = [c.id for c in delegation.categories]
    outcome = run_form(form, lambda: services.update_delegation(current_user, delegation, form.delegation_data()))
    if outcome.ok:
        flash(_("The delegation's details are saved."), "success")
        return redirect(_delegation_url(LEADER, delegation))
    return _delegation_page(delegation, form, LEADER, outcome.status, show_passports=True)


@bp.route("/leader/delegations/<int:delegation_id>/members/new", methods=["GET", "POST"])
@allow(Role.DELEGATION_LEADER)
def leader_member_new(delegation_id: int):
    return _member_new(delegation_id, LEADER)


@bp.route("/leader/delegations/<int:delegation_id>/members/<int:buyer_id>", methods=["GET", "POST"])
@allow(Role.DELEGATION_LEADER)
def leader_member(delegation_id: int, buyer_id: int):
    return _member_edit(delegation_id, buyer_id, LEADER)


@bp.route("/leader/delegations/<int:delegation_id>/members/<int:buyer_id>/remove", methods=["GET", "POST"])
@allow(Role.DELEGATION_LEADER)
def leader_member_remove(delegation_id: int, buyer_id: int):
    return _member_remove(delegation_id, buyer_id, LEADER)


# --- member pages, shared by both sides ----------------------------------------------------------------------------

def _member_new(delegation_id: int, side: str):
    expo = current_expo()
    delegation = access.delegation_for(current_user, expo, delegation_id)
    form = MemberForm(locale=current_lang(), expo=expo, delegation=delegation)
    if request.method == "GET":
        form.nationality.data = delegation.country  # most members hold the passport of the delegation's country
    outcome = run_form(form, lambda: services.add_member(current_user, delegation, form.member_data()))
    if outcome.ok:
        flash(_("%(name)s is added to the delegation.", name=outcome.value.name), "success")
        if "add_another" in request.form:
            return redirect(url_for(_endpoint(side, "member_new"), delegation_id=delegation.id))
        return redirect(_delegation_url(side, delegation, _anchor="members"))
    return render_template("delegations/member.html", form=form, delegation=delegation, member=None, side=side,
                           valid_until=services.passport_valid_until(expo)), outcome.status


def _member_edit(delegation_id: int, buyer_id: int, side: str):
    expo = current_expo()
    delegation = access.delegation_for(current_user, expo, delegation_id)
    member = access.member_for(current_user, delegation, buyer_id)
    kwargs = {"locale": current_lang(), "expo": expo, "delegation": delegation, "member": member}
    if request.method == "GET":
        passport = access.read_passports(current_user, [member], "member_page").get(member.id)
        form = MemberForm(data=asdict(services.member_data_of(member, passport)), **kwargs)
        db.session.commit()  # the read's audit entry
    else:
        form = MemberForm(**kwargs)
    outcome = run_form(form, lambda: services.update_member(current_user, member, form.member_data()))
    if outcome.ok:
        flash(_("%(name)s is saved.", name=member.name), "success")
        return redirect(_delegation_url(side, delegation, _anchor="members"))
    return render_template("delegations/member.html", form=form, delegation=delegation, member=member, side=side,
                           valid_until=services.passport_valid_until(expo)), outcome.status


def _member_remove(delegation_id: int, buyer_id: int, side: str):
    delegation = access.delegation_for(current_user, current_expo(), delegation_id)
    member = access.member_for(current_user, delegation, buyer_id)
    form = EmptyForm()
    outcome = run_form(form, lambda: services.remove_member(current_user, member))
    if outcome.ok:
        flash(_("%(name)s is removed from the delegation.", name=member.name), "info")
        return redirect(_delegation_url(side, delegation, _anchor="members"))
    return render_template("delegations/remove.html", form=form, delegation=delegation, member=member,
                           side=side), outcome.status


# --- the organizer's pages -------------------------------------------------------------------------------------------

def _board_filter() -> tuple[BoardFilterForm, services.BoardFilter | None]:
    form = BoardFilterForm(request.args, locale=current_lang())
    if not form.validate():
        return form, None
    d = form.data
    return form, services.BoardFilter(
        country=d["country"] or None, arrival_from=d["arrival_from"], arrival_to=d["arrival_to"],
        interpreter={"yes": True, "no": False}.get(d["interpreter"]), q=d["q"] or None,
        sort=d["sort"] or "arrival", descending=bool(d["desc"]))


@bp.get("/organizer/delegations")
@allow(*ORGANIZERS)
def board():
    form, flt = _board_filter()
    if flt is None:
        return render_template("delegations/board.html", form=form, page=None, schedule=[], days={},
                               args={}), 400
    expo = current_expo()
    per_page = form.per_page.data or int(current_app.config.get("PAGE_SIZE", 50))
    page = services.board_page(expo, flt, form.page.data or 1, per_page)
    schedule = services.arrival_schedule(expo, flt)
    return render_template("delegations/board.html", form=form, page=page, schedule=schedule,
                           days={d.day: d for d in schedule}, grouped=flt.sort == "arrival", args=filter_args(FILTER_KEYS, keep_empty=True),
                           day_label=lambda d: format_date(d, "full"))



def _fmt(fmt: str) -> str:
    if fmt not in services.MIMETYPES:
        abort(404)
    return fmt


def _with_passports() -> bool:
    """The explicit option to export passport data: an organizer admin's alone (staff get 403)."""
    wanted = request.args.get("passports") in ("1", "y", "yes", "true")
    if wanted and current_user.role != Role.ADMIN:
        abort(403)
    return wanted


@bp.get("/organizer/delegations/export.<fmt>")
@allow(*ORGANIZERS)
def export(fmt: str):
    fmt = _fmt(fmt)
    _form, flt = _board_filter()
    if flt is None:
        abort(400)
    expo = current_expo()
    body, mimetype = services.export_board(db.session.execute(services.board_query(expo, flt)), fmt, current_lang())
    return send_file(body, mimetype=mimetype, as_attachment=True, download_name=f"delegations-{expo.code}.{fmt}")


@bp.get("/organizer/delegations/members.<fmt>")
@allow(*ORGANIZERS)
def export_members(fmt: str):
    """The members of the delegations the board shows (its filters), without passport data unless an admin asks."""
    fmt = _fmt(fmt)
    with_passports = _with_passports()
    _form, flt = _board_filter()
    if flt is None:
        abort(400)
    expo = current_expo()
    delegations = [d for d, _leader, _n in db.session.execute(services.board_query(expo, flt))]
    body, mimetype = services.export_members(current_user, delegations, fmt, current_lang(),
                                             with_passports=with_passports)
    db.session.commit()  # the passport reads' audit entries
    return send_file(body, mimetype=mimetype, as_attachment=True,
                     download_name=f"delegation-members-{expo.code}.{fmt}")


@bp.get("/organizer/delegations/<int:delegation_id>/members.<fmt>")
@allow(*ORGANIZERS)
def export_delegation_members(delegation_id: int, fmt: str):
    fmt = _fmt(fmt)
    with_passports = _with_passports()
    delegation = access.delegation_for(current_user, current_expo(), delegation_id)
    body, mimetype = services.export_members(current_user, [delegation], fmt, current_lang(),
                                             with_passports=with_passports)
    db.session.commit()
    return send_file(body, mimetype=mimetype, as_attachment=True,
                     download_name=f"delegation-{delegation.id}-members.{fmt}")


@bp.route("/organizer/delegations/new", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def new():
    expo = current_expo()
    form = OrganizerDelegationForm(category_choices=_category_choices(), expo=expo, locale=current_lang())
    outcome = run_form(form, lambda: services.create_delegation(
        current_user, expo, form.delegation_data(), leader_email=form.leader_email.data or "",
        leader_name=form.leader_name.data or "", set_password_url_for=_set_password_url))
    if outcome.ok:
        flash(_("The delegation %(name)s is set up.", name=outcome.value.name), "success")
        return redirect(_delegation_url(ORGANIZER, outcome.value))
    return render_template("delegations/new.html", form=form), outcome.status


@bp.route("/organizer/delegations/<int:delegation_id>", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def organizer_delegation(delegation_id: int):
    expo = current_expo()
    delegation = access.delegation_for(current_user, expo, delegation_id)
    form = OrganizerDelegationForm(obj=delegation, category_choices=_category_choices(), expo=expo,
                                   base=services.DelegationData.of(delegation), locale=current_lang())
    if request.method == "GET":
        form.categories.data = [c.id for c in delegation.categories]
        form.leader_email.data = delegation.leader.email if delegation.leader else ""
        form.leader_name.data = delegation.leader.name if delegation.leader else ""

    def save():
        services.update_delegation(current_user, delegation, form.delegation_data())
        services.assign_leader(current_user, delegation, form.leader_email.data or "", form.leader_name.data or "",
                               set_password_url_for=_set_password_url)

    outcome = run_form(form, save)
    if outcome.ok:
        flash(_("The delegation's details are saved."), "success")
        return redirect(_delegation_url(ORGANIZER, delegation))
    # Passport columns only on request ("Show passport data"): each showing is an audited read.
    return _delegation_page(delegation, form, ORGANIZER, outcome.status,
                            show_passports=request.args.get("passports") == "1")


@bp.route("/organizer/delegations/<int:delegation_id>/members/new", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def organizer_member_new(delegation_id: int):
    return _member_new(delegation_id, ORGANIZER)


@bp.route("/organizer/delegations/<int:delegation_id>/members/<int:buyer_id>", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def organizer_member(delegation_id: int, buyer_id: int):
    return _member_edit(delegation_id, buyer_id, ORGANIZER)


@bp.route("/organizer/delegations/<int:delegation_id>/members/<int:buyer_id>/remove", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def organizer_member_remove(delegation_id: int, buyer_id: int):
    return _member_remove(delegation_id, buyer_id, ORGANIZER)
