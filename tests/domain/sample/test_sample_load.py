"""Loading the sample site through the spreadsheet import, in one transaction."""

from __future__ import annotations

from collections import Counter

import pytest

from openprepaid.domain.audit.models import SystemLog
from openprepaid.domain.errors import ConflictError, PermissionDeniedError, ServiceError
from openprepaid.domain.sample import services
from openprepaid.domain.sample.services import load_sample_site
from openprepaid.domain.sample.sitegen import sample_site_tables
from openprepaid.domain.sites.models import Building, Floor, Gateway, Meter, Site, Unit
from openprepaid.domain.tenants.models import Account, AccountMeter, Tenant

pytestmark = pytest.mark.django_db

MODELS = (Site, Building, Floor, Unit, Gateway, Meter, Tenant, Account, AccountMeter, SystemLog)


def _rows() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_load_sample_site_fills_the_database():
    tables = sample_site_tables()
    summary = load_sample_site(acting_user=None)

    site = Site.objects.get(code="DEMO")
    protocols = Counter(m["protocol"] for m in tables["meters"])
    assert (summary.site_code, summary.site_name) == ("DEMO", site.name)
    assert "星光购物中心" in site.name
    assert summary.buildings == Building.objects.filter(site=site).count() == 2
    assert summary.floors == Floor.objects.filter(building__site=site).count() == 11
    assert summary.units == Unit.objects.filter(site=site).count() == len(tables["units"])
    assert summary.gateways == Gateway.objects.filter(site=site).count() == 22
    meters = Meter.objects.filter(gateway__site=site)
    assert summary.meters == meters.count() == len(tables["meters"])
    assert summary.meters_dlt645 == meters.filter(protocol="dlt645_2007").count()
    assert summary.meters_dlt645 == protocols["dlt645_2007"]
    assert summary.meters_modbus == protocols["modbus_rtu"] > 0
    assert summary.tenants == Tenant.objects.filter(site=site).count() == len(tables["tenants"])
    assert summary.accounts == Account.objects.filter(site=site).count()
    assert 680 <= summary.units <= 720

    # The rows match the tables, not only their counts.
    assert Unit.objects.get(site=site, code="A-B1-P01").kind == "public"
    mixed = Gateway.objects.get(site=site, name="A-6F-GW2")
    assert set(mixed.meters.values_list("protocol", flat=True)) == {"dlt645_2007", "modbus_rtu"}
    assert (mixed.transport, mixed.host, mixed.port) == ("transparent_tcp", "127.0.0.1", 10014)
    manager = Tenant.objects.get(site=site, code="T0000")
    assert manager.kind == "company"
    assert SystemLog.objects.filter(action="site.create", site=site).count() == 1

    text = str(summary)
    assert "DEMO" in text
    assert str(summary.units) in text
    assert str(summary.meters_modbus) in text


def test_a_second_load_conflicts_and_writes_nothing():
    load_sample_site(acting_user=None)
    before = _rows()
    assert before["Site"] == 1
    with pytest.raises(ConflictError, match="DEMO"):
        load_sample_site(acting_user=None)
    assert _rows() == before


def test_an_operator_without_the_right_cannot_load_it(cashier):
    before = _rows()
    with pytest.raises(PermissionDeniedError):
        load_sample_site(acting_user=cashier)
    assert _rows() == before


def test_a_failed_import_leaves_nothing_behind(monkeypatch):
    def broken(seed: int = 2026):
        tables = sample_site_tables(seed)
        meter = dict(tables["meters"][0], unit="NO-SUCH-UNIT")
        # A small upload keeps the test quick; its one bad row must undo the site too.
        return {"gateways": tables["gateways"][:1], "meters": [meter]}

    monkeypatch.setattr(services, "sample_site_tables", broken)
    before = _rows()
    with pytest.raises(ServiceError) as caught:
        load_sample_site(acting_user=None)
    assert caught.value.code == "sample_import_failed"
    assert "NO-SUCH-UNIT" in caught.value.message
    assert _rows() == before
    assert not Site.objects.filter(code="DEMO").exists()
