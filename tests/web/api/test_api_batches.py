"""``POST /api/v1/command-batches`` and following a batch's progress."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from openprepaid.domain.metering.models import Command, CommandBatch, MeterStatus
from openprepaid.domain.metering.repository import DjangoRepository
from openprepaid.domain.sites.models import Meter
from openprepaid.headend.model import CommandOutcome, CommandState


def post_batch(client, body, **headers):
    return client.post("/api/v1/command-batches", body, format="json", headers=headers)


def test_batch_by_selection_with_per_meter_outcomes(data, operations, api_for):
    client = api_for(operations)
    response = post_batch(
        client,
        {
            "kind": "trip",
            "selection": {
                "site": data.site.pk,
                "building": data.building.pk,
                "floor": data.floor.pk,
            },
            "description": "evening trip",
        },
    )
    assert response.status_code == 201
    body = response.json()
    batch = CommandBatch.objects.get()
    assert response["Location"] == f"/api/v1/command-batches/{batch.pk}"
    assert (body["id"], body["kind"], body["description"]) == (batch.pk, "trip", "evening trip")
    assert body["requested_by"] == "ops"
    assert (body["total"], body["progress"], body["finished"]) == (2, {"queued": 2}, False)
    assert {c["meter"] for c in body["commands"]} == {data.meter.pk, data.spare_meter.pk}
    assert [c["unit_code"] for c in body["commands"]] == ["A-101", "A-102"]
    assert Command.objects.filter(batch=batch, requested_by=operations).count() == 2

    # the headend confirms one and fails the other
    repo = DjangoRepository()
    now = timezone.now()
    orders = {o.meter_id: o for o in repo.claim_commands(data.gateway.pk, now, limit=10)}
    at = now + dt.timedelta(seconds=1)
    repo.finish_command(
        CommandOutcome(orders[data.meter.pk].command_id, CommandState.CONFIRMED, at)
    )
    repo.finish_command(
        CommandOutcome(orders[data.spare_meter.pk].command_id, CommandState.FAILED, at, "no reply")
    )
    followed = client.get(f"/api/v1/command-batches/{batch.pk}").json()
    assert followed["progress"] == {"confirmed": 1, "failed": 1}
    assert followed["finished"] is True
    outcomes = {c["meter_address"]: (c["state"], c["detail"]) for c in followed["commands"]}
    assert outcomes == {"000000000001": ("confirmed", ""), "000000000011": ("failed", "no reply")}
    listed = client.get("/api/v1/command-batches").json()
    assert [b["id"] for b in listed["results"]] == [batch.pk]


def test_batch_by_board_state_and_by_ids(data, admin, api_for):
    Meter.objects.filter(pk=data.meter.pk).update(cost_control="local")
    MeterStatus.objects.create(
        meter=data.meter, last_seen_at=timezone.now(), account_opened=True,
        remaining=Decimal("-3.00"),
    )  # fmt: skip
    client = api_for(admin)
    arrears = post_batch(
        client, {"kind": "read_now", "selection": {"site": data.site.pk, "state": "arrears"}}
    ).json()
    assert [c["meter"] for c in arrears["commands"]] == [data.meter.pk]
    by_ids = post_batch(
        client,
        {
            "kind": "push_prices",
            "params": {"prices": ["1.2", 0.85]},
            "meters": [data.spare_meter.pk, data.meter.pk, data.meter.pk],
        },
    )
    assert by_ids.status_code == 201
    assert by_ids.json()["params"] == {"prices": ["1.2000", "0.8500"]}
    assert by_ids.json()["total"] == 2


def test_batch_nonsense_is_refused_and_writes_nothing(data, other, admin, api_for):
    client = api_for(admin)
    cases = [
        ({"kind": "trip"}, "__all__"),
        (
            {"kind": "trip", "meters": [data.meter.pk], "selection": {"site": data.site.pk}},
            "__all__",
        ),
        ({"kind": "trip", "meters": []}, "meters"),
        ({"kind": "trip", "meters": "all"}, "meters"),
        ({"kind": "trip", "meters": [data.meter.pk, 999999]}, "meters"),
        ({"kind": "trip", "meters": [1, "x"]}, "meters.1"),
        ({"kind": "trip", "selection": {}}, "selection.site"),
        ({"kind": "trip", "selection": {"site": data.site.pk, "building": other.building.pk}},
         "selection.building"),
        ({"kind": "trip", "selection": {"site": data.site.pk, "floor": other.floor.pk}},
         "selection.floor"),
        ({"kind": "trip", "selection": {"site": data.site.pk, "state": "purple"}},
         "selection.state"),
        ({"kind": "fly", "selection": {"site": data.site.pk}}, "kind"),
        ({"kind": "trip", "params": [], "selection": {"site": data.site.pk}}, "params"),
    ]  # fmt: skip
    for body, field in cases:
        response = post_batch(client, body)
        assert response.status_code == 400, body
        assert field in response.json()["fields"], (body, response.json())
    several = post_batch(client, {"kind": "trip", "meters": [data.meter.pk, other.meter.pk]})
    assert (several.status_code, several.json()["code"]) == (400, "several_sites")
    empty = post_batch(
        client, {"kind": "trip", "selection": {"site": data.site.pk, "state": "lost"}}
    )
    assert (empty.status_code, empty.json()["code"]) == (400, "no_meters")
    money = post_batch(client, {"kind": "recharge", "selection": {"site": data.site.pk}})
    assert (money.status_code, money.json()["code"]) == (400, "money_command")
    assert not CommandBatch.objects.exists()
    assert not Command.objects.exists()


def test_batch_permissions_and_scope(data, other, cashier, make_operator, api_for):
    refused = post_batch(api_for(cashier), {"kind": "trip", "selection": {"site": data.site.pk}})
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    stranger = api_for(make_operator("operations", sites=[other.site]))
    unseen = post_batch(stranger, {"kind": "trip", "selection": {"site": data.site.pk}})
    assert unseen.status_code == 400
    assert "selection.site" in unseen.json()["fields"]
    assert not Command.objects.exists()
    mine = post_batch(api_for(make_operator("operations")), {
        "kind": "read_now", "selection": {"site": data.site.pk}})  # fmt: skip
    assert stranger.get(f"/api/v1/command-batches/{mine.json()['id']}").status_code == 404
    assert stranger.get("/api/v1/command-batches").json()["count"] == 0


def test_batch_idempotency(data, operations, api_for):
    client = api_for(operations)
    body = {"kind": "read_now", "selection": {"site": data.site.pk}}
    first = post_batch(client, body, **{"Idempotency-Key": "b1"})
    again = post_batch(client, body, **{"Idempotency-Key": "b1"})
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert CommandBatch.objects.count() == 1
