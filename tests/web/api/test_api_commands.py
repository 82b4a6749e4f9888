"""``POST /api/v1/commands`` and following a command by id."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from tests.web.conftest import CLIENT_ADDRESS

from openprepaid.domain.audit.models import SystemLog
from openprepaid.domain.metering.models import Command, MeterStatus
from openprepaid.domain.metering.repository import DjangoRepository
from openprepaid.domain.sites import services as site_services
from openprepaid.headend.model import CommandOutcome, CommandState


def request(client, body, **headers):
    return client.post("/api/v1/commands", body, format="json", headers=headers)


def headend_finishes(meter, state: CommandState, detail: str = "") -> None:
    """What the headend does: claim the meter's queued commands and record the outcome."""
    repo = DjangoRepository()
    now = timezone.now()
    for order in repo.claim_commands(meter.gateway_id, now, limit=10):
        repo.finish_command(
            CommandOutcome(order.command_id, CommandState.SENT, now + dt.timedelta(seconds=1))
        )
        repo.finish_command(
            CommandOutcome(order.command_id, state, now + dt.timedelta(seconds=2), detail)
        )


def test_trip_is_queued_as_the_operator_and_followed_to_confirmed(data, operations, api_for):
    client = api_for(operations)
    response = request(client, {"meter": data.meter.pk, "kind": "trip"})
    assert response.status_code == 201
    body = response.json()
    command = Command.objects.get()
    assert response["Location"] == f"/api/v1/commands/{command.pk}"
    assert (command.meter, command.kind, command.state) == (data.meter, "trip", "queued")
    assert (command.origin, command.requested_by) == ("operator", operations)
    assert body["id"] == command.pk
    assert body["meter_address"] == "000000000001"
    assert (body["state"], body["final"], body["requested_by"]) == ("queued", False, "ops")
    assert body["params"] == {}
    assert MeterStatus.objects.get(meter=data.meter).desired_relay == "open"
    log = SystemLog.objects.get(action="command.trip")
    assert (log.actor, log.actor_name, log.origin) == (operations, "ops", CLIENT_ADDRESS)
    assert log.site == data.site

    url = f"/api/v1/commands/{command.pk}"
    assert client.get(url).json()["state"] == "queued"
    headend_finishes(data.meter, CommandState.CONFIRMED, "read back: relay open")
    followed = client.get(url).json()
    assert (followed["state"], followed["final"]) == ("confirmed", True)
    assert followed["detail"] == "read back: relay open"
    assert followed["attempts"] == 1
    assert followed["sent_at"] is not None
    assert followed["finished_at"] is not None


def test_cashier_may_not_trip(data, cashier, api_for):
    response = request(api_for(cashier), {"meter": data.meter.pk, "kind": "trip"})
    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "message": "You are not allowed to do this.",
        "fields": {},
    }
    assert not Command.objects.exists()
    assert not MeterStatus.objects.exists()


@pytest.mark.parametrize("kind", ["open_account", "recharge"])
def test_money_commands_are_refused(data, admin, api_for, kind):
    params = {"amount": "100.00", "purchase_count": 1, "customer": "000000000001"}
    response = request(api_for(admin), {"meter": data.meter.pk, "kind": kind, "params": params})
    assert response.status_code == 400
    assert response.json()["code"] == "money_command"
    assert "sale" in response.json()["message"]
    assert not Command.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"meter": None, "kind": "trip"}, "meter"),
        ({"meter": "x", "kind": "trip"}, "meter"),
        ({"meter": 999999, "kind": "trip"}, "meter"),
        ({"meter": None, "kind": "explode"}, "kind"),
        ({"kind": 5}, "kind"),
        ({"kind": "trip", "params": ["a"]}, "params"),
        ({"kind": "trip", "params": "a=1"}, "params"),
        ({"kind": "trip", "params": {"x": 1}}, "params"),
        ({"kind": "push_prices", "params": {"prices": []}}, "prices"),
        ({"kind": "push_prices", "params": {"prices": ["1.23456"]}}, "prices"),
        ({"kind": "push_settings", "params": {"alarm_9": "1"}}, "alarm_9"),
    ],
)
def test_nonsense_is_a_clear_400_and_writes_nothing(data, admin, api_for, body, field):
    body = {"meter": data.meter.pk, **body} if "meter" not in body else body
    if body["meter"] is None and field == "meter":
        del body["meter"]  # missing altogether
    response = request(api_for(admin), body)
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert response.json()["message"]
    assert not Command.objects.exists()
    assert not SystemLog.objects.filter(action__startswith="command").exists()


def test_body_that_is_not_json(data, admin, api_for):
    client = api_for(admin)
    response = client.post("/api/v1/commands", "{nope", content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "parse_error")
    as_form = client.post("/api/v1/commands", "kind=trip", content_type="text/plain")
    assert (as_form.status_code, as_form.json()["code"]) == (415, "unsupported_media_type")
    nan = client.post(
        "/api/v1/commands", '{"meter": 1, "kind": NaN}', content_type="application/json"
    )
    assert nan.status_code == 400


def test_meter_of_another_site_is_refused(data, other, make_operator, api_for):
    stranger = api_for(make_operator("operations", sites=[other.site]))
    response = request(stranger, {"meter": data.meter.pk, "kind": "trip"})
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "meter": [f"There is no meter {data.meter.pk} in your sites."]
    }
    assert not Command.objects.exists()


def test_numbers_arrive_as_exact_decimals(data, admin, api_for):
    client = api_for(admin)
    prices = request(
        client, {"meter": data.meter.pk, "kind": "push_prices", "params": {"prices": [1.1, 0.3]}}
    )
    assert prices.status_code == 201
    assert prices.json()["params"] == {"prices": ["1.1000", "0.3000"]}
    settings = request(
        client,
        {"meter": data.meter.pk, "kind": "push_settings", "params": {"alarm_1": 50.1}},
    )
    assert settings.json()["params"] == {"alarm_1": "50.10"}


def test_retired_meter_is_a_conflict(data, admin, api_for):
    site_services.retire_meter(data.spare_meter, acting_user=None)
    response = request(api_for(admin), {"meter": data.spare_meter.pk, "kind": "trip"})
    assert (response.status_code, response.json()["code"]) == (409, "retired")


def test_idempotency_key_answers_a_retry_without_acting_twice(data, operations, api_for):
    client = api_for(operations)
    body = {"meter": data.meter.pk, "kind": "trip"}
    first = request(client, body, **{"Idempotency-Key": "trip-1"})
    again = request(client, body, **{"Idempotency-Key": "trip-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert again["Location"] == first["Location"]
    assert Command.objects.count() == 1
    assert SystemLog.objects.filter(action="command.trip").count() == 1
    clash = request(client, {**body, "kind": "close"}, **{"Idempotency-Key": "trip-1"})
    assert (clash.status_code, clash.json()["code"]) == (409, "idempotency_key_reused")
    # a refused request keeps nothing: the same key then works
    refused = request(client, {**body, "kind": "recharge"}, **{"Idempotency-Key": "k2"})
    assert refused.status_code == 400
    assert (
        request(client, {**body, "kind": "close"}, **{"Idempotency-Key": "k2"}).status_code == 201
    )
    # keys belong to the operator, whichever of their tokens sends them
    another_token = api_for(operations)
    assert request(another_token, body, **{"Idempotency-Key": "trip-1"}).json() == first.json()
    bad = request(client, body, **{"Idempotency-Key": "x" * 101})
    assert (bad.status_code, bad.json()["code"]) == (400, "idempotency_key")


def test_idempotency_keys_are_per_operator(data, operations, admin, api_for):
    body = {"meter": data.meter.pk, "kind": "read_now"}
    assert request(api_for(operations), body, **{"Idempotency-Key": "same"}).status_code == 201
    theirs = request(api_for(admin), body, **{"Idempotency-Key": "same"})
    assert theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert Command.objects.count() == 2


def test_list_filters_pages_and_scope(data, other, operations, make_operator, api_for):
    client = api_for(operations)
    for kind in ("read_now", "time_sync", "trip"):
        assert request(client, {"meter": data.meter.pk, "kind": kind}).status_code == 201
    assert request(client, {"meter": other.meter.pk, "kind": "trip"}).status_code == 201
    listed = client.get("/api/v1/commands").json()
    assert listed["count"] == 4
    assert [c["kind"] for c in listed["results"]][:3] == ["trip", "trip", "time_sync"]
    mine = client.get("/api/v1/commands", {"meter": data.meter.pk}).json()
    assert mine["count"] == 3
    assert client.get("/api/v1/commands", {"kind": "trip"}).json()["count"] == 2
    assert client.get("/api/v1/commands", {"state": "queued"}).json()["count"] == 4
    assert client.get("/api/v1/commands", {"state": "confirmed"}).json()["count"] == 0
    page = client.get("/api/v1/commands", {"page_size": 3, "page": 2}).json()
    assert len(page["results"]) == 1
    bad = client.get("/api/v1/commands", {"state": "exploded", "meter": "x"})
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"state", "meter"}
    stranger = api_for(make_operator("operations", sites=[other.site]))
    assert stranger.get("/api/v1/commands").json()["count"] == 1
    theirs = Command.objects.filter(meter=data.meter).first()
    assert stranger.get(f"/api/v1/commands/{theirs.pk}").status_code == 404


def test_unknown_paths_and_methods_are_json(data, admin, api_for):
    client = api_for(admin)
    missing = client.get("/api/v1/nothing-here")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert client.get("/api/v1/commands/999999").json()["code"] == "not_found"
    method = client.delete("/api/v1/commands")
    assert (method.status_code, method.json()["code"]) == (405, "method_not_allowed")


def test_messages_follow_accept_language(data, cashier, api_for):
    client = api_for(cashier)
    response = client.post(
        "/api/v1/commands",
        {"meter": data.meter.pk, "kind": "trip"},
        format="json",
        headers={"Accept-Language": "zh-hans"},
    )
    assert response.status_code == 403
    assert response["Content-Language"] == "zh-hans"
    assert response.json()["message"] != "You are not allowed to do this."
