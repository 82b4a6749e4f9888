"""``GET /health/headend``: 200 while some gateway line reported in the last two minutes, 503
otherwise; no login, and nothing in it names a meter, a tenant or an address."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.test import Client
from django.utils import timezone

from openprepaid.domain.metering.models import GatewayHealth, MeterStatus

URL = "/health/headend"


def test_down_when_no_gateway_ever_reported(data):
    response = Client().get(URL)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["headend"]["alive"] is False
    assert body["headend"]["last_gateway_report"] is None
    assert body["gateways"] == {"total": 2, "connected": 0}
    assert body["meters"]["total"] == 2
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]


def test_alive_while_a_gateway_reports(data):
    now = timezone.now()
    GatewayHealth.objects.create(
        gateway=data.gateway, connected=True, requests=120, updated_at=now - dt.timedelta(seconds=5)
    )
    MeterStatus.objects.create(
        meter=data.meter, last_seen_at=now, remaining=Decimal("12.34"), account_opened=True
    )
    response = Client().get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["gateways"]["connected"] == 1
    assert body["meters"]["fresh"] == 1
    text = response.content.decode()
    for secret in ("12.34", data.meter.address, data.gateway.name, "10.0.1.1", "星辰"):
        assert secret not in text


def test_down_when_the_last_report_is_old(data):
    GatewayHealth.objects.create(
        gateway=data.gateway,
        connected=True,
        updated_at=timezone.now() - dt.timedelta(minutes=2, seconds=5),
    )
    assert Client().get(URL).status_code == 503


def test_only_get(db):
    assert Client().post(URL).status_code == 405
