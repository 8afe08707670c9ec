"""The organizer's page for the product-category taxonomy."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from expo.auth.access import allow
from expo.auth.models import Role
from expo.categories import services
from expo.categories.forms import CategoryForm
from expo.categories.models import ProductCategory
from expo.extensions import db
from expo.formflow import run_form
from expo.i18n import current_lang
from expo.venue.queries import category_choices

bp = Blueprint("categories", __name__, url_prefix="/organizer/categories")


def _edit(category: ProductCategory | None):
    form = CategoryForm(obj=category, parent_choices=category_choices(current_lang()))
    outcome = run_form(form, lambda: services.save_category(current_user, form.data, category))
    if outcome.ok:
        flash(_("The category is saved."), "success")
        return redirect(url_for("categories.index"))
    status = outcome.status
    everything = db.session.scalars(select(ProductCategory).order_by(ProductCategory.sort, ProductCategory.id))
    return render_template("organizer/categories.html", form=form, category=category, categories=list(everything),
                           labels=dict(category_choices(current_lang()))), status


@bp.route("/", methods=["GET", "POST"])
@allow(Role.ADMIN)
def index():
    return _edit(None)


@bp.route("/<int:category_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def edit(category_id: int):
    return _edit(db.get_or_404(ProductCategory, category_id))
