"""expo: trade-expo management. :func:`create_app` builds the Flask application."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, request
from werkzeug.routing import IntegerConverter, ValidationError

ROOT = Path(__file__).resolve().parent.parent

#: Headers on every answer (pages, API, and the gate's fast path: expo.checkin.fastpath).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "object-src 'none'; frame-ancestors 'none'",
}


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: settings (``EXPO_*`` environment variables, then ``overrides``), extensions, blueprints."""
    app = Flask(__name__, template_folder=str(ROOT / "templates"), instance_relative_config=True)
    from expo import config

    app.config.from_mapping(config.load(app.instance_path, overrides))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if hops := int(app.config["PROXY_FIX_X_FOR"]):
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind a reverse proxy the client address (throttling) and scheme (links in mail) come from its headers;
        # trusted only for as many hops as configured, or anyone could forge them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from expo.extensions import babel, csrf, db, migrate
    from expo.i18n import select_locale

    db.init_app(app)
    # Every table of the schema, whether or not a blueprint imports its models yet (migrations compare them all).
    import expo.badges.models  # noqa: F401
    import expo.checkin.models  # noqa: F401
    import expo.docking.models  # noqa: F401

    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    _init_login(app)
    _init_sqlite(app)
    _register_blueprints(app)
    _init_security(app)

    from expo import errorpages, templating
    from expo.cli import register_cli

    errorpages.register(app)
    templating.register(app)
    register_cli(app)

    from expo.auth.access import check_declared

    check_declared(app)
    from expo.checkin.fastpath import ScanFastPath

    app.wsgi_app = ScanFastPath(app.wsgi_app, app)  # outermost: a scan skips the rest (its docstring says why)
    return app


def _init_login(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from expo.auth.services import user_for_api_token, user_for_session
    from expo.extensions import login_manager

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        return user_for_session(user_id)

    @login_manager.request_loader
    def load_user_from_token(req):
        header = req.headers.get("Authorization", "")
        if req.path.startswith("/api/") and header.startswith("Bearer "):
            user = user_for_api_token(header[7:].strip())
            if user is not None:
                g.api_token_auth = True
            return user
        return None


def _init_sqlite(app: Flask) -> None:
    """SQLite: enforce foreign keys, and use WAL so readers do not wait for the one writer."""
    from sqlalchemy import event

    from expo.extensions import db

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return

    def _pragmas(dbapi_connection, _record):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=5000")
        cur.close()

    with app.app_context():
        event.listen(db.engine, "connect", _pragmas)


class _RowIdConverter(IntegerConverter):
    """``<int:...>`` in URLs: a number no row can have (above 2³¹-1, or too long to be a number at all) matches no
    route, so it is a 404 instead of an overflow error from the database driver."""

    def __init__(self, map, *args, **kwargs):
        from expo.forms import MAX_ID

        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str):
        if len(value) > 10:
            raise ValidationError()
        return super().to_python(value)


def _register_blueprints(app: Flask) -> None:
    from expo.allocation.proposal_views import bp as proposals_bp
    from expo.allocation.views import bp as allocation_bp
    from expo.api.views import bp as api_bp
    from expo.auth.views import bp as auth_bp
    from expo.buyers.delegation_views import bp as delegations_bp
    from expo.buyers.import_views import bp as buyer_imports_bp
    from expo.buyers.views import bp as buyers_bp
    from expo.categories.views import bp as categories_bp
    from expo.exhibitors.views import bp as exhibitors_bp
    from expo.exhibitors.views import review_bp
    from expo.floorplans.views import bp as floorplans_bp
    from expo.letters.views import bp as letters_bp
    from expo.main import bp as main_bp
    from expo.venue.views import bp as venue_bp

    # Before any rule is added: every <int:...> in a URL is a row id from now on.
    app.url_map.converters["int"] = _RowIdConverter
    for bp in (main_bp, auth_bp, exhibitors_bp, review_bp, categories_bp, api_bp, proposals_bp, allocation_bp,
               venue_bp, floorplans_bp):
        app.register_blueprint(bp)
    app.register_blueprint(buyers_bp)
    app.register_blueprint(delegations_bp)
    app.register_blueprint(letters_bp)
    app.register_blueprint(buyer_imports_bp)
    from expo.badges.desk_views import bp as badge_desk_bp

    app.register_blueprint(badge_desk_bp)
    from expo.badges.admin_views import bp as badge_admin_bp

    app.register_blueprint(badge_admin_bp)
    from expo.checkin.api import bp as gate_api_bp
    from expo.checkin.views import bp as checkin_bp

    app.register_blueprint(checkin_bp)
    app.register_blueprint(gate_api_bp)
    from expo.checkin.lead_views import api_bp as leads_api_bp
    from expo.checkin.lead_views import bp as leads_bp

    app.register_blueprint(leads_bp)
    app.register_blueprint(leads_api_bp)
    from expo.docking import blueprints as docking_blueprints

    docking_blueprints.register(app)


def _init_security(app: Flask) -> None:
    from expo.auth.access import enforce
    from expo.extensions import csrf

    @app.before_request
    def _csrf_and_access():
        # API calls that authenticate with a bearer token carry no cookie, so CSRF cannot reach them;
        # everything else — forms and cookie-authenticated API calls — must carry the token.
        from flask import abort
        from flask_login import current_user

        if request.is_json and request.method not in ("GET", "HEAD", "OPTIONS") and not request.path.startswith("/api/"):
            # Pages take form posts only. Flask-WTF would otherwise bind a JSON body to the page's form, where a
            # list or an object in place of text makes the view fail with a 500.
            abort(415)
        signed_in = current_user.is_authenticated  # runs the loaders, which mark token authentication
        # Anonymous API calls carry no authority a forged request could borrow, so they need no token either.
        exempt = g.get("api_token_auth") or (request.path.startswith("/api/") and not signed_in)
        if not exempt and app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()
        return enforce()

    @app.after_request
    def _headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
