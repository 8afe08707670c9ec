"""``flask badges``: print a batch of badges to a PDF file with a progress bar, and show the expo's public keys.

    flask badges print --delegation 7 --out delegation-7.pdf
    flask badges print --pavilion 3 --layout a4x4 --out pavilion.pdf
    flask badges print --type VIS --out visitors.pdf
    flask badges print --all-of-kind buyer --out buyers.pdf
    flask badges public-key

The same selection as a print job of the web pages (:mod:`expo.badges.printing`): people without a badge get one,
revoked badges are left out, and every badge printed is counted (a later print at the desk asks for a reason).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from expo.extensions import db

KINDS = ("buyer", "exhibitor_staff", "visitor", "organizer")


@click.group("badges")
def badges_group() -> None:
    """Badges: batch printing and the public keys for scanners."""


@badges_group.command("print")
@click.option("--delegation", "delegation_id", type=int, help="The members of this delegation (its id).")
@click.option("--pavilion", "pavilion_id", type=int, help="The staff of the exhibitors in this pavilion (its id).")
@click.option("--exhibitor", "exhibitor_id", type=int, help="The staff of this exhibitor (its id).")
@click.option("--type", "type_code", help="The badges already issued under this badge type (its code, e.g. VIS).")
@click.option("--all-of-kind", "kind", type=click.Choice(KINDS),
              help="Everyone of a kind: every buyer, the staff of every exhibitor holding a booth, every visitor, "
                   "every organizer account.")
@click.option("--layout", default="", help="A layout for every badge (a6, a4x4, cr80, 4x3in, label62); "
                                          "default: each badge type's own.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="The PDF file to write.")
@with_appcontext
def print_command(delegation_id: int | None, pavilion_id: int | None, exhibitor_id: int | None,
                  type_code: str | None, kind: str | None, layout: str, out: Path) -> None:
    """Print a batch of badges into one PDF file."""
    from expo.badges import layouts, printing, services
    from expo.badges.models import BadgeType
    from expo.errors import ExpoError
    from expo.exhibitors.services import current_expo

    chosen = {k: v for k, v in (("delegation_id", delegation_id), ("pavilion_id", pavilion_id),
                                ("exhibitor_id", exhibitor_id), ("type", type_code), ("holder_kind", kind))
              if v not in (None, "")}
    if len(chosen) != 1:
        raise click.UsageError("Choose one of --delegation, --pavilion, --exhibitor, --type or --all-of-kind.")
    if layout and layout not in layouts.PRESETS:
        raise click.BadParameter(f"choose one of {', '.join(layouts.PRESETS)}", param_hint="--layout")
    try:
        expo = current_expo()
        if "type" in chosen:
            services.ensure_types(expo)
            type_id = db.session.scalar(select(BadgeType.id).where(BadgeType.expo_id == expo.id,
                                                                   BadgeType.code == type_code.strip().upper()))
            if type_id is None:
                raise click.BadParameter(f"no badge type {type_code!r}", param_hint="--type")
            chosen = {"badge_type_id": type_id}
        badges = printing.resolve(None, expo, chosen)
        db.session.commit()  # the badges issued for the selection: kept even if the rendering is stopped
        if not badges:
            click.echo("No badges to print.", err=True)
            return
        with click.progressbar(length=len(badges), label="Printing badges", file=sys.stderr,
                               show_pos=True) as bar:
            pdf = printing.pdf_of(expo, badges, layout=layout, progress=bar.update)
        out.write_bytes(pdf)
        services.record_print(None, badges, reason="flask badges print")
    except ExpoError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from exc
    db.session.commit()
    click.echo(f"{len(badges)} badges printed to {out} ({len(pdf) // 1024} KB).")


@badges_group.command("public-key")
@click.option("--json", "as_json", is_flag=True, help="As one JSON object {key number: base64}.")
@with_appcontext
def public_key_command(as_json: bool) -> None:
    """The expo's public keys (base64 of the raw 32-byte Ed25519 keys) for scanners that verify badges offline."""
    from expo.badges import keys
    from expo.exhibitors.services import current_expo

    expo = current_expo()
    keys.active_key(expo)  # created on first use
    found = keys.public_keys_b64(expo)
    db.session.commit()
    if as_json:
        click.echo(json.dumps(found))
        return
    active = keys.active_key(expo).id
    for key_id, b64 in sorted(found.items(), key=lambda kv: int(kv[0])):
        click.echo(f"{key_id}\t{b64}{'  (active)' if int(key_id) == active else ''}")
