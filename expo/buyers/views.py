"""Buyer pages: self-registration, the invitation link, the buyer's own pages, and the organizer's buyer list,
buyer detail (hosted-buyer programme), invitations, buyers by country and the statistics page."""

from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from expo import charts, countries, listing
from expo.audit import AuditEntry
from expo.auth.access import ORGANIZERS, PUBLIC, allow, home_endpoint
from expo.auth.models import Role
from expo.buyers import access, queries, regions, services, stats
from expo.buyers.forms import (
    BuyerFilterForm,
    BuyerProfileForm,
    BuyerRegistrationForm,
    HostedDecisionForm,
    InvitationAcceptForm,
    InviteForm,
)
from expo.buyers.models import Buyer, BuyerStatus, HostedStatus
from expo.buyers.services import HOSTED_ACTION_LABELS, HOSTED_LABELS, STATUS_LABELS, VOLUME_LABELS
from expo.errorpages import error_response
from expo.exhibitors.forms import EmptyForm
from expo.exhibitors.services import current_expo
from expo.extensions import db
from expo.formflow import run_form
from expo.i18n import current_lang, localized
from expo.venue import queries as venue_queries

bp = Blueprint("buyers", __name__)

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@bp.record_once
def _labels(state) -> None:
    # Globals, so that macros imported without context see them too; templates of other packages (the delegation
    # pages, letters) may show a buyer's status as well.
    state.app.jinja_env.globals.update(buyer_status_labels=STATUS_LABELS, hosted_labels=HOSTED_LABELS,
                                       volume_labels=VOLUME_LABELS)


def _category_choices() -> list[tuple[int, str]]:
    return venue_queries.category_choices(current_lang())


def _profile_form(cls, **kwargs):
    return cls(category_choices=_category_choices(), locale=current_lang(), **kwargs)


def _profile_data(form) -> dict:
    return {k: form.data[k] for k in services.PROFILE_FIELDS}


def _invitation_link(token: str) -> str:
    return url_for("buyers.invitation", token=token, _external=True)


# --- public: registration and the invitation link ---------------------------------------------------------------------

@bp.route("/buyers/register", methods=["GET", "POST"])
@allow(PUBLIC)
def register():
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user.role)))
    form = _profile_form(BuyerRegistrationForm)
    outcome = run_form(form, lambda: services.register(
        email=form.email.data, password=form.password.data, profile=_profile_data(form),
        category_ids=form.categories.data, apply_hosted=form.hosted.data, locale=current_lang()))
    if outcome.ok:
        _buyer, user = outcome.value
        login_user(user)
        flash(_("Welcome! Your buyer registration is complete."), "success")
        return redirect(url_for("buyers.dashboard"))
    return render_template("buyers/register.html", form=form), outcome.status


@bp.route("/buyers/invitation/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
def invitation(token: str):
    # A forged, expired, replaced or used link says so at once (a 4xx page), before anything is typed.
    buyer = services.buyer_for_invitation(token)
    if current_user.is_authenticated:
        return error_response(409, _("Sign out first: this invitation creates a new account."), "signed_in")
    form = _profile_form(InvitationAcceptForm, obj=buyer)
    outcome = run_form(form, lambda: services.accept_invitation(
        token, password=form.password.data, profile=_profile_data(form), category_ids=form.categories.data,
        apply_hosted=form.hosted.data, locale=current_lang()))
    if outcome.ok:
        _buyer, user = outcome.value
        login_user(user)
        flash(_("Welcome! Your buyer registration is complete."), "success")
        return redirect(url_for("buyers.dashboard"))
    return render_template("buyers/invitation.html", form=form, buyer=buyer), outcome.status


# --- the buyer's own pages --------------------------------------------------------------------------------------------

def _my_buyer() -> Buyer:
    buyer = services.buyer_of(current_user)
    if buyer is None:
        abort(404)
    return buyer


@bp.get("/buyer/")
@allow(Role.BUYER)
def dashboard():
    buyer = _my_buyer()
    return render_template("buyers/dashboard.html", buyer=buyer, expo=current_expo(),
                           actions=services.hosted_actions(buyer, organizer=False), action_labels=HOSTED_ACTION_LABELS,
                           letter_url=_url_if("letters.buyer_letter"), badge_url=_url_if("badge_desk.buyer_badge"))


def _url_if(endpoint: str) -> str | None:
    """The URL of another package's page for the signed-in buyer, if that package is installed (the visa letter
    and the badge come from their own blueprints)."""
    return url_for(endpoint) if endpoint in current_app.view_functions else None


@bp.route("/buyer/profile", methods=["GET", "POST"])
@allow(Role.BUYER)
def profile():
    buyer = _my_buyer()
    form = _profile_form(BuyerProfileForm, obj=buyer)
    if request.method == "GET":
        form.categories.data = [c.id for c in buyer.categories]
    outcome = run_form(form, lambda: services.update_profile(current_user, buyer, _profile_data(form),
                                                             form.categories.data))
    if outcome.ok:
        flash(_("Your buyer profile is saved."), "success")
        return redirect(url_for("buyers.dashboard"))
    return render_template("buyers/profile.html", form=form, buyer=buyer), outcome.status


@bp.post("/buyer/hosted/<action>")
@allow(Role.BUYER)
def hosted_action(action: str):
    if action not in ("apply", "withdraw"):
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    buyer = _my_buyer()
    services.change_hosted(current_user, buyer, action)
    db.session.commit()
    flash(_("Your application to the hosted-buyer programme is sent.") if action == "apply"
          else _("Your application to the hosted-buyer programme is withdrawn."), "success")
    return redirect(url_for("buyers.dashboard"))


@bp.get("/buyers/<int:buyer_id>")
@allow(Role.BUYER, Role.DELEGATION_LEADER, *ORGANIZERS)
def card(buyer_id: int):
    """A buyer's profile as the buyer and their delegation's leader see it (the organizer has the detail page)."""
    buyer = access.buyer_for(current_user, current_expo(), buyer_id)  # anyone else's buyer: 404
    if current_user.is_organizer:
        return redirect(url_for("buyers.detail", buyer_id=buyer.id))
    return render_template("buyers/card.html", buyer=buyer)


# --- the organizer: list, export, detail, invitations -----------------------------------------------------------------

def _list_form() -> BuyerFilterForm:
    return BuyerFilterForm(request.args, category_choices=_category_choices(), locale=current_lang())


@bp.get("/organizer/buyers")
@allow(*ORGANIZERS)
def index():
    form = _list_form()
    if not form.validate():
        return render_template("buyers/list.html", form=form, page=None), 400
    expo = current_expo()
    page = queries.buyer_page(expo, form.to_filter(), form.page.data or 1, form.per_page.data or 50)
    return render_template("buyers/list.html", form=form, page=page)


def export_headers() -> list[str]:
    return [_("Buyer"), _("Name (Latin letters)"), _("Name in own script"), _("Company"), _("Country or region"),
            _("Country code"), _("World region"), _("Job title"), _("E-mail"), _("Phone"), _("Website"),
            _("Purchase interests"), _("Annual purchase volume"), _("Products sought"),
            _("Exhibitors may contact"), _("Status"), _("Hosted buyer"), _("Hotel nights"), _("Airport transfers"),
            _("Delegation"), _("Registered")]


def export_row(b: Buyer, lang: str) -> list:
    """One buyer as a row of the export. No passport data: it lives in another table and is never read here."""
    return [b.id, b.name, b.name_native, b.company, countries.name(b.country, lang), b.country,
            regions.name(regions.region_of(b.country), lang), b.job_title, b.email, b.phone, b.website,
            "; ".join(localized(c, "name", lang) for c in b.categories),
            str(VOLUME_LABELS.get(b.purchase_volume, "")),
            b.products_sought, _("yes") if b.contact_consent else _("no"),
            str(STATUS_LABELS.get(b.status, b.status)), str(HOSTED_LABELS.get(b.hosted_status, b.hosted_status)),
            b.hosted_hotel_nights, _("yes") if b.hosted_transfers else _("no"),
            b.delegation.name if b.delegation else "",
            b.created_at.isoformat(sep=" ", timespec="minutes") if b.created_at else ""]


@bp.get("/organizer/buyers/export.<fmt>")
@allow(*ORGANIZERS)
def export(fmt: str):
    if fmt not in MIMETYPES:
        abort(404)
    form = _list_form()
    if not form.validate():
        abort(400)
    expo, lang = current_expo(), current_lang()
    stmt = queries.buyer_query(expo, form.to_filter()).options(selectinload(Buyer.categories),
                                                               selectinload(Buyer.delegation))
    # Streamed in batches (with their categories and delegations a batch at a time), not 300,000 objects at once.
    rows = (export_row(b, lang) for b in db.session.scalars(stmt.execution_options(yield_per=1000)))
    body = listing.to_csv(export_headers(), rows) if fmt == "csv" else \
        listing.to_xlsx(export_headers(), rows, title="Buyers")
    return send_file(io.BytesIO(body), mimetype=MIMETYPES[fmt], as_attachment=True,
                     download_name=f"buyers-{expo.code}.{fmt}")


def _organizer_buyer(buyer_id: int) -> Buyer:
    buyer = db.session.get(Buyer, buyer_id)
    if buyer is None or buyer.expo_id != current_expo().id:
        abort(404)
    return buyer


def _entries(buyer: Buyer) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "Buyer",
                                                            AuditEntry.object_id == buyer.id)
                                   .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(200)))


@bp.get("/organizer/buyers/<int:buyer_id>")
@allow(*ORGANIZERS)
def detail(buyer_id: int):
    buyer = _organizer_buyer(buyer_id)
    return _detail(buyer, HostedDecisionForm(formdata=None), 200)


def _detail(buyer: Buyer, form: HostedDecisionForm, status: int):
    if buyer.hosted_status == HostedStatus.APPROVED and not form.is_submitted():
        form.hotel_nights.data, form.transfers.data = buyer.hosted_hotel_nights, buyer.hosted_transfers
        form.note.data = buyer.hosted_note
    return render_template("buyers/detail.html", buyer=buyer, form=form, entries=_entries(buyer),
                           decisions=services.hosted_actions(buyer, organizer=True),
                           invitation_open=buyer.status == BuyerStatus.INVITED and buyer.user_id is None), status


@bp.post("/organizer/buyers/<int:buyer_id>/hosted")
@allow(*ORGANIZERS)
def hosted_decision(buyer_id: int):
    buyer = _organizer_buyer(buyer_id)
    form = HostedDecisionForm()
    outcome = run_form(form, lambda: services.change_hosted(
        current_user, buyer, form.decision.data, hotel_nights=form.hotel_nights.data,
        transfers=form.transfers.data, note=form.note.data or ""))
    if outcome.ok:
        flash(_("The hosted-buyer status is now %(status)s.", status=HOSTED_LABELS[HostedStatus(buyer.hosted_status)]),
              "success")
        return redirect(url_for("buyers.detail", buyer_id=buyer.id))
    db.session.refresh(buyer)
    return _detail(buyer, form, outcome.status)


@bp.post("/organizer/buyers/<int:buyer_id>/invitation")
@allow(*ORGANIZERS)
def resend(buyer_id: int):
    buyer = _organizer_buyer(buyer_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    language = request.form.get("language", "en")
    services.resend_invitation(current_user, buyer, locale=language if language in ("en", "zh") else "en",
                               link_for=_invitation_link)
    db.session.commit()
    flash(_("A new invitation is sent to %(email)s.", email=buyer.email), "success")
    return redirect(url_for("buyers.detail", buyer_id=buyer.id))


@bp.route("/organizer/buyers/invite", methods=["GET", "POST"])
@allow(*ORGANIZERS)
def invite():
    form = InviteForm(locale=current_lang())
    outcome = run_form(form, lambda: services.invite(
        current_user, name=form.name.data, email=form.email.data, company=form.company.data or "",
        country=form.country.data, locale=form.language.data, link_for=_invitation_link))
    if outcome.ok:
        buyer = outcome.value
        flash(_("The invitation is sent to %(email)s.", email=buyer.email), "success")
        return redirect(url_for("buyers.detail", buyer_id=buyer.id))
    return render_template("buyers/invite.html", form=form), outcome.status


# --- the organizer: by country, statistics ----------------------------------------------------------------------------

@bp.get("/organizer/buyers/countries")
@allow(*ORGANIZERS)
def by_country():
    facets = stats.facets(current_expo())
    return render_template("buyers/countries.html", facets=facets, regions=stats.by_region(facets.countries),
                           region_name=regions.name)


@bp.get("/organizer/buyers/stats")
@allow(*ORGANIZERS)
def statistics():
    expo, lang = current_expo(), current_lang()
    facets = stats.facets(expo)
    others = _("Others")
    country_rows = [(countries.name(r.country, lang), (r.buyers, r.delegations)) for r in facets.countries]
    region_rows = [(regions.name(r.region, lang), (r.buyers, r.delegations)) for r in stats.by_region(facets.countries)]
    series = [_("Buyers"), _("Delegations")]
    paths = dict(venue_queries.category_choices(lang))  # "Athletic shoes › Running shoes"
    interest_rows = [(paths.get(c.id) or localized(c, "name", lang), n) for c, n in stats.interests(expo)]
    volume_rows = [(str(label), facets.volume.get(v.value, 0)) for v, label in VOLUME_LABELS.items()]
    volume_rows.append((_("Not stated"), facets.volume.get("", 0)))
    charts_ = {
        "countries": charts.bar_chart(charts.top_n(country_rows, 15, other_label=others), series=series,
                                      title=_("Buyers and delegations per country or region"), empty_text=_("None yet")),
        "regions": charts.bar_chart(region_rows, series=series, title=_("Buyers and delegations per world region"),
                                    empty_text=_("None yet")),
        # Every category: the taxonomy is short, and a category nobody wants is worth seeing too.
        "interests": charts.bar_chart(interest_rows, title=_("Purchase interests per product category"),
                                      empty_text=_("None yet")),
        # Half-width cards: a narrower drawing keeps the text as large as in the others.
        "hosted": charts.bar_chart([(str(label), facets.hosted.get(s.value, 0)) for s, label in HOSTED_LABELS.items()],
                                   title=_("Hosted-buyer programme"), empty_text=_("None yet"), width=400),
        "volume": charts.bar_chart(volume_rows, title=_("Annual purchase volume"), empty_text=_("None yet"),
                                   width=400),
    }
    return render_template("buyers/stats.html", facets=facets, charts=charts_)
