"""Sign in and out, password reset, the account page with API tokens, and the organizer's account list."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from expo.auth import services
from expo.auth.access import PUBLIC, SIGNED_IN, allow, home_endpoint, safe_next
from expo.auth.forms import ROLE_LABELS, AccountForm, ApiTokenForm, ForgotPasswordForm, LoginForm, ResetPasswordForm
from expo.auth.models import Role, User
from expo.exhibitors.forms import EmptyForm
from expo.extensions import db
from expo.formflow import run_form

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data, request.remote_addr or "?")
        except services.AuthError as exc:
            db.session.commit()  # keep the failed attempt: it counts towards the throttle
            flash(str(exc.message), "error")
            status = exc.status
        else:
            db.session.commit()
            login_user(user)
            return redirect(safe_next(request.args.get("next")) or url_for(home_endpoint(user.role)))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@allow(SIGNED_IN)
def logout():
    if EmptyForm().validate_on_submit():
        logout_user()
        flash(_("You are signed out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@allow(PUBLIC)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(
            form.email.data, lambda token: url_for("auth.reset_password", token=token, _external=True))
        db.session.commit()
        flash(_("If an account exists for this address, we have sent it a link to choose a new password."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
def reset_password(token: str):
    services.user_for_reset_token(token)  # a stale or forged link says so at once, before a password is typed
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.reset_password(token, form.password.data)  # an ExpoError becomes a 4xx page
        db.session.commit()
        flash(_("Your password is changed. Sign in with the new one."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/account", methods=["GET", "POST"])
@allow(SIGNED_IN)
def account():
    form = ApiTokenForm()
    new_secret = None
    if form.validate_on_submit():
        _token, new_secret = services.create_api_token(current_user, form.name.data)
        db.session.commit()
        flash(_("Copy the token now: it is shown only once."), "warning")
    return render_template("auth/account.html", form=form, tokens=services.tokens_of(current_user),
                           new_secret=new_secret, role_label=ROLE_LABELS.get(Role(current_user.role)))


@bp.post("/account/tokens/<int:token_id>/revoke")
@allow(SIGNED_IN)
def revoke_token(token_id: int):
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("auth.account"))
    services.revoke_api_token(current_user, token_id)
    db.session.commit()
    flash(_("The token is revoked."), "info")
    return redirect(url_for("auth.account"))


@bp.route("/organizer/accounts", methods=["GET", "POST"])
@allow(Role.ADMIN)
def accounts():
    form = AccountForm()
    outcome = run_form(form, lambda: services.create_user(form.email.data, form.password.data, form.name.data,
                                                          form.role.data))
    if outcome.ok:
        flash(_("The account is created."), "success")
        return redirect(url_for("auth.accounts"))
    status = outcome.status
    users = db.session.scalars(select(User).where(User.role != Role.EXHIBITOR).order_by(User.role, User.email))
    return render_template("auth/accounts.html", form=form, users=list(users), role_labels=ROLE_LABELS), status
