"""flask commands: demo, quickstart, create-admin, mail send."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from expo.extensions import db


def register_cli(app: Flask) -> None:
    app.cli.add_command(demo_command)
    app.cli.add_command(quickstart_command)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(mail_group)
    app.cli.add_command(allocate_command)
    app.cli.add_command(release_holds_command)
    from expo.badges.cli import badges_group

    app.cli.add_command(badges_group)
    from expo.checkin.cli import gate_group

    app.cli.add_command(gate_group)


def _load_demo(exhibitors: int, buyers: int, force: bool, delegations: int | None = None) -> None:
    from expo import demo

    total = 1 + exhibitors + buyers
    with click.progressbar(length=total, label="Loading the demo expo", file=sys.stderr) as bar:
        try:
            summary = demo.load(exhibitors=exhibitors, buyers=buyers, force=force, progress=bar.update,
                                delegations=delegations, checkpoints=True, docking=True)
        except demo.DatabaseNotEmpty as exc:
            db.session.rollback()
            raise click.ClickException(
                "The database already holds data; the demo will not mix into it. "
                "Run 'flask demo --reset' to wipe it and load the demo.") from exc
    db.session.commit()
    click.echo(f"Demo expo loaded: {summary.exhibitors} exhibitors, {summary.buyers} buyers from "
               f"{summary.buyer_countries} countries in {summary.delegations} delegations and on their own, "
               f"{summary.staff} exhibitor staff, {summary.pavilions} pavilions, "
               f"room for {summary.booth_capacity} standard booths.")
    _print_logins()


def _print_logins() -> None:
    from expo import demo

    click.echo(f"\nDemo sign-ins (password for all: {demo.DEMO_PASSWORD}):")
    for email, _name, role in demo.DEMO_ACCOUNTS:
        click.echo(f"  {role:<18} {email}")
    click.echo(f"  {'exhibitor':<18} {demo.DEMO_EXHIBITOR_EMAIL}  (also ex000001@expo.test ... one per exhibitor)")


@click.command("demo")
@click.option("--reset", is_flag=True, help="Wipe every table first. Without it, refuses a database with data.")
@click.option("--exhibitors", default=1000, show_default=True)
@click.option("--buyers", default=3000, show_default=True)
@click.option("--delegations", type=int, default=None, help="Buyer delegations  [default: buyers / 100, at least 2]")
@with_appcontext
def demo_command(reset: bool, exhibitors: int, buyers: int, delegations: int | None) -> None:
    """Load the demo expo (China (Jinjiang) International Footwear Expo) into the database."""
    _load_demo(exhibitors, buyers, reset, delegations)


@click.command("quickstart")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--no-serve", is_flag=True, help="Prepare the database and stop.")
@with_appcontext
def quickstart_command(host: str, port: int, no_serve: bool) -> None:
    """Apply migrations, load the demo if the database is empty, print the sign-ins and serve the app."""
    from expo import demo

    upgrade(directory=current_app.extensions["migrate"].directory)
    if demo.holds_data():
        click.echo("The database already holds data; the demo is not loaded again.")
        _print_logins()
    else:
        _load_demo(1000, 3000, False)
    if no_serve:
        return
    click.echo(f"\nOpen http://{host}:{port}/ (Ctrl-C stops it)")
    current_app.run(host=host, port=port, debug=False, use_reloader=False)


@click.command("create-admin")
@click.argument("email")
@click.option("--name", default="Organizer admin")
@click.password_option()
@with_appcontext
def create_admin_command(email: str, name: str, password: str) -> None:
    """Create an organizer admin account."""
    from expo.auth.models import Role
    from expo.auth.services import create_user
    from expo.errors import ExpoError

    try:
        create_user(email, password, name, Role.ADMIN)
    except ExpoError as exc:
        raise click.ClickException(str(exc.message)) from exc
    db.session.commit()
    click.echo(f"Admin {email} created.")


@click.group("mail")
def mail_group() -> None:
    """The outbox."""


@mail_group.command("send")
@with_appcontext
def mail_send() -> None:
    """Send every message still in the outbox through the configured SMTP server."""
    from expo import mail

    if not current_app.config.get("MAIL_SERVER"):
        raise click.ClickException("Set EXPO_MAIL_SERVER first; until then mail stays in the outbox.")
    pending = mail.pending()
    sent = mail.deliver(db.session, pending)
    db.session.commit()
    click.echo(f"{sent} of {len(pending)} messages sent.")


@click.command("allocate")
@click.option("--apply", "apply_it", is_flag=True, help="Apply the proposal at once (else it stays open for review).")
@click.option("--as", "email", default=None, help="The organizer account it runs as (default: the first admin).")
@with_appcontext
def allocate_command(apply_it: bool, email: str | None) -> None:
    """Compute an automatic allocation proposal for the current expo; with --apply, apply it."""
    from sqlalchemy import select

    from expo.allocation import proposals
    from expo.auth.models import Role, User
    from expo.errors import ExpoError
    from expo.exhibitors.services import current_expo

    query = select(User).where(User.email == email.strip().lower()) if email else (
        select(User).where(User.role == str(Role.ADMIN), User.active.is_(True)).order_by(User.id).limit(1))
    actor = db.session.scalar(query)
    if actor is None or not actor.is_organizer:
        raise click.ClickException("No organizer account to run as; pass --as EMAIL of an organizer.")
    try:
        expo = current_expo()
        bar_holder: dict = {}

        def start(total: int) -> None:
            bar_holder["bar"] = click.progressbar(length=total, label="Allocating booths", file=sys.stderr)
            bar_holder["bar"].__enter__()

        try:
            proposal = proposals.propose(actor, expo, progress=lambda n: bar_holder["bar"].update(n), on_total=start)
        finally:
            if "bar" in bar_holder:
                bar_holder["bar"].__exit__(None, None, None)
        summary = proposal.result["summary"]
        click.echo(f"Proposal {proposal.id}: {summary['served']} of {summary['requests']} exhibitors served, "
                   f"{summary['booths_used']} booths, {summary['unmet']} unmet.")
        if apply_it:
            proposals.apply(actor, proposal)
            click.echo(f"Applied; {summary['waitlisted']} applications waitlisted.")
    except ExpoError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from exc
    db.session.commit()


@click.command("release-holds")
@with_appcontext
def release_holds_command() -> None:
    """Free the booth holds whose time is up (run it every minute from cron or a systemd timer).

    Pages and the API already treat an expired hold as free when someone takes the booth; this puts those booths
    back on the plan and in the lists as available for everyone else too.
    """
    from expo.allocation.services import release_expired_holds
    from expo.exhibitors.services import current_expo

    freed = release_expired_holds(current_expo())
    db.session.commit()
    click.echo(f"{freed} expired holds released.")
