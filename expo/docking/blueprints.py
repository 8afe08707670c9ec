"""The docking blueprints: ``docking`` (pages under /docking) and ``docking_api`` (/api/v1/docking).

Each part of the package adds its routes to these two from its own module (needs and offers, recommendations,
meetings, sessions and the schedule, outcomes and reports); :data:`VIEW_MODULES` lists them, and
:func:`register` imports them all before the blueprints are registered on the app.
"""

from __future__ import annotations

from importlib import import_module

from flask import Blueprint, Flask

bp = Blueprint("docking", __name__, url_prefix="/docking")
api_bp = Blueprint("docking_api", __name__, url_prefix="/api/v1/docking")

#: Modules of :mod:`expo.docking` that add routes to :data:`bp` or :data:`api_bp`, imported by :func:`register`.
VIEW_MODULES: tuple[str, ...] = ("meeting_views", "report_views", "need_views", "session_views")


def register(app: Flask) -> None:
    """Import every view module (which adds its routes), then register both blueprints."""
    for name in VIEW_MODULES:
        import_module(f"expo.docking.{name}")
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
