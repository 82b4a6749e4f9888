"""The template and the export: both read back with the reader, the export imports unchanged."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.utils import translation

from openprepaid.domain.configio.export import export_configuration
from openprepaid.domain.configio.readers import read_upload
from openprepaid.domain.configio.services import import_configuration
from openprepaid.domain.configio.tables import ConfigTables
from openprepaid.domain.configio.template import build_csv_template, build_template
from openprepaid.domain.sites.services import retire_gateway

pytestmark = pytest.mark.django_db


def workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def header(sheet) -> list[str]:
    return [c.value for c in sheet[1]]


def test_chinese_template_has_chinese_sheets_and_headers():
    book = workbook(build_template("zh-hans"))

    assert book.sheetnames == ["说明", "网关", "单元", "电表", "商户"]
    assert header(book["电表"]) == [
        "项目编码*", "所属网关*", "表地址*", "通讯协议*", "电表型号*", "相数", "互感器变比",
        "费控方式", "单元编号*",
    ]  # fmt: skip
    assert header(book["商户"]) == [
        "项目编码*", "商户编号*", "商户名称*", "商户类型*", "联系人", "手机号码", "租用单元",
    ]  # fmt: skip
    lists = {
        str(v.sqref).split(":")[0]: v.formula1 for v in book["单元"].data_validations.dataValidation
    }
    assert lists == {"F2": '"商铺,办公,摊位,餐饮,公共区域,其他"'}
    assert book["网关"].column_dimensions["A"].width >= 12
    assert book["电表"]["C1"].comment is not None


def test_english_template_has_english_headers_and_drop_downs():
    book = workbook(build_template("en"))

    assert book.sheetnames == ["Instructions", "Gateways", "Units", "Meters", "Tenants"]
    assert header(book["Gateways"]) == [
        "Site code*", "Gateway name*", "Transport*", "Host", "Port", "Serial device",
        "Baud rate", "Parity", "Location",
    ]  # fmt: skip
    lists = sorted(v.formula1 for v in book["Gateways"].data_validations.dataValidation)
    assert lists == [
        '"1200,2400,4800,9600,19200,38400"',
        '"N,E,O"',
        '"Transparent TCP,Modbus-TCP,Serial port"',
    ]


def test_instructions_document_every_column():
    book = workbook(build_template("en"))
    text = "\n".join(
        " | ".join(str(c) for c in row if c is not None)
        for row in book["Instructions"].iter_rows(values_only=True)
    )

    for key in ("site", "transport", "serial_device", "address", "profile", "ct_ratio", "units"):
        assert f" | {key} | " in text
    assert "Meter address | address | yes | DL/T 645: the 12-digit nameplate address" in text
    assert "dlt645-prepaid-1p, dlt645-prepaid-3p, acrel-ddsy1352, acrel-dtsy1352" in text
    assert "All or nothing" in text


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_template_left_empty_reads_as_empty_tables(lang):
    tables = read_upload("template.xlsx", build_template(lang))

    assert tables.row_count == 0
    assert set(tables.sources) == {"gateways", "units", "meters", "tenants"}
    assert tables.ignored_sheets == []


def test_template_follows_the_active_language_by_default():
    with translation.override("zh-hans"):
        assert workbook(build_template()).sheetnames[1] == "网关"


def test_csv_template_is_utf8_with_bom_and_reads_back():
    data = build_csv_template("meters", "zh-hans")

    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").splitlines()[0].startswith("项目编码*,所属网关*,表地址*")
    tables = read_upload("meters.csv", data)
    assert tables.sources == {"meters": "meters.csv"}
    assert tables.meters == []


def test_filled_template_imports(site, admin, tables_data):
    book = workbook(build_template("zh-hans"))
    sheet = book["网关"]
    sheet.append(["MALL", "一楼网关", "TCP透传", "10.0.0.1", 10001, None, 2400, "偶校验", "1F"])
    buffer = io.BytesIO()
    book.save(buffer)

    report = import_configuration(
        acting_user=admin, tables=read_upload("t.xlsx", buffer.getvalue()), dry_run=False
    )

    assert report.applied
    assert report.counts["gateways"]["created"] == 1


def test_export_reimports_all_unchanged(site, other_site, admin, tables_data, census):
    import_configuration(
        acting_user=admin, tables=ConfigTables.from_dicts(tables_data), dry_run=False
    )
    with translation.override("zh-hans"):
        exported = export_configuration(acting_user=admin)
    before = census()

    report = import_configuration(
        acting_user=admin, tables=read_upload("export.xlsx", exported), dry_run=False
    )

    assert report.ok
    assert {r.outcome for r in report.rows} == {"unchanged"}
    assert report.counts["meters"]["unchanged"] == 3
    assert report.counts["tenants"]["unchanged"] == 2
    assert census()["Meter"] == before["Meter"]


def test_export_content_in_english(site, admin, tables_data):
    import_configuration(
        acting_user=admin, tables=ConfigTables.from_dicts(tables_data), dry_run=False
    )

    book = workbook(export_configuration(acting_user=admin))

    meters = list(book["Meters"].iter_rows(values_only=True))
    assert meters[1] == (
        "MALL", "A-1F-GW1", "000000000013", "DL/T 645-2007", "dlt645-prepaid-3p", 3, 50,
        "Local", "A-102",
    )  # fmt: skip
    assert book["Meters"]["C2"].number_format == "@"
    tenants = list(book["Tenants"].iter_rows(values_only=True))
    assert tenants[1:] == [
        ("MALL", "T001", "星辰珠宝有限公司", "Company", "王伟", "13800138000", "A-101; A-102"),
        ("MALL", "T002", "李娜", "Person", None, None, None),
    ]
    units = list(book["Units"].iter_rows(values_only=True))
    assert units[1] == ("MALL", "A座", "1F", "A-101", "星辰珠宝", "Shop", 85.5)


def test_export_shows_only_the_operators_sites_and_nothing_retired(
    site, other_site, admin, make_operator, tables_data
):
    tables_data["gateways"].append(
        dict(tables_data["gateways"][0], site="TOWER", name="T-GW", port="10003")
    )
    tables_data["gateways"].append(dict(tables_data["gateways"][0], name="OLD", port="10004"))
    import_configuration(
        acting_user=admin, tables=ConfigTables.from_dicts(tables_data), dry_run=False
    )
    from openprepaid.domain.sites.models import Gateway

    retire_gateway(Gateway.objects.get(name="OLD"), acting_user=admin)
    limited = make_operator("auditor", sites=[other_site])

    tables = read_upload("x.xlsx", export_configuration(acting_user=limited))
    assert [r["name"] for _n, r in tables.gateways] == ["T-GW"]
    assert tables.meters == tables.units == tables.tenants == []

    tables = read_upload("x.xlsx", export_configuration(acting_user=admin, sites=[site]))
    assert [r["name"] for _n, r in tables.gateways] == ["A-1F-GW1", "A-2F-GW1"]
