"""Pages and API of purchase needs, offers and recommendations (on the ``docking`` and ``docking_api`` blueprints).

Pages: a buyer's "My purchase needs" and a delegation leader's needs of their delegations (list, add, edit,
deactivate), an exhibitor's "My offers", the organizer's lists of all needs and offers (filters, CSV / XLSX), and
the recommendations: a buyer sees exhibitors, an exhibitor sees buyers, each with a score and its reasons.
API (``/api/v1/docking``): ``/needs``, ``/offers`` (list, create, read, change, deactivate) and
``/recommendations``. Who may see what is :mod:`expo.docking.needs`' rule: someone else's need or offer is 404.
"""

from __future__ import annotations

import io
from typing import Any

from flask import current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from expo import audit, countries, listing
from expo.api import schemas as s
from expo.api.bodies import json_body, validated
from expo.api.openapi import operation
from expo.auth.access import allow
from expo.auth.models import Role
from expo.buyers import regions
from expo.buyers.access import buyer_for, delegation_for, led_delegations
from expo.buyers.models import Buyer, Delegation
from expo.categories.models import ProductCategory
from expo.docking import matching, needs
from expo.docking.blueprints import api_bp, bp
from expo.docking.models import BuyerNeed, ExhibitorOffer
from expo.docking.need_forms import (
    DocketFilterForm,
    ExhibitorIdForm,
    NeedForm,
    OfferForm,
    OwnerForm,
    RecommendationQueryForm,
    price_band_label,
)
from expo.errorpages import error_response
from expo.errors import InvalidInput, NotFound
from expo.exhibitors.models import Exhibitor
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.formflow import filter_args, run_form
from expo.forms import form_errors
from expo.i18n import current_lang, localized
from expo.venue import queries as venue_queries
from expo.venue.models import Expo

MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
FILTER_KEYS = ("category", "country", "active")
BUYER_SIDE = (Role.BUYER, Role.DELEGATION_LEADER)
ORGANIZER = (Role.ADMIN, Role.STAFF)

#: A recommendation's reasons in words; parameters filled by :func:`reason_text`.
REASON_TEXTS = {
    "same_category": _l("Offers %(category)s"),
    "related_category": _l("Offers products related to %(category)s"),
    "interest": _l("Makes %(category)s, one of the buyer's interests"),
    "related_interest": _l("Makes products related to %(category)s, one of the buyer's interests"),
    "capacity": _l("Monthly capacity %(capacity)s pairs covers %(quantity)s pairs"),
    "capacity_partial": _l("Monthly capacity %(capacity)s pairs covers half of %(quantity)s pairs"),
    "min_order": _l("Minimum order %(min_order)s pairs fits %(quantity)s pairs"),
    "markets": _l("Serves the markets %(markets)s"),
    "price_band": _l("Same price band: %(band)s"),
    "price_band_adjacent": _l("Neighbouring price band: %(band)s"),
    "oem": _l("Makes OEM"),
    "odm": _l("Makes ODM"),
}


def _category_names(lang: str) -> dict[int, str]:
    return {c.id: localized(c, "name", lang) for c in db.session.scalars(select(ProductCategory))}


def _market_name(code: str, lang: str) -> str:
    return regions.name(code, lang) if code in regions.REGIONS else countries.name(code, lang)


def reason_text(reason: matching.Reason, category_names: dict[int, str], lang: str) -> str:
    """One reason in the reader's language."""
    p = reason.params
    values: dict[str, Any] = {}
    if "category_id" in p:
        values["category"] = category_names.get(p["category_id"], "")
    for key in ("capacity", "quantity", "min_order"):
        if key in p:
            values[key] = f"{p[key]:,}"
    if "markets" in p:
        values["markets"] = ", ".join(_market_name(c, lang) for c in p["markets"])
    if "band" in p:
        values["band"] = price_band_label(p["band"])
    return str(REASON_TEXTS[reason.code]) % values if values else str(REASON_TEXTS[reason.code])


def _categories() -> list[tuple[int, str]]:
    return venue_queries.category_choices(current_lang())


def _need_values(form: NeedForm) -> dict[str, Any]:
    return {k: getattr(form, k).data for k in needs.NEED_FIELDS}


def _offer_values(form: OfferForm) -> dict[str, Any]:
    return {k: getattr(form, k).data for k in needs.OFFER_FIELDS}


def _need_form(need: BuyerNeed | None = None) -> NeedForm:
    kwargs: dict[str, Any] = {"category_choices": _categories(), "locale": current_lang()}
    if need is not None and request.method == "GET":
        kwargs["obj"] = need
    return NeedForm(**kwargs)


def _offer_form(offer: ExhibitorOffer | None = None) -> OfferForm:
    kwargs: dict[str, Any] = {"category_choices": _categories(), "locale": current_lang()}
    if offer is not None and request.method == "GET":
        kwargs["data"] = {**{k: getattr(offer, k) for k in needs.OFFER_FIELDS},
                          "certifications": ", ".join(offer.certifications or [])}
    return OfferForm(**kwargs)


# --- a buyer's and a leader's needs ----------------------------------------------------------------------------------

def _my_buyer(expo: Expo) -> Buyer | None:
    return needs.buyer_of(current_user, expo)


@bp.get("/needs")
@allow(*BUYER_SIDE)
def my_needs():
    """A buyer's needs, and a leader's needs of each delegation they lead."""
    expo = current_expo()
    buyer = _my_buyer(expo)
    delegations = led_delegations(current_user, expo)
    rows = list(db.session.scalars(needs.needs_visible_to(current_user, expo)))
    if buyer is None and not delegations:
        flash(_("Register as a buyer first: purchase needs belong to a buyer or a delegation."), "warning")
    return render_template("docking/needs.html", rows=rows, buyer=buyer, delegations=delegations,
                           band_label=price_band_label)


def _owner_from_args(expo: Expo) -> tuple[Buyer | None, Delegation | None]:
    """A leader adds a need for the delegation named in the link; a buyer for themself."""
    delegation_id = request.args.get("delegation_id", type=int)
    if delegation_id:
        return None, delegation_for(current_user, expo, delegation_id)
    buyer = _my_buyer(expo)
    if buyer is None:
        delegations = led_delegations(current_user, expo)
        if len(delegations) == 1:
            return None, delegations[0]
        raise NotFound(_l("There is no such buyer or delegation."))
    return buyer, None


@bp.route("/needs/new", methods=["GET", "POST"])
@allow(*BUYER_SIDE)
def new_need():
    expo = current_expo()
    buyer, delegation = _owner_from_args(expo)
    form = _need_form()
    outcome = run_form(form, lambda: needs.create_need(current_user, expo, _need_values(form), buyer=buyer,
                                                       delegation=delegation))
    if outcome.ok:
        flash(_("Your purchase need is published."), "success")
        return redirect(url_for("docking.my_needs"))
    return render_template("docking/need_form.html", form=form, need=None, delegation=delegation), outcome.status


def _back_to_needs():
    return redirect(url_for("docking.all_needs" if current_user.is_organizer else "docking.my_needs"))


@bp.route("/needs/<int:need_id>", methods=["GET", "POST"])
@allow(*BUYER_SIDE, *ORGANIZER)
def edit_need(need_id: int):
    expo = current_expo()
    need = needs.need_for(current_user, expo, need_id)
    form = _need_form(need)
    outcome = run_form(form, lambda: needs.update_need(current_user, need, _need_values(form)))
    if outcome.ok:
        flash(_("Saved."), "success")
        return _back_to_needs()
    return render_template("docking/need_form.html", form=form, need=need, delegation=need.delegation), \
        outcome.status


@bp.post("/needs/<int:need_id>/deactivate")
@allow(*BUYER_SIDE, *ORGANIZER)
def deactivate_need(need_id: int):
    return _set_need_active(need_id, False)


@bp.post("/needs/<int:need_id>/reactivate")
@allow(*BUYER_SIDE, *ORGANIZER)
def reactivate_need(need_id: int):
    return _set_need_active(need_id, True)


def _set_need_active(need_id: int, active: bool):
    expo = current_expo()
    need = needs.need_for(current_user, expo, need_id)
    needs.set_need_active(current_user, need, active)
    db.session.commit()
    flash(_("The purchase need is active again.") if need.active else _("The purchase need is deactivated."),
          "success")
    return _back_to_needs()


# --- an exhibitor's offers ---------------------------------------------------------------------------------------------

@bp.get("/offers")
@allow(Role.EXHIBITOR)
def my_offers():
    expo = current_expo()
    exhibitor = needs.exhibitor_of(current_user)
    rows = list(db.session.scalars(needs.offers_visible_to(current_user, expo)))
    return render_template("docking/offers.html", rows=rows, exhibitor=exhibitor, band_label=price_band_label)


@bp.route("/offers/new", methods=["GET", "POST"])
@allow(Role.EXHIBITOR)
def new_offer():
    expo = current_expo()
    exhibitor = needs.exhibitor_of(current_user)
    form = _offer_form()
    outcome = run_form(form, lambda: needs.create_offer(current_user, expo, exhibitor, _offer_values(form)))
    if outcome.ok:
        flash(_("Your offer is published."), "success")
        return redirect(url_for("docking.my_offers"))
    return render_template("docking/offer_form.html", form=form, offer=None), outcome.status


def _back_to_offers():
    return redirect(url_for("docking.all_offers" if current_user.is_organizer else "docking.my_offers"))


@bp.route("/offers/<int:offer_id>", methods=["GET", "POST"])
@allow(Role.EXHIBITOR, *ORGANIZER)
def edit_offer(offer_id: int):
    expo = current_expo()
    offer = needs.offer_for(current_user, expo, offer_id)
    form = _offer_form(offer)
    outcome = run_form(form, lambda: needs.update_offer(current_user, offer, _offer_values(form)))
    if outcome.ok:
        flash(_("Saved."), "success")
        return _back_to_offers()
    return render_template("docking/offer_form.html", form=form, offer=offer), outcome.status


@bp.post("/offers/<int:offer_id>/deactivate")
@allow(Role.EXHIBITOR, *ORGANIZER)
def deactivate_offer(offer_id: int):
    return _set_offer_active(offer_id, False)


@bp.post("/offers/<int:offer_id>/reactivate")
@allow(Role.EXHIBITOR, *ORGANIZER)
def reactivate_offer(offer_id: int):
    return _set_offer_active(offer_id, True)


def _set_offer_active(offer_id: int, active: bool):
    expo = current_expo()
    offer = needs.offer_for(current_user, expo, offer_id)
    needs.set_offer_active(current_user, offer, active)
    db.session.commit()
    flash(_("The offer is active again.") if offer.active else _("The offer is deactivated."), "success")
    return _back_to_offers()


# --- the organizer's lists ---------------------------------------------------------------------------------------------

def _filter() -> tuple[DocketFilterForm, needs.ListFilter | None]:
    form = DocketFilterForm(request.args, category_choices=_categories(), locale=current_lang())
    if not form.validate():
        return form, None
    return form, needs.ListFilter(category_id=form.category.data or None, country=form.country.data or None,
                                  active_only=bool(form.active.data))


def _page_size(form: DocketFilterForm) -> int:
    return form.per_page.data or int(current_app.config.get("PAGE_SIZE", 50))


@bp.get("/admin/needs")
@allow(*ORGANIZER)
def all_needs():
    return _admin_list("docking/needs_admin.html", needs.need_list)


@bp.get("/admin/offers")
@allow(*ORGANIZER)
def all_offers():
    return _admin_list("docking/offers_admin.html", needs.offer_list)


def _admin_list(template: str, query):
    """The organizer's filtered, paginated list of needs or offers (``query(expo, filter)`` selects the rows)."""
    form, flt = _filter()
    if flt is None:
        return render_template(template, form=form, page=None, args={}), 400
    page = listing.paginate(query(current_expo(), flt), form.page.data or 1, _page_size(form))
    return render_template(template, form=form, page=page, args=filter_args(FILTER_KEYS), band_label=price_band_label)


def _export(kind: str, fmt: str):
    if fmt not in MIMETYPES:
        return error_response(404, _("Export as .csv or .xlsx."), "not_found")
    expo = current_expo()
    _form, flt = _filter()
    if flt is None:
        return error_response(400, _("The filters are not valid."), "invalid")
    lang = current_lang()
    if kind == "needs":
        headers = needs.NEED_EXPORT_HEADERS
        rows = list(needs.need_export_rows(db.session.execute(needs.need_list(expo, flt)), lang))
    else:
        headers = needs.OFFER_EXPORT_HEADERS
        rows = list(needs.offer_export_rows(db.session.execute(needs.offer_list(expo, flt)), lang))
    body = listing.to_csv(headers, rows) if fmt == "csv" else \
        listing.to_xlsx(headers, rows, title="Needs" if kind == "needs" else "Offers")
    audit.record(current_user, f"{kind}_exported", expo, format=fmt, rows=len(rows))
    db.session.commit()
    return send_file(io.BytesIO(body), mimetype=MIMETYPES[fmt], as_attachment=True,
                     download_name=f"{kind}-{expo.code}.{fmt}")


@bp.get("/admin/needs.<fmt>")
@allow(*ORGANIZER)
def export_needs(fmt: str):
    return _export("needs", fmt)


@bp.get("/admin/offers.<fmt>")
@allow(*ORGANIZER)
def export_offers(fmt: str):
    return _export("offers", fmt)


# --- recommendations ---------------------------------------------------------------------------------------------------

def _limit() -> int:
    form = RecommendationQueryForm(request.args)
    return form.limit.data or matching.DEFAULT_LIMIT if form.validate() else matching.DEFAULT_LIMIT


@bp.get("/recommendations")
@allow(Role.BUYER, Role.EXHIBITOR)
def recommendations():
    """A buyer sees exhibitors ranked by fit; an exhibitor sees buyers."""
    expo = current_expo()
    lang = current_lang()
    names = _category_names(lang)
    if current_user.role == Role.EXHIBITOR:
        exhibitor = needs.exhibitor_of(current_user)
        cards = matching.buyer_cards(matching.for_exhibitor(exhibitor, expo, _limit()))
        return render_template("docking/recommendations_buyers.html", cards=cards,
                               reasons=lambda m: [reason_text(r, names, lang) for r in m.reasons])
    buyer = _my_buyer(expo)
    if buyer is None:
        raise NotFound(_l("Register as a buyer first: purchase needs belong to a buyer or a delegation."))
    ex_cards = matching.exhibitor_cards(expo, matching.for_buyer(buyer, _limit()))
    return render_template("docking/recommendations_exhibitors.html", cards=ex_cards, buyer=buyer,
                           reasons=lambda m: [reason_text(r, names, lang) for r in m.reasons])


@bp.get("/buyers/<int:buyer_id>/recommendations")
@allow(*ORGANIZER, Role.DELEGATION_LEADER)
def buyer_recommendations(buyer_id: int):
    """The exhibitors recommended to one buyer, for the organizer (or the leader of the buyer's delegation), who
    arranges meetings on the buyer's behalf."""
    expo, lang = current_expo(), current_lang()
    buyer = buyer_for(current_user, expo, buyer_id)
    names = _category_names(lang)
    cards = matching.exhibitor_cards(expo, matching.for_buyer(buyer, _limit()))
    return render_template("docking/recommendations_exhibitors.html", cards=cards, buyer=buyer,
                           meeting_args={"buyer_id": buyer.id},
                           reasons=lambda m: [reason_text(r, names, lang) for r in m.reasons])


@bp.get("/exhibitors/<int:exhibitor_id>/recommendations")
@allow(*ORGANIZER)
def exhibitor_recommendations(exhibitor_id: int):
    """The buyers recommended to one exhibitor, for the organizer."""
    expo, lang = current_expo(), current_lang()
    exhibitor = db.get_or_404(Exhibitor, exhibitor_id)
    names = _category_names(lang)
    cards = matching.buyer_cards(matching.for_exhibitor(exhibitor, expo, _limit()))
    return render_template("docking/recommendations_buyers.html", cards=cards, exhibitor=exhibitor,
                           meeting_args={"exhibitor_id": exhibitor.id},
                           reasons=lambda m: [reason_text(r, names, lang) for r in m.reasons])


# --- API ------------------------------------------------------------------------------------------------------------

def _body_values(form_cls, fields: tuple[str, ...], payload: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """The fields of a need or offer in a JSON body, validated by the page's form. A change (``partial``) needs
    only the fields it names: the others are filled from what is stored."""
    body = {k: payload[k] for k in fields if k in payload}
    if isinstance(body.get("certifications"), list) and all(isinstance(c, str) for c in body["certifications"]):
        body["certifications"] = ", ".join(body["certifications"])
    form_body = dict(body)
    categories = _categories()
    if partial:  # stand-ins that pass the form; the stored values replace them (needs.update_*)
        form_body.setdefault("category_id", categories[0][0] if categories else 1)
        form_body.setdefault("title", "x")
        form_body.setdefault("products", "x")
    form = validated(form_cls, form_body, category_choices=categories, locale=current_lang())
    return {k: getattr(form, k).data for k in fields if k in body or not partial}


NEED = {"id": "integer", "buyer_id": s.NULLABLE_INT, "delegation_id": s.NULLABLE_INT, "category_id": "integer",
        "title": "string", "quantity_pairs": "integer", "price_band": "string", "delivery_from": s.NULLABLE_STR,
        "delivery_until": s.NULLABLE_STR, "markets": {"type": "array", "items": {"type": "string"}},
        "description": "string", "active": "boolean", "created_at": "string", "updated_at": "string"}
OFFER = {"id": "integer", "exhibitor_id": "integer", "category_id": "integer", "products": "string",
         "min_order_pairs": "integer", "monthly_capacity_pairs": "integer", "price_band": "string",
         "oem": "boolean", "odm": "boolean", "certifications": {"type": "array", "items": {"type": "string"}},
         "markets": {"type": "array", "items": {"type": "string"}}, "description": "string", "active": "boolean",
         "created_at": "string", "updated_at": "string"}
REASON = {"type": "object", "required": ["code", "points", "params", "text"],
          "properties": {"code": {"type": "string", "enum": sorted(matching.POINTS)},
                         "points": {"type": "integer"}, "params": {"type": "object"},
                         "text": {"type": "string", "description": "the reason in the caller's language"}}}
RECOMMENDATION = {"exhibitor_id": "integer", "buyer_id": "integer", "score": {"type": "integer", "minimum": 0,
                                                                           "maximum": 100},
                  "name": "string", "country": "string", "need_id": s.NULLABLE_INT, "offer_id": s.NULLABLE_INT,
                  "reasons": {"type": "array", "items": REASON}}
RECOMMENDATIONS = {"type": "object", "required": ["side", "items"], "properties": {
    "side": {"type": "string", "enum": ["exhibitors", "buyers"],
             "description": "exhibitors for a buyer, buyers for an exhibitor"},
    "items": {"type": "array", "items": s.schema(RECOMMENDATION)}}}
NEED_BODY_DOC = ("Owner: a buyer publishes for themself; a delegation leader sends delegation_id (optional when "
                 "they lead one delegation); the organizer sends buyer_id or delegation_id.")


def need_json(need: BuyerNeed) -> dict[str, Any]:
    return s.dump(need, NEED, markets=list(need.markets or []))


def offer_json(offer: ExhibitorOffer) -> dict[str, Any]:
    return s.dump(offer, OFFER, markets=list(offer.markets or []), certifications=list(offer.certifications or []))


def _api_page(stmt, form: DocketFilterForm, dump) -> Any:
    page = listing.paginate(stmt, form.page.data or 1, _page_size(form), scalars=True)
    return jsonify(items=[dump(x) for x in page.items], page=page.page, per_page=page.per_page, total=page.total,
                   pages=page.pages)


def _api_filter() -> tuple[DocketFilterForm, needs.ListFilter]:
    form, flt = _filter()
    if flt is None:
        errors = form_errors(form)
        raise InvalidInput(errors)
    return form, flt


@api_bp.get("/needs")
@allow(*BUYER_SIDE, *ORGANIZER)
@operation("Purchase needs: yours (a buyer's, a leader's delegations'), or all of the expo for the organizer",
           tag="docking", query=DocketFilterForm, response=s.page_schema(s.schema(NEED)))
def api_needs():
    return _api_list(BuyerNeed)


def _api_list(model: type[BuyerNeed] | type[ExhibitorOffer]):
    """The caller's needs or offers (all of the expo for the organizer), filtered like the organizer's lists."""
    form, flt = _api_filter()
    expo = current_expo()
    is_need = model is BuyerNeed
    stmt = (needs.needs_visible_to if is_need else needs.offers_visible_to)(current_user, expo)
    if flt.category_id or flt.country or flt.active_only:
        ids = (needs.need_list if is_need else needs.offer_list)(expo, flt).with_only_columns(model.id)
        stmt = stmt.where(model.id.in_(ids.order_by(None)))
    return _api_page(stmt, form, need_json if is_need else offer_json)


@api_bp.post("/needs")
@allow(*BUYER_SIDE, *ORGANIZER)
@operation("Publish a purchase need", tag="docking", body=NeedForm, response=s.schema(NEED), status=201,
           description=NEED_BODY_DOC)
def api_create_need():
    payload = json_body()
    values = _body_values(NeedForm, needs.NEED_FIELDS, payload, partial=False)
    owner = validated(OwnerForm, {k: payload[k] for k in ("buyer_id", "delegation_id") if k in payload})
    expo = current_expo()
    buyer = delegation = None
    if owner.delegation_id.data:
        delegation = db.session.get(Delegation, owner.delegation_id.data)
    elif owner.buyer_id.data:
        buyer = db.session.get(Buyer, owner.buyer_id.data)
    elif current_user.role == Role.DELEGATION_LEADER:
        buyer = _my_buyer(expo)
        if buyer is None:
            led = led_delegations(current_user, expo)
            delegation = led[0] if len(led) == 1 else None
    else:
        buyer = _my_buyer(expo)
    if buyer is None and delegation is None:
        raise NotFound(_l("There is no such buyer or delegation."))
    need = needs.create_need(current_user, expo, values, buyer=buyer, delegation=delegation)
    out = need_json(need)
    db.session.commit()
    return jsonify(out), 201


@api_bp.get("/needs/<int:need_id>")
@allow(*BUYER_SIDE, *ORGANIZER)
@operation("One purchase need", tag="docking", response=s.schema(NEED))
def api_need(need_id: int):
    return jsonify(need_json(needs.need_for(current_user, current_expo(), need_id)))


@api_bp.patch("/needs/<int:need_id>")
@allow(*BUYER_SIDE, *ORGANIZER)
@operation("Change a purchase need", tag="docking", body=NeedForm, response=s.schema(NEED),
           description="Only the fields sent change. Send active: true to reactivate a deactivated need.")
def api_update_need(need_id: int):
    payload = json_body()
    return _api_change(needs.need_for(current_user, current_expo(), need_id), NeedForm, payload)


def _api_change(row: BuyerNeed | ExhibitorOffer, form_cls, payload: dict[str, Any]):
    """PATCH: the fields sent, validated by the page's form; ``active: true`` reactivates."""
    is_need = isinstance(row, BuyerNeed)
    values = _body_values(form_cls, needs.NEED_FIELDS if is_need else needs.OFFER_FIELDS, payload, partial=True)
    (needs.update_need if is_need else needs.update_offer)(current_user, row, values)
    if payload.get("active") is True:
        needs.set_active(current_user, row, True)
    return _api_done(row)


def _api_done(row: BuyerNeed | ExhibitorOffer):
    out = need_json(row) if isinstance(row, BuyerNeed) else offer_json(row)
    db.session.commit()
    return jsonify(out)


def _api_deactivate(row: BuyerNeed | ExhibitorOffer):
    needs.set_active(current_user, row, False)
    return _api_done(row)


@api_bp.delete("/needs/<int:need_id>")
@allow(*BUYER_SIDE, *ORGANIZER)
@operation("Deactivate a purchase need (it is kept, no longer recommended)", tag="docking",
           response=s.schema(NEED))
def api_deactivate_need(need_id: int):
    return _api_deactivate(needs.need_for(current_user, current_expo(), need_id))


@api_bp.get("/offers")
@allow(Role.EXHIBITOR, *ORGANIZER)
@operation("Offers: your exhibitor's, or all of the expo for the organizer", tag="docking", query=DocketFilterForm,
           response=s.page_schema(s.schema(OFFER)))
def api_offers():
    return _api_list(ExhibitorOffer)


@api_bp.post("/offers")
@allow(Role.EXHIBITOR, *ORGANIZER)
@operation("Publish an offer", tag="docking", body=OfferForm, response=s.schema(OFFER), status=201,
           description="The organizer sends exhibitor_id; an exhibitor's account publishes for its company.")
def api_create_offer():
    payload = json_body()
    values = _body_values(OfferForm, needs.OFFER_FIELDS, payload, partial=False)
    target = validated(ExhibitorIdForm, {"exhibitor_id": payload["exhibitor_id"]} if "exhibitor_id" in payload
                        else {})
    expo = current_expo()
    if current_user.is_organizer:
        exhibitor = db.session.get(Exhibitor, target.exhibitor_id.data or 0)
        if exhibitor is None:
            raise NotFound(_l("There is no such exhibitor."))
    else:
        exhibitor = needs.exhibitor_of(current_user)
    offer = needs.create_offer(current_user, expo, exhibitor, values)
    out = offer_json(offer)
    db.session.commit()
    return jsonify(out), 201


@api_bp.get("/offers/<int:offer_id>")
@allow(Role.EXHIBITOR, *ORGANIZER)
@operation("One offer", tag="docking", response=s.schema(OFFER))
def api_offer(offer_id: int):
    return jsonify(offer_json(needs.offer_for(current_user, current_expo(), offer_id)))


@api_bp.patch("/offers/<int:offer_id>")
@allow(Role.EXHIBITOR, *ORGANIZER)
@operation("Change an offer", tag="docking", body=OfferForm, response=s.schema(OFFER),
           description="Only the fields sent change. Send active: true to reactivate a deactivated offer.")
def api_update_offer(offer_id: int):
    payload = json_body()
    return _api_change(needs.offer_for(current_user, current_expo(), offer_id), OfferForm, payload)


@api_bp.delete("/offers/<int:offer_id>")
@allow(Role.EXHIBITOR, *ORGANIZER)
@operation("Deactivate an offer (it is kept, no longer recommended)", tag="docking", response=s.schema(OFFER))
def api_deactivate_offer(offer_id: int):
    return _api_deactivate(needs.offer_for(current_user, current_expo(), offer_id))


def _reasons_json(m: matching.Match, names: dict[int, str], lang: str) -> list[dict[str, Any]]:
    return [{"code": r.code, "points": r.points, "params": r.params, "text": reason_text(r, names, lang)}
            for r in m.reasons]


@api_bp.get("/recommendations")
@allow(Role.BUYER, Role.EXHIBITOR)
@operation("Recommendations for you: exhibitors for a buyer, buyers for an exhibitor, best first",
           tag="docking", query=RecommendationQueryForm, response=RECOMMENDATIONS,
           description="Each with a score 0–100 and its reasons (a code, its points and parameters, and the text). "
                       "A buyer's name is given; their company only if they consented to be contacted.")
def api_recommendations():
    form = RecommendationQueryForm(request.args)
    if not form.validate():
        errors = form_errors(form)
        raise InvalidInput(errors)
    limit = form.limit.data or matching.DEFAULT_LIMIT
    expo, lang = current_expo(), current_lang()
    names = _category_names(lang)
    common = {"need_id": None, "offer_id": None}
    if current_user.role == Role.EXHIBITOR:
        exhibitor = needs.exhibitor_of(current_user)
        items = [{**common, "exhibitor_id": c.match.exhibitor_id, "buyer_id": c.match.buyer_id,
                  "score": c.match.score, "name": c.name, "country": c.country, "need_id": c.match.need_id,
                  "offer_id": c.match.offer_id, "reasons": _reasons_json(c.match, names, lang)}
                 for c in matching.buyer_cards(matching.for_exhibitor(exhibitor, expo, limit))]
        return jsonify(side="buyers", items=items)
    buyer = _my_buyer(expo)
    if buyer is None:
        raise NotFound(_l("Register as a buyer first: purchase needs belong to a buyer or a delegation."))
    items = [{**common, "exhibitor_id": c.match.exhibitor_id, "buyer_id": c.match.buyer_id, "score": c.match.score,
              "name": c.exhibitor.display_name(lang), "country": c.exhibitor.country, "need_id": c.match.need_id,
              "offer_id": c.match.offer_id, "reasons": _reasons_json(c.match, names, lang)}
             for c in matching.exhibitor_cards(expo, matching.for_buyer(buyer, limit))]
    return jsonify(side="exhibitors", items=items)
