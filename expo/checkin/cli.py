"""``flask gate``: the gate's commands for cron.

    flask gate checkout            # at the end of the day: everyone still inside is checked out

:func:`expo.checkin.checkpoints.auto_checkout` checks out the zones of the active checkpoints whose automatic
check-out time (venue time) has passed today. Run it from cron a few minutes after the latest such time, e.g.
``5 18 * * *``; running it again later the same evening does no harm.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from expo.extensions import db


@click.group("gate")
def gate_group() -> None:
    """Gate check-in: the automatic check-out."""


@gate_group.command("checkout")
@click.option("--at", "at_text", default=None, help="Act as if it were this UTC time (ISO 8601), for a late run.")
@with_appcontext
def checkout_command(at_text: str | None) -> None:
    """Check out everyone inside the zones whose checkpoints' automatic check-out time has passed today."""
    from expo.checkin import checkpoints
    from expo.exhibitors.services import current_expo

    at = None
    if at_text:
        try:
            at = datetime.fromisoformat(at_text)
        except ValueError as exc:
            raise click.BadParameter("give the time as ISO 8601, e.g. 2027-04-19T10:00:00", param_hint="--at") \
                from exc
        if at.tzinfo is not None:
            at = at.astimezone(UTC).replace(tzinfo=None)
    done = checkpoints.auto_checkout(current_expo(), at)
    db.session.commit()
    if not done:
        click.echo("No checkpoint is due for its automatic check-out yet.")
    for checkpoint, n in done:
        click.echo(f"{checkpoint.code} ({checkpoint.zone}): {n} checked out")
