"""The public home page, the organizer dashboard, and the language switch."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import func, select

from expo.auth.access import ORGANIZERS, PUBLIC, allow, home_endpoint, safe_next
from expo.buyers.models import Buyer
from expo.exhibitors import services as exhibitor_services
from expo.exhibitors.forms import EmptyForm
from expo.exhibitors.models import Exhibitor
from expo.extensions import db
from expo.i18n import LANGUAGES

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
    return render_template("organizer/dashboard.html", expo=expo, counts=counts,
                           exhibitor_countries=exhibitor_countries, buyers=buyers, buyer_countries=buyer_countries)
