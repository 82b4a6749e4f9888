"""Every change made through the console writes exactly one system-log row: the right action,
the operator, the client's address, and the before/after values."""

from __future__ import annotations

import pytest
from django.urls import reverse

from openprepaid.domain.sites import services as site_services

UNIT = {"floor": None, "code": "A-101", "name": "星辰名表", "kind": "shop", "area": ""}
GATEWAY = {
    "name": "A-GW1",
    "transport": "transparent_tcp",
    "host": "10.0.1.1",
    "port": "4001",
    "serial_device": "",
    "baud_rate": "2400",
    "parity": "E",
    "location": "东侧强电井",
}
METER = {
    "address": "000000000001",
    "protocol": "dlt645_2007",
    "profile": "dlt645-prepaid-1p",
    "phases": "1",
    "ct_ratio": "1",
    "cost_control": "remote",
}


def cases(d, other_operator):
    """(url, POST data, action, expected before, expected after) — ``None`` means the row
    carries no such part; a dict is a subset the row must hold."""
    return [
        (
            reverse("console:site_create"),
            {"code": "NEW", "name": "新项目", "address": ""},
            "site.create",
            None,
            {"code": "NEW", "name": "新项目"},
        ),
        (
            reverse("console:site_edit", args=[d.site.pk]),
            {"code": "MALL", "name": "改名", "address": ""},
            "site.update",
            {"name": "星光购物中心"},
            {"name": "改名"},
        ),
        (
            reverse("console:site_building", args=[d.site.pk]),
            {"building-name": "C座"},
            "building.create",
            None,
            {"name": "C座", "site": d.site.pk},
        ),
        (
            reverse("console:site_floor", args=[d.site.pk]),
            {"floor-building": d.building.pk, "floor-name": "B2"},
            "floor.create",
            None,
            {"name": "B2", "level": -2, "building": d.building.pk},
        ),
        (
            reverse("console:unit_create"),
            {**UNIT, "floor": d.floor.pk, "code": "A-103", "area": "12.50"},
            "unit.create",
            None,
            {"code": "A-103", "area": "12.50", "floor": d.floor.pk},
        ),
        (
            reverse("console:unit_edit", args=[d.unit.pk]),
            {**UNIT, "floor": d.floor.pk, "name": "新名字"},
            "unit.update",
            {"name": "星辰名表"},
            {"name": "新名字"},
        ),
        (
            reverse("console:gateway_create"),
            {**GATEWAY, "site": d.site.pk, "name": "A-GW9", "port": "4009"},
            "gateway.create",
            None,
            {"name": "A-GW9", "port": 4009, "host": "10.0.1.1"},
        ),
        (
            reverse("console:gateway_edit", args=[d.gateway.pk]),
            {**GATEWAY, "location": "西侧弱电间"},
            "gateway.update",
            {"location": "东侧强电井"},
            {"location": "西侧弱电间"},
        ),
        (
            reverse("console:gateway_retire", args=[d.spare_gateway.pk]),
            {},
            "gateway.retire",
            {"status": "active"},
            {"status": "retired"},
        ),
        (
            reverse("console:meter_create"),
            {**METER, "gateway": d.gateway.pk, "unit": d.spare_unit.pk, "address": "42"},
            "meter.create",
            None,
            {"address": "000000000042", "gateway": d.gateway.pk},
        ),
        (
            reverse("console:meter_edit", args=[d.meter.pk]),
            {**METER, "gateway": d.gateway.pk, "unit": d.unit.pk, "ct_ratio": "40"},
            "meter.update",
            {"ct_ratio": 1},
            {"ct_ratio": 40},
        ),
        (
            reverse("console:meter_retire", args=[d.spare_meter.pk]),
            {},
            "meter.retire",
            {"lifecycle": "not_opened", "retired_at": None},
            {"lifecycle": "retired"},
        ),
        (
            reverse("console:tenant_create"),
            {"site": d.site.pk, "code": "AT09", "name": "新商户", "kind": "person"},
            "tenant.create",
            None,
            {"code": "AT09", "name": "新商户", "kind": "person"},
        ),
        (
            reverse("console:tenant_edit", args=[d.tenant.pk]),
            {
                "code": "AT01",
                "name": "星辰钟表行",
                "kind": "company",
                "mobile": "13900139000",
                "contact_name": "王经理",
                "note": "",
            },
            "tenant.update",
            {"mobile": "13800138000"},
            {"mobile": "13900139000"},
        ),
        (
            reverse("console:tenant_archive", args=[d.spare_tenant.pk]),
            {},
            "tenant.archive",
            {"status": "active"},
            {"status": "archived"},
        ),
        (
            reverse("console:tenant_account", args=[d.spare_tenant.pk]),
            {"number": "", "meters": []},
            "account.register",
            None,
            {"number": "A000002", "tenant": d.spare_tenant.pk},
        ),
        (
            reverse("console:operator_create"),
            {
                "username": "zhang.san",
                "first_name": "三",
                "last_name": "张",
                "role": "cashier",
                "password": "Another-Strong-Pass-1",
                "password_confirm": "Another-Strong-Pass-1",
            },
            "operator.create",
            None,
            {"username": "zhang.san", "role": "cashier"},
        ),
        (
            reverse("console:operator_edit", args=[other_operator.pk]),
            {"role": "operations", "is_active": "on", "first_name": "", "last_name": ""},
            "operator.update",
            {"role": "cashier"},
            {"role": "operations"},
        ),
        (
            reverse("console:operator_password", args=[other_operator.pk]),
            {"password": "Brand-New-Secret-77", "password_confirm": "Brand-New-Secret-77"},
            "operator.set_password",
            None,
            None,
        ),
        (
            reverse("console:operator_unlock", args=[other_operator.pk]),
            {},
            "operator.unlock",
            None,
            None,
        ),
    ]


CASES = 20


@pytest.mark.parametrize("index", range(CASES))
def test_each_change_writes_one_log_row(index, data, admin, cashier, client_for, log):
    url, payload, action, before, after = cases(data, cashier)[index]
    counter = log()
    response = client_for(admin).post(url, payload)
    assert response.status_code == 302, response.content.decode()[-3000:]
    rows = counter.rows()
    assert len(rows) == 1, [r.action for r in rows]
    row = rows[0]
    assert row.action == action
    assert row.actor == admin
    assert row.actor_name == "admin"
    assert row.origin == "198.51.100.7"  # the client's REMOTE_ADDR (see conftest)
    for expected, logged in ((before, row.before), (after, row.after)):
        if expected is None:
            assert logged is None or "password" not in logged
        else:
            assert logged is not None
            assert {k: logged.get(k) for k in expected} == expected


def test_case_table_is_complete(data, cashier):
    assert len(cases(data, cashier)) == CASES


def test_retiring_a_unit_writes_one_row(data, admin, client_for, log):
    unit = site_services.create_unit(acting_user=None, floor=data.floor, code="A-199", kind="stall")
    counter = log()
    response = client_for(admin).post(reverse("console:unit_retire", args=[unit.pk]))
    assert response.status_code == 302
    rows = counter.rows()
    assert [(r.action, r.actor, r.origin) for r in rows] == [("unit.retire", admin, "198.51.100.7")]
    assert (rows[0].before, rows[0].after) == ({"status": "active"}, {"status": "retired"})


def test_refused_change_writes_nothing(data, admin, client_for, log):
    counter = log()
    response = client_for(admin).post(reverse("console:unit_retire", args=[data.spare_unit.pk]))
    assert response.status_code == 302
    assert counter.rows() == []
    data.spare_unit.refresh_from_db()
    assert data.spare_unit.status == "active"
    page = client_for(admin).get(response["Location"])
    assert page.status_code == 200


def test_password_never_reaches_the_log(data, admin, client_for, log):
    counter = log()
    client_for(admin).post(
        reverse("console:operator_create"),
        {
            "username": "li.si",
            "role": "auditor",
            "password": "Very-Secret-Words-42",
            "password_confirm": "Very-Secret-Words-42",
        },
    )
    rows = counter.rows()
    assert [r.action for r in rows] == ["operator.create"]
    assert "Very-Secret-Words-42" not in str(rows[0].after)
    assert "password" not in rows[0].after


def test_unchanged_edit_writes_nothing(data, admin, client_for, log):
    counter = log()
    response = client_for(admin).post(
        reverse("console:unit_edit", args=[data.unit.pk]), {**UNIT, "floor": data.floor.pk}
    )
    assert response.status_code == 302
    assert counter.rows() == []
