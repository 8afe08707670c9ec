"""Who may open which page or API call.

Every view declares its audience with :func:`allow`. A single ``before_request`` hook (:func:`enforce`) checks
the declaration for every request, and :func:`check_declared` refuses to start the app if a view has none,
so a forgotten decorator fails closed instead of leaving a page open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, jsonify, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from expo.auth.models import ORGANIZER_ROLES, Role

PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed_in"  # any signed-in account
ORGANIZERS = tuple(ORGANIZER_ROLES)


def allow(*audience: str) -> Callable:
    """Declare who may call the view: :data:`PUBLIC`, :data:`SIGNED_IN` or one or more :class:`Role` values."""
    if not audience:
        raise ValueError("allow() needs an audience")

    def decorate(view: Callable) -> Callable:
        view.expo_access = frozenset(str(a) for a in audience)  # type: ignore[attr-defined]
        return view

    return decorate


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def enforce() -> Any:
    """``before_request``: answer 401/403 (API) or redirect to login / 403 (pages) when the audience does not fit."""
    if request.endpoint is None or request.endpoint == "static":
        return None
    from flask import current_app

    view = current_app.view_functions[request.endpoint]
    audience = getattr(view, "expo_access", None)
    if audience is None:  # check_declared prevents this at start-up; deny rather than trust
        abort(403)
    if PUBLIC in audience:
        return None
    if not current_user.is_authenticated:
        if is_api_request():
            return jsonify(error="unauthorized", message=str(_l("Sign in or send an API token."))), 401
        return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))
    if SIGNED_IN in audience or current_user.role in audience:
        return None
    abort(403)


def check_declared(app: Flask) -> None:
    """Refuse to start when a view does not say who may call it."""
    missing = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and not hasattr(view, "expo_access")
    ]
    if missing:
        raise RuntimeError(f"views without an access declaration: {', '.join(sorted(missing))}")


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else ``None`` (no open redirects through ``next``).

    Browsers read ``\\`` as ``/`` and drop tabs and newlines, and Werkzeug drops some of them from the Location
    header, so ``/\\evil.example`` or ``/<tab>/evil.example`` would leave the site: such targets are refused.
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


def home_endpoint(role: str) -> str:
    """Where each kind of account lands after signing in."""
    return {
        Role.ADMIN: "main.dashboard",
        Role.STAFF: "main.dashboard",
        Role.EXHIBITOR: "exhibitors.dashboard",
        Role.DELEGATION_LEADER: "delegations.leader_home",
        Role.BUYER: "buyers.dashboard",
        Role.GATE: "checkin.choose",
        Role.PRINT_DESK: "badge_desk.search",
    }.get(role, "auth.account")
