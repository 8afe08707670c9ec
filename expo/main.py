"""The public home page, the organizer dashboard, and the language switch."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select

from expo import charts, countries
from expo import dashboard as expo_dashboard
from expo.auth.access import ORGANIZERS, PUBLIC, allow, home_endpoint, safe_next
from expo.buyers.models import Buyer
from expo.exhibitors import services as exhibitor_services
from expo.exhibitors.forms import EmptyForm
from expo.exhibitors.models import Exhibitor
from expo.extensions import db
from expo.i18n import LANGUAGES, current_lang
from expo.venue.forms import STATUS_CHOICES as BOOTH_STATUS_CHOICES

bp = Blueprint("main", __name__)


@bp.get("/")
@allow(PUBLIC)
def index():
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user.role)))
    expo = exhibitor_services.current_expo()
    return render_template("index.html", expo=expo)


@bp.post("/language/<code>")
@allow(PUBLIC)
def set_language(code: str):
    form = EmptyForm()
    if form.validate_on_submit() and code in LANGUAGES:
        session["locale"] = code
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
    return redirect(safe_next(request.form.get("next")) or "/")


@bp.get("/organizer/")
@allow(*ORGANIZERS)
def dashboard():
    expo = exhibitor_services.current_expo()
    counts = exhibitor_services.status_counts(expo)
    exhibitor_countries = db.session.scalar(select(func.count(func.distinct(Exhibitor.country))))
    buyers, buyer_countries = db.session.execute(
        select(func.count(Buyer.id), func.count(func.distinct(Buyer.country))).where(Buyer.expo_id == expo.id)).one()
    figures = expo_dashboard.figures(expo)
    return render_template("organizer/dashboard.html", expo=expo, counts=counts,
                           exhibitor_countries=exhibitor_countries, buyers=buyers, buyer_countries=buyer_countries,
                           figures=figures, charts=_dashboard_charts(figures))


def _dashboard_charts(figures: expo_dashboard.ExpoFigures) -> dict[str, Markup]:
    """The dashboard's charts: booths, fees, exhibitors and buyers by country, check-ins per day."""
    lang = current_lang()
    others = _("Others")
    none = _("None yet")
    labels = dict(BOOTH_STATUS_CHOICES)
    booth_rows = [(str(labels.get(status, status)), n) for status, n in figures.booths.items()]
    fee_rows = [(_("Invoiced"), figures.fees.invoiced), (_("Paid"), figures.fees.paid),
                (_("Not invoiced"), figures.fees.total - figures.fees.invoiced)]
    return {
        "booths": charts.bar_chart(booth_rows, title=_("Booths by status"), empty_text=none),
        "fees": charts.bar_chart(fee_rows, title=_("Booth fees in yuan"), empty_text=none),
        "exhibitors": charts.bar_chart(charts.top_n([(countries.name(c, lang), n) for c, n in
                                                     figures.exhibitors_by_country], 12, other_label=others),
                                       title=_("Exhibitors per country or region"), empty_text=none),
        "buyers": charts.bar_chart(charts.top_n([(countries.name(c, lang), n) for c, n in
                                                 figures.buyers_by_country], 12, other_label=others),
                                   title=_("Buyers per country or region"), empty_text=none),
        "checkins": charts.bar_chart([(format_date(day, "medium"), (entries, people))
                                      for day, entries, people in figures.checkins],
                                     series=[_("Entries"), _("People")], title=_("Check-ins per day"),
                                     empty_text=none),
    }
