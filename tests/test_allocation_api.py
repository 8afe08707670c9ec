"""The venue and allocation API: halls, pavilions, booths (who sees holders), a hall's plan geometry, assignments
(all or nothing, 409 on a taken booth) and vacating; JSON 4xx bodies for bad input; the OpenAPI document."""

from __future__ import annotations

import jsonschema
import pytest
from openapi_spec_validator import validate as validate_openapi
from sqlalchemy import func, select

from expo.allocation import services
from expo.audit import AuditEntry
from expo.exhibitors.models import ApplicationStatus
from expo.exhibitors.services import application_of, current_expo
from expo.extensions import db
from expo.venue import geometry
from expo.venue.models import Booth, BoothStatus, Hall, Pavilion
from expo.venue.services import booth_rect
from tests.factories import make_exhibitor, user

API = "/api/v1"


@pytest.fixture
def world(app):
    """Two approved exhibitors A (with an account and one assigned booth) and B (one held booth)."""
    with app.app_context():
        admin = user("admin@expo.test")
        a, _ = make_exhibitor(email="a@example.com", application={"booths_requested": 4})
        b, _ = make_exhibitor(email="b@example.com", application={"booths_requested": 4})
        for ex in (a, b):
            application_of(ex).status = ApplicationStatus.APPROVED
        free = list(db.session.scalars(select(Booth).where(Booth.status == BoothStatus.AVAILABLE,
                                                           Booth.raw_space.is_(False)).order_by(Booth.id)))
        services.assign(admin, current_expo(), a, [free[0]])
        services.hold(admin, current_expo(), b, [free[1]], minutes=30)
        db.session.commit()
        return dict(a=a.id, b=b.id, booth_a=free[0].id, booth_b=free[1].id, hall=free[0].hall.code,
                    a_name=a.name_en, b_name=b.name_en)


def assert_json_error(r, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True))
    body = r.get_json()
    assert body and body["error"] and body["message"], body
    return body


def test_halls_and_pavilions(app, client):
    halls = client.get(f"{API}/halls").get_json()
    pavilions = client.get(f"{API}/pavilions").get_json()
    with app.app_context():
        db_halls = {h.code: h for h in db.session.scalars(select(Hall))}
        assert {h["code"] for h in halls} == set(db_halls)
        for h in halls:
            assert h["entrances"] == db_halls[h["code"]].entrances
            assert len(h["obstacles"]) == len(db_halls[h["code"]].obstacles)
        db_pavs = {p.code: p for p in db.session.scalars(select(Pavilion))}
        for p in pavilions:
            assert {c["code"] for c in p["categories"]} == {c.code for c in db_pavs[p["code"]].categories}
            assert p["colour"] == db_pavs[p["code"]].colour


def test_booth_list_filters_and_holders(app, client, token, world):
    admin, own = token(), token("a@example.com")
    r = client.get(f"{API}/booths?hall={world['hall']}&status=assigned&per_page=5", headers=admin)
    body = r.get_json()
    with app.app_context():
        expected = db.session.scalar(select(func.count(Booth.id)).join(Hall).where(
            Hall.code == world["hall"], Booth.status == "assigned"))
    assert body["total"] == expected and len(body["items"]) == min(5, expected)
    assert all(b["hall"] == world["hall"] and b["status"] == "assigned" for b in body["items"])
    kinds = client.get(f"{API}/booths?kind=corner&per_page=200", headers=admin).get_json()
    assert kinds["items"] and {b["kind"] for b in kinds["items"]} == {"corner"}
    held = client.get(f"{API}/booths/{world['booth_b']}", headers=admin).get_json()
    assert held["exhibitor_id"] == world["b"] and held["hold_expires_at"]
    # an exhibitor sees the status of others' booths only, and itself on its own
    other = client.get(f"{API}/booths/{world['booth_b']}", headers=own).get_json()
    assert other["status"] == "held" and other["exhibitor_id"] is None and other["hold_expires_at"] is None
    mine = client.get(f"{API}/booths/{world['booth_a']}", headers=own).get_json()
    assert mine["exhibitor_id"] == world["a"]
    listed = client.get(f"{API}/booths?per_page=200&status=assigned", headers=own).get_json()["items"]
    assert {b["exhibitor_id"] for b in listed} <= {None, world["a"]}
    assert client.get(f"{API}/booths").status_code == 401


def test_plan_geometry_and_names(app, client, token, world):
    r = client.get(f"{API}/plan/{world['hall'].lower()}")
    assert r.status_code == 200
    plan = r.get_json()
    with app.app_context():
        hall = db.session.scalar(select(Hall).where(Hall.code == world["hall"]))
        rows = {b.number: b for b in hall.booths}
        assert plan["hall"]["width_m"] == float(hall.width_m) and len(plan["booths"]) == len(rows)
        for b in plan["booths"]:
            row = rows[b["number"]]
            assert (b["x_m"], b["y_m"], b["width_m"], b["depth_m"]) == (row.x_m, row.y_m, row.width_m, row.depth_m)
            assert b["open_sides"] == row.open_sides and b["kind"] == row.kind
            assert b["colour"] == (row.pavilion.colour if row.pavilion else "#888888")
    public = {b["id"]: b for b in plan["booths"]}
    assert public[world["booth_a"]]["exhibitor"] == world["a_name"]  # assigned: public company name
    assert public[world["booth_b"]]["exhibitor"] is None  # held: anonymous to the public
    assert all(b["exhibitor_id"] is None for b in plan["booths"])
    staff = {b["id"]: b for b in client.get(f"{API}/plan/{world['hall']}", headers=token()).get_json()["booths"]}
    assert staff[world["booth_b"]]["exhibitor"] == world["b_name"] and staff[world["booth_b"]]["exhibitor_id"]
    assert_json_error(client.get(f"{API}/plan/ZZ9"), 404)


def _adjacent_free(app) -> list[str]:
    with app.app_context():
        free = [b for b in db.session.scalars(select(Booth).where(Booth.status == BoothStatus.AVAILABLE,
                                                                  Booth.raw_space.is_(False)).order_by(Booth.id))]
        hall = [b for b in free if b.hall_id == free[0].hall_id]
        adjacency = geometry.neighbours({b.id: booth_rect(b) for b in hall})
        by_id = {b.id: b for b in hall}
        key = next(k for k, v in adjacency.items() if v)
        return [by_id[key].number, by_id[min(adjacency[key])].number]


def test_assignments_create_and_delete(app, client, token, world):
    admin = token()
    numbers = _adjacent_free(app)
    r = client.post(f"{API}/assignments", json={"exhibitor_id": world["b"], "booths": numbers}, headers=admin)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert sorted(b["number"] for b in body["booths"]) == sorted(numbers)
    assert [sorted(s) for s in body["stands"]] == [sorted(numbers)]
    with app.app_context():
        booths = list(db.session.scalars(select(Booth).where(Booth.number.in_(numbers))))
        assert {b.exhibitor_id for b in booths} == {world["b"]} and booths[0].stand_id == booths[1].stand_id
        booth_a_number = db.session.get(Booth, world["booth_a"]).number
        free_number = db.session.scalar(select(Booth.number).where(Booth.status == "available").order_by(Booth.id))
    # a taken booth: 409, and the free one in the same request stays free
    r = client.post(f"{API}/assignments", json={"exhibitor_id": world["b"],
                                                "booths": f"{free_number}, {booth_a_number}"}, headers=admin)
    body = assert_json_error(r, 409)
    assert body["error"] == "booth_taken" and booth_a_number in body["message"]
    with app.app_context():
        assert db.session.scalar(select(Booth).where(Booth.number == free_number)).exhibitor_id is None
    r = client.delete(f"{API}/assignments/{world['booth_a']}", headers=admin)
    assert r.status_code == 204
    assert_json_error(client.delete(f"{API}/assignments/{world['booth_a']}", headers=admin), 409)  # free already
    assert_json_error(client.delete(f"{API}/assignments/99999", headers=admin), 404)
    with app.app_context():
        assert db.session.get(Booth, world["booth_a"]).exhibitor_id is None
        actions = set(db.session.scalars(select(AuditEntry.action)))
        assert {"booth_assigned", "stand_merged", "booth_vacated", "booth_held"} <= actions


def test_assignment_bad_input_is_json_4xx(app, client, token, world):
    admin = token()
    assert_json_error(client.post(f"{API}/assignments", data="x", headers=admin), 400)
    body = assert_json_error(client.post(f"{API}/assignments", json={"booths": "A1-001"}, headers=admin), 422)
    assert "exhibitor_id" in body["fields"]
    assert_json_error(client.post(f"{API}/assignments", json={"exhibitor_id": world["a"], "booths": ""},
                                  headers=admin), 422)
    assert_json_error(client.post(f"{API}/assignments", json={"exhibitor_id": world["a"], "booths": {"x": 1}},
                                  headers=admin), 422)
    assert_json_error(client.post(f"{API}/assignments", json={"exhibitor_id": 999999, "booths": "A1-001"},
                                  headers=admin), 404)
    body = assert_json_error(client.post(f"{API}/assignments", json={"exhibitor_id": world["a"],
                                                                     "booths": "NOPE-1"}, headers=admin), 404)
    assert "NOPE-1" in body["message"]
    with app.app_context():
        draft = user("exhibitor@expo.test").exhibitor_id
    body = assert_json_error(client.post(f"{API}/assignments", json={"exhibitor_id": draft, "booths": "A1-001"},
                                         headers=admin), 409)
    assert body["error"] == "not_approved"
    assert_json_error(client.get(f"{API}/booths?status=bogus", headers=admin), 422)
    assert_json_error(client.get(f"{API}/booths?per_page=100000", headers=admin), 422)
    # roles: an exhibitor may not assign or vacate, anonymous callers must sign in
    own = token("a@example.com")
    assert_json_error(client.post(f"{API}/assignments", json={"exhibitor_id": world["a"], "booths": "A1-001"},
                                  headers=own), 403)
    assert_json_error(client.delete(f"{API}/assignments/{world['booth_b']}", headers=own), 403)
    assert_json_error(client.delete(f"{API}/assignments/{world['booth_b']}"), 401)
    with app.app_context():
        assert db.session.get(Booth, world["booth_b"]).exhibitor_id == world["b"]


def test_openapi_covers_the_venue_api(client, token, world):
    spec = client.get(f"{API}/openapi.json").get_json()
    validate_openapi(spec)
    for path, method in [("/halls", "get"), ("/pavilions", "get"), ("/booths", "get"), ("/booths/{booth_id}", "get"),
                         ("/plan/{hall_code}", "get"), ("/assignments", "post"),
                         ("/assignments/{booth_id}", "delete")]:
        assert spec["paths"][API + path][method]["summary"], path
    body = spec["paths"][f"{API}/assignments"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["properties"]) == {"exhibitor_id", "booths"} and set(body["required"]) == {"exhibitor_id",
                                                                                               "booths"}
    query = {p["name"] for p in spec["paths"][f"{API}/booths"]["get"]["parameters"]}
    assert {"hall", "pavilion", "status", "kind", "page", "per_page"} <= query
    admin = token()
    for path, template in [("/halls", "/halls"), ("/pavilions", "/pavilions"), ("/booths", "/booths"),
                           (f"/booths/{world['booth_a']}", "/booths/{booth_id}"),
                           (f"/plan/{world['hall']}", "/plan/{hall_code}")]:
        r = client.get(API + path, headers=admin)
        schema = spec["paths"][API + template]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        jsonschema.validate(r.get_json(), schema, cls=jsonschema.Draft202012Validator)
