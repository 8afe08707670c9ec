"""/api/v1 buyers and delegations: the organizer's buyer list, a buyer's profile and hosted-buyer decision; the
delegations with their members and the members' passport data.

Same services, forms and access rules as the pages (:mod:`expo.buyers.services`, :mod:`expo.buyers.delegations`,
:mod:`expo.buyers.access`), so the API can do nothing a page could not:

- the organizer sees every buyer and delegation; a delegation leader their own delegations and those members; a
  buyer their own profile. Anything else is 404, so ids cannot be probed; a role that has no business here is 403;
- passport data appears only when asked for (``?include=passport``), and each such answer reads it through
  :func:`expo.buyers.access.read_passports` (purpose ``"api"``), which writes one audit entry per member read;
- bodies are validated by the pages' forms (partial updates merge the body over what is stored), refusals are JSON
  422 with ``fields``; a rule of a service that says no is a 400/403/409 with a reason code; nothing is half-written
  (one commit per request, after the services).

Imported at the end of :mod:`expo.api.views`, whose blueprint, ``@operation`` and validation helpers it uses.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import SelectField
from wtforms.validators import Optional

from expo import listing
from expo.api import schemas as s
from expo.api.bodies import json_body, validated
from expo.api.openapi import operation
from expo.api.views import bp
from expo.auth.access import ORGANIZERS, allow
from expo.auth.models import Role, User
from expo.buyers import access
from expo.buyers import delegations as delegation_services
from expo.buyers import queries as buyer_queries
from expo.buyers import services as buyer_services
from expo.buyers.delegation_forms import BoardFilterForm, MemberForm, OrganizerDelegationForm
from expo.buyers.delegations import DelegationError
from expo.buyers.forms import BuyerFilterForm, BuyerProfileForm, HostedDecisionForm
from expo.buyers.models import Buyer, Delegation, HostedStatus, Passport, delegation_categories
from expo.errors import Forbidden, InvalidInput
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.forms import QueryForm, form_errors, options
from expo.i18n import current_lang
from expo.venue import queries as venue_queries

#: Who may call the buyer and delegation resources at all; which rows each one reaches is :mod:`expo.buyers.access`.
BUYER_AUDIENCE = (*ORGANIZERS, Role.DELEGATION_LEADER, Role.BUYER)
DELEGATION_AUDIENCE = (*ORGANIZERS, Role.DELEGATION_LEADER)

PASSPORT = {"number": "string", "expires_on": s.NULLABLE_STR, "nationality": "string",
            "date_of_birth": s.NULLABLE_STR}
MEMBER = {"id": "integer", "delegation_id": "integer", "name": "string", "name_native": "string",
          "company": "string", "job_title": "string", "email": "string", "phone": "string", "country": "string",
          "status": "string",
          "passport": {**s.schema(PASSPORT), "type": ["object", "null"],
                       "description": "only with ?include=passport (each answer is written to the audit log)"}}
LEADER = {"id": "integer", "name": "string", "email": "string"}
DELEGATION = {"id": "integer", "name": "string", "country": "string", "organization": "string",
              "leader": {**s.schema(LEADER), "type": ["object", "null"]},
              "arrival_date": s.NULLABLE_STR, "departure_date": s.NULLABLE_STR, "arrival_flight": "string",
              "departure_flight": "string", "hotel": "string", "interpreter_needed": "boolean",
              "interpreter_language": "string",
              "notes": {"type": ["string", "null"], "description": "the organizer's notes; null for the leader"},
              "categories": {"type": "array", "items": {"type": "integer"}}, "members": "integer",
              "created_at": "string"}


class IncludeForm(QueryForm):
    """``?include=passport``: the members' passport data too (an audited read)."""

    include = SelectField(_l("Include"), [Optional()], default="",
                          choices=options([("", _l("Nothing more")), ("passport", _l("Passport data"))]))


def _include_passport() -> bool:
    form = IncludeForm(request.args)
    if not form.validate():
        errors = form_errors(form)
        raise InvalidInput(errors)
    return form.include.data == "passport"


@bp.errorhandler(DelegationError)
def _delegation_error(exc: DelegationError):
    """A delegation or member rule said no: every problem beside its field, as the form would show them."""
    db.session.rollback()
    fields: dict[str, list[str]] = {}
    for problem in exc.problems:
        fields.setdefault(problem.field, []).append(str(problem))
    if not fields and exc.field:
        fields[exc.field] = [str(exc.message)]
    body: dict[str, Any] = {"error": exc.code, "message": str(exc.message)}
    if fields:
        body["fields"] = fields
    return jsonify(body), exc.status


# --- delegations -----------------------------------------------------------------------------------------------------

def _member_counts(ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    return dict(db.session.execute(select(Buyer.delegation_id, func.count(Buyer.id))
                                   .where(Buyer.delegation_id.in_(ids)).group_by(Buyer.delegation_id)).all())


def _category_ids(table, key, ids: list[int]) -> dict[int, list[int]]:
    """Category ids per row for a page of rows, in one query."""
    out: dict[int, list[int]] = {}
    if ids:
        for row_id, cat_id in db.session.execute(select(key, table.c.category_id).where(key.in_(ids))
                                                 .order_by(key, table.c.category_id)):
            out.setdefault(row_id, []).append(cat_id)
    return out


def _delegation(d: Delegation, *, leader: User | None = None, members: int | None = None,
                categories: list[int] | None = None) -> dict[str, Any]:
    leader = leader if leader is not None else d.leader
    if members is None:
        members = _member_counts([d.id]).get(d.id, 0)
    if categories is None:
        categories = [c.id for c in d.categories]
    return s.dump(d, DELEGATION, leader=s.dump(leader, LEADER) if leader else None, members=members,
                  categories=categories, notes=d.notes if current_user.is_organizer else None)


def _delegations_json(rows: list[tuple[Delegation, User | None, int]]) -> list[dict[str, Any]]:
    cats = _category_ids(delegation_categories, delegation_categories.c.delegation_id, [d.id for d, _u, _n in rows])
    return [_delegation(d, leader=leader, members=n or 0, categories=cats.get(d.id, [])) for d, leader, n in rows]


def _board_filter() -> tuple[BoardFilterForm, delegation_services.BoardFilter]:
    form = BoardFilterForm(request.args, locale=current_lang())
    if not form.validate():
        errors = form_errors(form)
        raise InvalidInput(errors)
    d = form.data
    return form, delegation_services.BoardFilter(
        country=d["country"] or None, arrival_from=d["arrival_from"], arrival_to=d["arrival_to"],
        interpreter={"yes": True, "no": False}.get(d["interpreter"]), q=d["q"] or None,
        sort=d["sort"] or "arrival", descending=bool(d["desc"]))


@bp.get("/delegations")
@allow(*DELEGATION_AUDIENCE)
@operation("Delegations with their leader and member count, filtered, sorted and paginated like the organizer's "
           "delegations board", tag="delegations", query=BoardFilterForm, response=s.page_schema(s.schema(DELEGATION)),
           description="Organizers see every delegation; a delegation leader the delegations they lead.")
def delegations():
    form, flt = _board_filter()
    expo = current_expo()
    page_no, per_page = form.page.data or 1, form.per_page.data or 50
    if current_user.is_organizer:
        page = delegation_services.board_page(expo, flt, page_no, per_page)
    else:  # a leader: the same filters, over their own delegations only
        stmt = delegation_services.board_query(expo, flt).where(Delegation.leader_user_id == current_user.id)
        page = listing.paginate(stmt, page_no, per_page)
    return jsonify(items=_delegations_json([tuple(row) for row in page.items]), page=page.page,
                   per_page=page.per_page, total=page.total, pages=page.pages)


def _set_password_url(token: str) -> str:
    return url_for("auth.reset_password", token=token, _external=True)


def _delegation_form(payload: dict[str, Any], delegation: Delegation | None) -> OrganizerDelegationForm:
    """The organizer's delegation form over ``payload`` (merged over what ``delegation`` holds now), with the
    service's rules run by the form: every problem beside its field."""
    expo = current_expo()
    base = None
    data = None
    if delegation is not None:
        data = delegation_services.DelegationData.of(delegation)
        base = {**{k: s._value(getattr(delegation, k)) for k in OrganizerDelegationForm.DATA_FIELDS},
                "categories": data.category_ids,
                # Not the leader's name: it names the account a new leader_email makes, not the current leader.
                "leader_email": delegation.leader.email if delegation.leader else ""}
    return validated(OrganizerDelegationForm, payload, base, expo=expo, base=data, locale=current_lang(),
                      category_choices=venue_queries.category_choices(current_lang()))


@bp.post("/delegations")
@allow(*ORGANIZERS)
@operation("Set up a delegation; with leader_email, its leader too (a new address gets a delegation-leader account "
           "and an e-mail with a link to choose a password)", tag="delegations", body=OrganizerDelegationForm,
           response=s.schema(DELEGATION), status=201)
def delegation_create():
    payload = json_body()
    form = _delegation_form(payload, None)
    delegation = delegation_services.create_delegation(
        current_user, current_expo(), form.delegation_data(), leader_email=form.leader_email.data or "",
        leader_name=form.leader_name.data or "", set_password_url_for=_set_password_url, locale=current_lang())
    db.session.commit()
    return jsonify(_delegation(delegation)), 201


@bp.get("/delegations/<int:delegation_id>")
@allow(*DELEGATION_AUDIENCE)
@operation("One delegation", tag="delegations", response=s.schema(DELEGATION))
def delegation(delegation_id: int):
    return jsonify(_delegation(access.delegation_for(current_user, current_expo(), delegation_id)))


@bp.patch("/delegations/<int:delegation_id>")
@allow(*DELEGATION_AUDIENCE)
@operation("Change a delegation (fields left out keep their value)", tag="delegations", body=OrganizerDelegationForm,
           response=s.schema(DELEGATION),
           description="The leader may change the travel details and interests (arrival and departure, flights, "
                       "hotel, interpreter, categories); the name, country, organization, notes and the leader are "
                       "the organizer's (403).")
def delegation_update(delegation_id: int):
    delegation_ = access.delegation_for(current_user, current_expo(), delegation_id)
    payload = json_body()
    form = _delegation_form(payload, delegation_)
    leader_changed = (form.leader_email.data or "").lower() != (delegation_.leader.email if delegation_.leader else "")
    if not current_user.is_organizer and leader_changed:
        raise Forbidden(_l("Only the organizer can choose a delegation's leader."))
    delegation_services.update_delegation(current_user, delegation_, form.delegation_data())
    if current_user.is_organizer and ("leader_email" in payload or "leader_name" in payload):
        delegation_services.assign_leader(current_user, delegation_, form.leader_email.data or "",
                                          form.leader_name.data or "", set_password_url_for=_set_password_url,
                                          locale=current_lang())
    db.session.commit()
    return jsonify(_delegation(delegation_))


# --- members -----------------------------------------------------------------------------------------------------------

def _member(m: Buyer, passport: Passport | None = None, *, with_passport: bool = False) -> dict[str, Any]:
    return s.dump(m, MEMBER, passport=s.dump(passport, PASSPORT) if with_passport and passport else None)


def _passports(members: list[Buyer], wanted: bool) -> dict[int, Passport]:
    """Passport data of ``members`` if ``wanted``: read through ``read_passports`` (one audit entry each, committed
    with the answer)."""
    if not wanted:
        return {}
    found = access.read_passports(current_user, members, "api")
    db.session.commit()
    return found


@bp.get("/delegations/<int:delegation_id>/members")
@allow(*DELEGATION_AUDIENCE)
@operation("The delegation's members, by name", tag="delegations", query=IncludeForm,
           response={"type": "array", "items": s.schema(MEMBER)},
           description="Passport data only with ?include=passport; each member read so is written to the audit "
                       "log.")
def members(delegation_id: int):
    delegation_ = access.delegation_for(current_user, current_expo(), delegation_id)
    wanted = _include_passport()
    rows = delegation_services.members_of(delegation_)
    passports = _passports(rows, wanted)
    return jsonify([_member(m, passports.get(m.id), with_passport=wanted) for m in rows])


@bp.post("/delegations/<int:delegation_id>/members")
@allow(*DELEGATION_AUDIENCE)
@operation("Add a member with their passport data", tag="delegations", body=MemberForm, response=s.schema(MEMBER),
           status=201, description="The answer leaves the passport data out (it was just sent).")
def member_add(delegation_id: int):
    expo = current_expo()
    delegation_ = access.delegation_for(current_user, expo, delegation_id)
    form = validated(MemberForm, json_body(), locale=current_lang(), expo=expo, delegation=delegation_)
    buyer = delegation_services.add_member(current_user, delegation_, form.member_data())
    db.session.commit()
    return jsonify(_member(buyer)), 201


@bp.get("/delegations/<int:delegation_id>/members/<int:buyer_id>")
@allow(*DELEGATION_AUDIENCE)
@operation("One member", tag="delegations", query=IncludeForm, response=s.schema(MEMBER),
           description="Passport data only with ?include=passport (written to the audit log).")
def member(delegation_id: int, buyer_id: int):
    delegation_ = access.delegation_for(current_user, current_expo(), delegation_id)
    member_ = access.member_for(current_user, delegation_, buyer_id)
    wanted = _include_passport()
    return jsonify(_member(member_, _passports([member_], wanted).get(member_.id), with_passport=wanted))


@bp.patch("/delegations/<int:delegation_id>/members/<int:buyer_id>")
@allow(*DELEGATION_AUDIENCE)
@operation("Change a member or their passport data (fields left out keep their value)", tag="delegations",
           body=MemberForm, response=s.schema(MEMBER))
def member_update(delegation_id: int, buyer_id: int):
    expo = current_expo()
    delegation_ = access.delegation_for(current_user, expo, delegation_id)
    member_ = access.member_for(current_user, delegation_, buyer_id)
    payload = json_body()
    # A partial change keeps the stored passport data, which has to be read for that: an audited read too.
    passport = access.read_passports(current_user, [member_], "api").get(member_.id)
    base = {k: s._value(v) for k, v in delegation_services.member_data_of(member_, passport).__dict__.items()}
    form = validated(MemberForm, payload, base, locale=current_lang(), expo=expo, delegation=delegation_,
                      member=member_)
    delegation_services.update_member(current_user, member_, form.member_data())
    db.session.commit()
    return jsonify(_member(member_))


@bp.delete("/delegations/<int:delegation_id>/members/<int:buyer_id>")
@allow(*DELEGATION_AUDIENCE)
@operation("Remove a member (with their passport data, unless they have an account of their own)",
           tag="delegations", status=204)
def member_delete(delegation_id: int, buyer_id: int):
    delegation_ = access.delegation_for(current_user, current_expo(), delegation_id)
    delegation_services.remove_member(current_user, access.member_for(current_user, delegation_, buyer_id))
    db.session.commit()
    return "", 204


# --- buyers --------------------------------------------------------------------------------------------------------------

BUYER = {"id": "integer", "name": "string", "name_native": "string", "company": "string", "country": "string",
         "email": "string", "phone": "string", "job_title": "string", "website": "string",
         "purchase_volume": "string", "products_sought": "string", "contact_consent": "boolean", "status": "string",
         "invited_at": s.NULLABLE_DT, "hosted_status": "string", "hosted_hotel_nights": "integer",
         "hosted_transfers": "boolean", "hosted_note": "string", "hosted_decided_at": s.NULLABLE_DT,
         "hosted_actions": {"type": "array", "items": {"type": "string"},
                            "description": "the steps of the hosted-buyer programme open to the caller now"},
         "delegation_id": s.NULLABLE_INT, "categories": {"type": "array", "items": {"type": "integer"}},
         "created_at": "string"}
BUYER_PAGE = s.page_schema(s.schema(BUYER))
BUYER_PAGE["properties"]["countries"] = {
    "type": ["integer", "null"],
    "description": "how many countries and regions the matching buyers are from (null when total is not exact)"}
BUYER_PAGE["properties"]["total_exact"] = {
    "type": "boolean",
    "description": "false for a search matching more buyers than it counts: total is then that limit (20,000), and "
                   "pages go up to it; narrow the search to see the rest"}
BUYER_PAGE["required"] += ["countries", "total_exact"]


def _buyer(b: Buyer) -> dict[str, Any]:
    return s.dump(b, BUYER, categories=[c.id for c in b.categories],
                  hosted_actions=buyer_services.hosted_actions(b, organizer=current_user.is_organizer)
                  if current_user.is_organizer or b.user_id == current_user.id else [])


def _category_choices() -> list[tuple[int, str]]:
    return venue_queries.category_choices(current_lang())


@bp.get("/buyers")
@allow(*ORGANIZERS)
@operation("Buyers, filtered, searched, sorted and paginated like the organizer's buyer list", tag="buyers",
           query=BuyerFilterForm, response=BUYER_PAGE,
           description="The same parameters and the same rows, in the same order, as /organizer/buyers.")
def buyers():
    form = BuyerFilterForm(request.args, category_choices=_category_choices(), locale=current_lang())
    if not form.validate():
        errors = form_errors(form)
        raise InvalidInput(errors)
    page = buyer_queries.buyer_page(current_expo(), form.to_filter(), form.page.data or 1, form.per_page.data or 50)
    return jsonify(items=[_buyer(b) for b in page.items], page=page.page, per_page=page.per_page, total=page.total,
                   pages=page.pages, countries=page.countries if page.exact else None, total_exact=page.exact)


@bp.get("/buyers/<int:buyer_id>")
@allow(*BUYER_AUDIENCE)
@operation("One buyer's profile", tag="buyers", response=s.schema(BUYER),
           description="The organizer sees every buyer; a buyer themselves; a delegation leader the members of "
                       "their delegations.")
def buyer(buyer_id: int):
    return jsonify(_buyer(access.buyer_for(current_user, current_expo(), buyer_id)))


@bp.patch("/buyers/<int:buyer_id>")
@allow(*BUYER_AUDIENCE)
@operation("Change a buyer's profile (fields left out keep their value)", tag="buyers", body=BuyerProfileForm,
           response=s.schema(BUYER),
           description="The buyer themselves or the organizer; a delegation leader changes members through "
                       "/delegations/{delegation_id}/members (403 here).")
def buyer_update(buyer_id: int):
    buyer_ = access.buyer_for(current_user, current_expo(), buyer_id)
    payload = json_body()
    stored = {k: s._value(getattr(buyer_, k)) for k in buyer_services.PROFILE_FIELDS}
    stored["categories"] = [c.id for c in buyer_.categories]
    form = validated(BuyerProfileForm, payload, stored, category_choices=_category_choices(),
                      locale=current_lang())
    buyer_services.update_profile(current_user, buyer_, {k: form.data[k] for k in buyer_services.PROFILE_FIELDS},
                                  form.categories.data)
    db.session.commit()
    return jsonify(_buyer(buyer_))


@bp.post("/buyers/<int:buyer_id>/hosted")
@allow(*ORGANIZERS)
@operation("Decide on the hosted-buyer programme: approve (with hotel nights, airport transfers and a note to the "
           "buyer) or decline", tag="buyers", body=HostedDecisionForm, response=s.schema(BUYER),
           description="Left out: the current benefits of an approved buyer, else 3 nights with transfers. 409 "
                       "when the step is not open (hosted_actions lists the open ones). The buyer is told by "
                       "e-mail.",
           errors={409: "the step is not open in the buyer's current hosted-buyer status"})
def buyer_hosted(buyer_id: int):
    buyer_ = access.buyer_for(current_user, current_expo(), buyer_id)
    if buyer_.hosted_status == HostedStatus.APPROVED:
        stored = {"hotel_nights": buyer_.hosted_hotel_nights, "transfers": buyer_.hosted_transfers,
                  "note": buyer_.hosted_note}
    else:
        stored = {"hotel_nights": HostedDecisionForm.hotel_nights.kwargs.get("default", 3), "transfers": True}
    form = validated(HostedDecisionForm, json_body(), stored)
    buyer_services.change_hosted(current_user, buyer_, form.decision.data, hotel_nights=form.hotel_nights.data,
                                 transfers=form.transfers.data, note=form.note.data or "")
    db.session.commit()
    return jsonify(_buyer(buyer_))
