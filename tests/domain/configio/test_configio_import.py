"""Importing a whole site: what is written, re-imports, updates, dry runs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from openprepaid.domain.audit.models import SystemLog
from openprepaid.domain.configio.readers import read_upload
from openprepaid.domain.configio.services import import_configuration
from openprepaid.domain.configio.tables import ConfigTables
from openprepaid.domain.sites.models import Building, Floor, Gateway, Meter, Unit
from openprepaid.domain.tenants.models import Account, Tenant

pytestmark = pytest.mark.django_db


def run(user, tables, *, dry_run=False, filename="site.xlsx"):
    return import_configuration(acting_user=user, tables=tables, dry_run=dry_run, filename=filename)


def outcomes(report):
    return {(r.kind, r.row): r.outcome for r in report.rows}


def test_xlsx_with_every_table_creates_everything(site, admin, xlsx_of, tables_data, census):
    before = census()
    report = run(admin, read_upload("site.xlsx", xlsx_of(tables_data)))

    assert report.errors == []
    assert report.ok
    assert report.applied
    assert report.counts == {
        "gateways": {"created": 2, "updated": 0, "unchanged": 0, "error": 0},
        "units": {"created": 3, "updated": 0, "unchanged": 0, "error": 0},
        "meters": {"created": 3, "updated": 0, "unchanged": 0, "error": 0},
        "tenants": {"created": 2, "updated": 0, "unchanged": 0, "error": 0},
    }
    after = census()
    assert {k: after[k] - before[k] for k in after} == {
        "Building": 1,
        "Floor": 2,
        "Gateway": 2,
        "Unit": 3,
        "Meter": 3,
        "Tenant": 2,
        "Account": 1,
        "AccountMeter": 2,
        # 1 building + 2 floors + 2 gateways + 3 units + 3 meters + 2 tenants
        # + account.register + account.attach_meters + the summary row
        "SystemLog": 16,
    }
    gw = Gateway.objects.get(site=site, name="A-1F-GW1")
    assert (gw.transport, gw.host, gw.port, gw.baud_rate, gw.parity, gw.location) == (
        "transparent_tcp",
        "10.0.0.1",
        10001,
        2400,
        "E",
        "A座 1F 东侧",
    )
    modbus = Gateway.objects.get(site=site, name="A-2F-GW1")
    assert (modbus.transport, modbus.port, modbus.baud_rate, modbus.parity) == (
        "modbus_tcp",
        502,
        9600,
        "N",
    )
    unit = Unit.objects.select_related("floor__building").get(site=site, code="A-101")
    assert (unit.floor.building.name, unit.floor.name, unit.floor.level) == ("A座", "1F", 1)
    assert (unit.name, unit.kind, unit.area) == ("星辰珠宝", "shop", Decimal("85.50"))
    assert Unit.objects.get(code="A-201").area is None
    assert sorted(Floor.objects.values_list("name", "level")) == [("1F", 1), ("2F", 2)]
    assert list(Building.objects.values_list("name", flat=True)) == ["A座"]
    meters = {
        m.address: (m.gateway.name, m.unit.code, m.protocol, m.profile, m.phases, m.ct_ratio,
                    m.cost_control)
        for m in Meter.objects.select_related("gateway", "unit")
    }  # fmt: skip
    assert meters == {
        "201000000012": ("A-1F-GW1", "A-101", "dlt645_2007", "dlt645-prepaid-1p", 1, 1, "remote"),
        "000000000013": ("A-1F-GW1", "A-102", "dlt645_2007", "dlt645-prepaid-3p", 3, 50, "local"),
        "7": ("A-2F-GW1", "A-201", "modbus_rtu", "acrel-ddsy1352", 1, 1, "remote"),
    }
    t1 = Tenant.objects.get(site=site, code="T001")
    assert (t1.name, t1.kind, t1.contact_name, t1.mobile) == (
        "星辰珠宝有限公司",
        "company",
        "王伟",
        "13800138000",
    )
    account = Account.objects.get(tenant=t1)
    assert (account.number, account.status) == ("A000001", "registered")
    assert sorted(account.meters.values_list("unit__code", flat=True)) == ["A-101", "A-102"]
    assert not Account.objects.filter(tenant__code="T002").exists()
    summary = SystemLog.objects.get(action="configuration.import")
    assert summary.actor == admin
    assert summary.site == site
    assert summary.note == (
        "site.xlsx: gateways: 2 created; units: 3 created; meters: 3 created; tenants: 2 created"
    )
    assert summary.after["counts"]["meters"]["created"] == 3


def test_reimport_of_the_same_file_is_all_unchanged_and_writes_only_the_summary(
    site, admin, xlsx_of, tables_data, census
):
    data = xlsx_of(tables_data)
    run(admin, read_upload("site.xlsx", data))
    before = census()

    report = run(admin, read_upload("site.xlsx", data))

    assert report.ok
    assert set(outcomes(report).values()) == {"unchanged"}
    assert len(report.rows) == 10
    after = census()
    assert after == before | {"SystemLog": before["SystemLog"] + 1}


def test_changed_fields_are_updated_with_a_before_and_after_log(site, admin, tables_data, census):
    run(admin, ConfigTables.from_dicts(tables_data))
    tables_data["gateways"][0]["location"] = "A座 1F 西侧"
    tables_data["units"][1]["area"] = "42.25"
    tables_data["meters"][1]["ct_ratio"] = "75"
    tables_data["tenants"][1]["mobile"] = "139 0013 9000"
    tables_data["tenants"][1]["units"] = "A-201"
    before = census()

    report = run(admin, ConfigTables.from_dicts(tables_data))

    assert report.ok
    assert outcomes(report) == {
        ("gateways", 2): "updated",
        ("gateways", 3): "unchanged",
        ("units", 2): "unchanged",
        ("units", 3): "updated",
        ("units", 4): "unchanged",
        ("meters", 2): "unchanged",
        ("meters", 3): "updated",
        ("meters", 4): "unchanged",
        ("tenants", 2): "unchanged",
        ("tenants", 3): "updated",
    }
    logs = SystemLog.objects.filter(pk__gt=0).order_by("-id")
    gateway_log = logs.filter(action="gateway.update").get()
    assert (gateway_log.before, gateway_log.after) == (
        {"location": "A座 1F 东侧"},
        {"location": "A座 1F 西侧"},
    )
    unit_log = logs.filter(action="unit.update").get()
    assert (unit_log.before, unit_log.after) == ({"area": "40.00"}, {"area": "42.25"})
    meter_log = logs.filter(action="meter.update").get()
    assert (meter_log.before, meter_log.after) == ({"ct_ratio": 50}, {"ct_ratio": 75})
    tenant_log = logs.filter(action="tenant.update").get()
    assert (tenant_log.before, tenant_log.after) == ({"mobile": ""}, {"mobile": "13900139000"})
    assert Account.objects.get(tenant__code="T002").meters.get().unit.code == "A-201"
    after = census()
    # 4 updates + account.register + account.attach_meters + summary
    assert after["SystemLog"] - before["SystemLog"] == 7
    assert after["Account"] - before["Account"] == 1


def test_tenant_gets_more_meters_in_its_existing_account(site, admin, tables_data):
    tables_data["tenants"][0]["units"] = "A-101"
    run(admin, ConfigTables.from_dicts(tables_data))
    tables_data["tenants"][0]["units"] = "A-101、A-102"

    report = run(admin, ConfigTables.from_dicts(tables_data))

    assert outcomes(report)["tenants", 2] == "updated"
    account = Account.objects.get(tenant__code="T001")
    assert sorted(account.meters.values_list("unit__code", flat=True)) == ["A-101", "A-102"]


def test_missing_optional_column_leaves_the_field_alone(site, admin, tables_data):
    run(admin, ConfigTables.from_dicts(tables_data))
    units = [{k: v for k, v in row.items() if k != "area"} for row in tables_data["units"]]

    report = run(admin, ConfigTables.from_dicts({"units": units}))

    assert set(outcomes(report).values()) == {"unchanged"}
    assert Unit.objects.get(code="A-101").area == Decimal("85.50")


def test_dry_run_reports_the_outcome_and_writes_nothing(site, admin, xlsx_of, tables_data, census):
    before = census()

    report = run(admin, read_upload("site.xlsx", xlsx_of(tables_data)), dry_run=True)

    assert report.ok
    assert not report.applied
    assert report.counts["meters"]["created"] == 3
    assert report.counts["tenants"]["created"] == 2
    assert census() == before


def test_dry_run_of_an_update_writes_nothing(site, admin, tables_data, census):
    run(admin, ConfigTables.from_dicts(tables_data))
    tables_data["gateways"][0]["port"] = "10009"
    before = census()

    report = run(admin, ConfigTables.from_dicts(tables_data), dry_run=True)

    assert outcomes(report)["gateways", 2] == "updated"
    assert census() == before
    assert Gateway.objects.get(name="A-1F-GW1").port == 10001


def test_system_user_imports_without_an_operator(site, tables_data):
    report = run(None, ConfigTables.from_dicts(tables_data))

    assert report.applied
    assert SystemLog.objects.get(action="configuration.import").actor_name == "system"


def test_empty_tables_import_cleanly(site, admin):
    report = run(admin, ConfigTables())

    assert report.ok
    assert report.applied
    assert report.rows == []


ZH_HEADERS = {
    "gateways": ["项目编码*", "网关名称*", "通讯方式*", "主机地址", "端口", "波特率", "校验位"],
    "units": ["项目编码", "楼栋", "楼层", "单元编号", "单元名称", "单元类型", "面积(m²)"],
    "tenants": ["项目编码", "商户编号", "商户名称", "商户类型", "联系人", "手机号码", "租用单元"],
}


def test_csv_files_one_table_each_in_gbk_and_utf8(site, admin, files, census):
    uploads = [
        (
            "网关.csv",
            files.csv(
                [ZH_HEADERS["gateways"],
                 ["MALL", "一楼网关", "TCP透传", "10.0.0.1", "10001", "2400", "偶校验"],
                 ["MALL", "二楼网关", "Modbus-TCP网关", "10.0.0.2", "502", "9600", "无校验"]],
                encoding="gbk",
            ),
        ),
        (
            "单元.csv",
            b"\xef\xbb\xbf"
            + files.csv(
                [ZH_HEADERS["units"],
                 ["MALL", "A座", "B1", "B1-01", "小吃", "摊位", "12.5"],
                 ["MALL", "A座", "2F", "2F-01", "", "办公", ""]],
            ),
        ),
        (
            "meters.csv",
            files.csv(
                [["site", "gateway", "address", "protocol", "profile", "cost_control", "unit"],
                 ["MALL", "一楼网关", "0012", "645", "dlt645-prepaid-1p", "本地费控", "B1-01"],
                 ["MALL", "二楼网关", "012", "Modbus-RTU", "acrel-dtsy1352", "", "2F-01"]],
                delimiter=";",
            ),
        ),
        (
            "商户.csv",
            files.csv(
                [ZH_HEADERS["tenants"],
                 ["MALL", "T1", "张记小吃", "个人", "张伟", "13912345678", "B1-01、2F-01"]],
                encoding="gb18030",
            ),
        ),
    ]  # fmt: skip
    before = census()

    for filename, data in uploads:
        report = run(admin, read_upload(filename, data), filename=filename)
        assert report.errors == [], filename
        assert report.applied

    after = census()
    assert {k: after[k] - before[k] for k in ("Gateway", "Unit", "Meter", "Tenant", "Account")} == {
        "Gateway": 2,
        "Unit": 2,
        "Meter": 2,
        "Tenant": 1,
        "Account": 1,
    }
    assert list(Gateway.objects.order_by("name").values_list("name", "transport", "parity")) == [
        ("一楼网关", "transparent_tcp", "E"),
        ("二楼网关", "modbus_tcp", "N"),
    ]
    assert Floor.objects.get(name="B1").level == -1
    assert Unit.objects.get(code="B1-01").kind == "stall"
    assert Unit.objects.get(code="B1-01").area == Decimal("12.50")
    office, stall = Meter.objects.order_by("unit__code")  # "2F-01" < "B1-01"
    assert (stall.address, stall.cost_control, stall.phases) == ("000000000012", "local", 1)
    assert (office.address, office.protocol, office.phases) == ("12", "modbus_rtu", 3)
    tenant = Tenant.objects.get(code="T1")
    assert (tenant.name, tenant.kind, tenant.mobile) == ("张记小吃", "person", "13912345678")
    assert tenant.accounts.get().meters.count() == 2
    assert SystemLog.objects.filter(action="configuration.import").count() == 4
