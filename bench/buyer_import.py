"""Bulk import at scale: a 10,000-row XLSX of delegation members (or buyers), previewed and applied through the
real pages, on SQLite and PostgreSQL. Target: under 30 s from upload to the committed import.

    python bench/buyer_import.py                 # SQLite (bench/out/buyer_import.sqlite3)
    python bench/buyer_import.py --pg            # SQLite, then PostgreSQL (database expo_bench_import)
    python bench/buyer_import.py --kind buyers   # the organizer's buyer import instead

Each database is dropped and created again (bench/common.py recreate_database), migrated, and given a small demo
expo (12 exhibitors, 40 buyers) and one empty delegation with its leader. The workbook is generated with openpyxl
(Latin passport names, native names in Cyrillic, Chinese and Vietnamese, dates as date cells, nationalities as
codes and as English and Chinese names). Then, as the leader (or an organizer) in a signed-in test client:

- preview: POST the file to the import page: read and check the workbook, validate every row (the delegation
  service's ``validate_member``), compare with the database, sign the rows for the confirm step, render the page;
- confirm: POST the signed rows: validate them all again, add every member through ``add_member`` (one audit
  entry each) and commit.

The times are wall-clock around each request, plus the service-level phases measured separately once (read,
plan) to show where the time goes. A second run of the preview with the same file afterwards must find every
row unchanged: the round trip.
"""

from __future__ import annotations

import io
import json
import random
import re
import sys
import time
from datetime import date, timedelta

import click
from common import OUT, PG_URL_ENV, bench_app, label, machine, recreate_database

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/expo_bench_import"
SQLITE_URL = f"sqlite:///{OUT / 'buyer_import.sqlite3'}"
TARGET_S = 30.0
PASSWORD = "bench-import-password"

FIRST = ["IVAN", "ANNA", "DMITRY", "OLGA", "SERGEI", "MARIA", "NGUYEN", "TRAN", "LE", "WANG", "LI", "ZHANG", "AHMED",
         "FATIMA", "JOSE", "LUCIA", "KWAME", "AMARA", "HIROSHI", "YUKI"]
LAST = ["PETROV", "SMIRNOVA", "IVANOV", "KUZNETSOVA", "VAN AN", "THI HOA", "MINH", "WEI", "NA", "HUA", "HASSAN",
        "ALI", "SILVA", "GARCIA", "MENSAH", "OKAFOR", "TANAKA", "SATO"]
NATIVE = ["Иван Петров", "Анна Смирнова", "王伟", "李娜", "Nguyễn Văn An", "Trần Thị Hoa", "", "", "أحمد حسن", ""]
NATIONALITY = ["RU", "Russia", "俄罗斯", "VN", "Vietnam", "越南", "CN", "BR", "Brazil", "NG", "JP", "日本", "EG"]


def workbook(kind: str, rows: int, seed: int = 2027) -> bytes:
    from openpyxl import Workbook

    rng = random.Random(seed)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Members" if kind == "members" else "Buyers")
    if kind == "members":
        ws.append(["name", "name_native", "email", "phone", "company", "job_title", "passport_number",
                   "passport_expires_on", "nationality", "date_of_birth"])
    else:
        ws.append(["email", "name", "name_native", "company", "country", "job_title", "phone", "website",
                   "purchase_volume", "products_sought", "categories", "contact_consent", "passport_number",
                   "passport_expires_on", "nationality", "date_of_birth"])
    for i in range(rows):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        native = rng.choice(NATIVE)
        email = f"person{i:06d}@import.example.com"
        phone = f"+7 9{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
        company = f"Footwear Trading {i % 700} LLC"
        number = f"{rng.choice('ABCEKMNP')}{i:08d}"
        expires = date(2029, 1, 1) + timedelta(days=rng.randint(0, 3000))
        born = date(1960, 1, 1) + timedelta(days=rng.randint(0, 15000))
        nationality = rng.choice(NATIONALITY)
        if kind == "members":
            ws.append([name, native, email if i % 3 else "", phone, company, "Buyer", number, expires, nationality,
                       born])
        else:
            ws.append([email, name, native, company, rng.choice(["RU", "Vietnam", "巴西", "NG", "IT"]), "Buyer", phone,
                       "", rng.choice(["", "under_100k", "1m_10m"]), "Running shoes", "", rng.choice(["yes", "no"]),
                       number if i % 2 else "", expires if i % 2 else None, nationality if i % 2 else "",
                       born if i % 2 else None])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def prepare(app) -> dict:
    """Migrate, load a small demo expo, and add an empty delegation with its leader."""
    from flask_migrate import upgrade

    from expo import demo
    from expo.auth import services as auth_services
    from expo.auth.models import Role
    from expo.buyers.models import Delegation
    from expo.exhibitors.services import current_expo
    from expo.extensions import db

    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        demo.load(exhibitors=12, buyers=40, hall_capacity=40)
        db.session.commit()
        leader = auth_services.create_user("import-leader@bench.example.com", PASSWORD, "Bench Leader",
                                           Role.DELEGATION_LEADER)
        admin = auth_services.create_user("import-admin@bench.example.com", PASSWORD, "Bench Admin", Role.ADMIN)
        delegation = Delegation(expo_id=current_expo().id, name="Bench Import Delegation", country="RU",
                                leader_user_id=leader.id)
        db.session.add(delegation)
        db.session.commit()
        return {"delegation_id": delegation.id, "leader": leader.email, "admin": admin.email}


def sign_in(client, email: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    data = {"email": email, "password": PASSWORD}
    if token:
        data["csrf_token"] = token.group(1)
    r = client.post("/login", data=data)
    assert r.status_code == 302, r.status_code


def csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    return m.group(1) if m else ""


def run(url: str, kind: str, rows: int) -> dict:
    from sqlalchemy import func, select

    from expo.buyers import imports
    from expo.buyers.models import Buyer, Delegation
    from expo.extensions import db

    recreate_database(url)
    app = bench_app(url)
    app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"  # the accounts are made here; speed, not safety
    t0 = time.perf_counter()
    info = prepare(app)
    setup_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    body = workbook(kind, rows)
    generate_s = time.perf_counter() - t0
    result = {"database": label(url), "kind": kind, "rows": rows, "xlsx_bytes": len(body),
              "setup_s": round(setup_s, 2), "generate_xlsx_s": round(generate_s, 2)}

    # Service-level phases, once, rolled back: where the time of a preview goes.
    with app.app_context():
        from expo.exhibitors.services import current_expo

        t0 = time.perf_counter()
        cells = imports.read_upload(io.BytesIO(body))
        result["read_xlsx_s"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        if kind == "members":
            plan = imports.plan_members(None, db.session.get(Delegation, info["delegation_id"]), cells)
        else:
            plan = imports.plan_buyers(None, current_expo(), cells)
        result["plan_s"] = round(time.perf_counter() - t0, 2)
        assert plan.ok, [(r.line, r.errors) for r in plan.bad_rows[:5]]
        db.session.rollback()

    client = app.test_client()
    sign_in(client, info["leader"] if kind == "members" else info["admin"])
    base = f"/leader/delegations/{info['delegation_id']}/members/import" if kind == "members" \
        else "/organizer/buyers/import"
    token = csrf(client.get(base).get_data(as_text=True))
    t0 = time.perf_counter()
    r = client.post(base, data={"file": (io.BytesIO(body), "import.xlsx"), "csrf_token": token},
                    content_type="multipart/form-data")
    result["preview_s"] = round(time.perf_counter() - t0, 2)
    html = r.get_data(as_text=True)
    assert r.status_code == 200, (r.status_code, html[:2000])
    rows_token = re.search(r'name="rows" type="hidden" value="([^"]+)"', html).group(1)
    result["confirm_field_bytes"] = len(rows_token)
    t0 = time.perf_counter()
    r = client.post(base + "/confirm", data={"rows": rows_token, "csrf_token": csrf(html)})
    result["confirm_s"] = round(time.perf_counter() - t0, 2)
    assert r.status_code == 302, (r.status_code, r.get_data(as_text=True)[:2000])
    result["total_s"] = round(result["preview_s"] + result["confirm_s"], 2)
    with app.app_context():
        if kind == "members":
            n = db.session.scalar(select(func.count(Buyer.id)).where(Buyer.delegation_id == info["delegation_id"]))
        else:
            n = db.session.scalar(select(func.count(Buyer.id)).where(Buyer.email.like("%@import.example.com")))
        result["imported"] = n
    assert result["imported"] == rows, result
    # The same file again: every row is already there and unchanged.
    token = csrf(client.get(base).get_data(as_text=True))
    t0 = time.perf_counter()
    r = client.post(base, data={"file": (io.BytesIO(body), "import.xlsx"), "csrf_token": token},
                    content_type="multipart/form-data")
    result["preview_again_s"] = round(time.perf_counter() - t0, 2)
    assert f"0 new, {rows} unchanged, 0 with errors." in r.get_data(as_text=True), r.status_code
    result["target_s"] = TARGET_S
    result["under_target"] = result["total_s"] < TARGET_S
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return result


@click.command()
@click.option("--kind", type=click.Choice(["members", "buyers"]), default="members", show_default=True)
@click.option("--rows", default=10_000, show_default=True)
@click.option("--no-sqlite", is_flag=True, help="Skip SQLite.")
@click.option("--pg", is_flag=True, help=f"Also PostgreSQL: ${PG_URL_ENV} or {DEFAULT_PG}.")
@click.option("--pg-url", help="PostgreSQL URL (implies --pg); its database is dropped and created again.")
def main(kind, rows, no_sqlite, pg, pg_url) -> None:
    import os

    urls = [] if no_sqlite else [SQLITE_URL]
    if pg or pg_url:
        urls.append(pg_url or os.environ.get(PG_URL_ENV) or DEFAULT_PG)
    results = []
    for url in urls:
        click.echo(f"{label(url)}: {rows} {kind} ...", err=True)
        results.append(run(url, kind, rows))
    click.echo("")
    head = f"{'database':<11}{'rows':>7}{'xlsx MB':>9}{'read':>7}{'plan':>7}{'preview':>9}{'confirm':>9}" \
           f"{'total':>8}{'again':>8}  target"
    click.echo(head)
    click.echo("-" * len(head))
    for r in results:
        click.echo(f"{r['database']:<11}{r['rows']:>7}{r['xlsx_bytes'] / 1e6:>9.2f}{r['read_xlsx_s']:>7.1f}"
                   f"{r['plan_s']:>7.1f}{r['preview_s']:>9.1f}{r['confirm_s']:>9.1f}{r['total_s']:>8.1f}"
                   f"{r['preview_again_s']:>8.1f}  {'ok' if r['under_target'] else 'OVER'} (< {TARGET_S:.0f} s)")
    click.echo("(seconds; total = preview + confirm through the pages; again = the same file previewed once more, "
               "every row unchanged)")
    OUT.mkdir(exist_ok=True)
    path = OUT / f"buyer_import-{kind}.json"
    path.write_text(json.dumps({"results": results, "machine": machine(),
                                "load_average": list(os.getloadavg())}, indent=2, default=str))
    click.echo(f"written to {path}")
    if not all(r["under_target"] for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
