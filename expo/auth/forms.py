from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from expo.auth.models import Role
from expo.forms import ExpoForm, options


class LoginForm(ExpoForm):
    email = EmailField(_l("E-mail address"), [DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), [DataRequired(), Length(max=200)])


class ForgotPasswordForm(ExpoForm):
    # Only looked up, never stored: no format check, so every existing account (demo ones on .test too) can reset.
    email = EmailField(_l("E-mail address"), [DataRequired(), Length(max=254)])


class ResetPasswordForm(ExpoForm):
    password = PasswordField(_l("New password"), [DataRequired(), Length(min=8, max=200)])
    password_confirm = PasswordField(_l("Repeat the new password"),
                                     [DataRequired(), EqualTo("password", message=_l("The passwords differ."))])


class ApiTokenForm(ExpoForm):
    name = StringField(_l("What the token is for"), [DataRequired(), Length(max=100)])


ROLE_LABELS = {
    Role.ADMIN: _l("Organizer admin"),
    Role.STAFF: _l("Organizer staff"),
    Role.EXHIBITOR: _l("Exhibitor"),
    Role.DELEGATION_LEADER: _l("Delegation leader"),
    Role.BUYER: _l("Buyer"),
    Role.GATE: _l("Gate staff"),
    Role.PRINT_DESK: _l("Print desk"),
}


class AccountForm(ExpoForm):
    """An organizer admin creates an account for staff, gate or print desk."""

    email = EmailField(_l("E-mail address"), [DataRequired(), Length(max=254),
                                              Email(message=_l("Enter a valid e-mail address."))])
    name = StringField(_l("Name"), [DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=options((r.value, label) for r, label in ROLE_LABELS.items()
                                                    if r not in (Role.EXHIBITOR,)))
    password = PasswordField(_l("Initial password"), [DataRequired(), Length(min=8, max=200)])
