"""Reading uploads: formats, encodings, headers, cells, and the files that are refused."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import override_settings

from openprepaid.domain.configio.readers import read_upload
from openprepaid.domain.configio.tables import ConfigTables, ImportFileError

ZH_METER_HEADER = ["项目编码*", "所属网关*", "表地址*", "通讯协议*", "电表型号*", "相数",
                   "互感器变比", "费控方式", "单元编号*"]  # fmt: skip


def test_xlsx_sheets_by_chinese_name_with_chinese_headers_and_labels(files):
    data = files.xlsx(
        {
            "电表": [
                ZH_METER_HEADER,
                ["MALL", "GW1", 201000000012, "DL/T 645-2007", "dlt645-prepaid-1p", 1, 1,
                 "远程费控", "A-101"],
                [None] * 9,
                ["MALL", "GW1", " 12 ", "645", "dlt645-prepaid-1p", None, 80.0, "本地", 101],
            ]
        }
    )  # fmt: skip

    tables = read_upload("配置.xlsx", data)

    assert tables.meters == [
        (
            2,
            {"site": "MALL", "gateway": "GW1", "address": "201000000012",
             "protocol": "DL/T 645-2007", "profile": "dlt645-prepaid-1p", "phases": "1",
             "ct_ratio": "1", "cost_control": "远程费控", "unit": "A-101"},
        ),
        (
            4,
            {"site": "MALL", "gateway": "GW1", "address": "12", "protocol": "645",
             "profile": "dlt645-prepaid-1p", "phases": "", "ct_ratio": "80",
             "cost_control": "本地", "unit": "101"},
        ),
    ]  # fmt: skip
    assert tables.gateways == tables.units == tables.tenants == []
    assert tables.sources == {"meters": "电表"}


def test_header_cells_may_be_keys_or_english_labels_in_any_case(files):
    data = files.xlsx(
        {
            "Sheet1": [
                [" SITE ", "Gateway name*", "transport", "Host", "PORT", "Baud rate"],
                ["MALL", "GW1", "Modbus-TCP", "10.0.0.9", 502, 9600],
            ]
        }
    )

    tables = read_upload("gw.xlsx", data)

    assert tables.gateways == [
        (
            2,
            {"site": "MALL", "name": "GW1", "transport": "Modbus-TCP", "host": "10.0.0.9",
             "port": "502", "baud_rate": "9600"},
        )
    ]  # fmt: skip


def test_decimal_cells_keep_their_digits(files):
    data = files.xlsx(
        {"units": [["site", "building", "floor", "code", "kind", "area"],
                   ["MALL", "A", "1F", "A-1", "shop", 85.5],
                   ["MALL", "A", "1F", "A-2", "shop", 12.25]]}
    )  # fmt: skip

    assert [r["area"] for _n, r in read_upload("u.xlsx", data).units] == ["85.5", "12.25"]


def test_unrecognised_sheets_are_ignored_and_listed(files):
    data = files.xlsx(
        {
            "notes": [["anything", "else"], ["1", "2"]],
            "网关": [["site", "name", "transport"], ["MALL", "GW1", "serial"]],
        }
    )

    tables = read_upload("x.xlsx", data)

    assert tables.ignored_sheets == ["notes"]
    assert len(tables.gateways) == 1


def test_csv_utf8_recognised_from_its_header(files):
    data = files.csv(
        [["site", "code", "name", "kind", "units"], ["MALL", "T1", "星辰", "company", "A-1;A-2"]]
    )

    tables = read_upload("tenants.csv", data)

    assert tables.tenants == [
        (2, {"site": "MALL", "code": "T1", "name": "星辰", "kind": "company", "units": "A-1;A-2"})
    ]


def test_csv_with_bom_semicolons_and_blank_lines(files):
    data = b"\xef\xbb\xbf" + files.csv(
        [
            ["项目编码", "楼栋", "楼层", "单元编号", "单元类型"],
            [],
            ["MALL", "A座", "1F", "A-1", "商铺"],
        ],
        delimiter=";",
    )

    tables = read_upload("units.CSV", data)

    assert tables.units == [
        (3, {"site": "MALL", "building": "A座", "floor": "1F", "code": "A-1", "kind": "商铺"})
    ]


def test_csv_in_gbk_as_chinese_excel_saves_it(files):
    data = files.csv(
        [["项目编码*", "网关名称*", "通讯方式*", "主机地址", "端口", "校验位"],
         ["MALL", "一楼网关", "TCP透传", "10.0.0.1", "10001", "偶校验"]],
        encoding="gbk",
    )  # fmt: skip

    tables = read_upload("网关.csv", data)

    assert tables.gateways == [
        (2, {"site": "MALL", "name": "一楼网关", "transport": "TCP透传", "host": "10.0.0.1",
             "port": "10001", "parity": "偶校验"})
    ]  # fmt: skip


def test_tab_separated_csv(files):
    data = files.csv([["site", "name", "transport"], ["MALL", "G", "serial"]], delimiter="\t")

    assert read_upload("g.csv", data).gateways == [
        (2, {"site": "MALL", "name": "G", "transport": "serial"})
    ]


def test_from_dicts_numbers_rows_from_two_and_turns_values_into_text():
    tables = ConfigTables.from_dicts(
        {"units": [{"site": "MALL", "code": 101, "area": None}, {"site": "MALL", "code": "B"}]}
    )

    assert tables.units == [
        (2, {"site": "MALL", "code": "101", "area": ""}),
        (3, {"site": "MALL", "code": "B"}),
    ]


def test_from_dicts_refuses_unknown_columns():
    with pytest.raises(ImportFileError, match="colour"):
        ConfigTables.from_dicts({"units": [{"site": "MALL", "colour": "red"}]})


# ---------------------------------------------------------------------------- bad files


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("site.xlsx", b"PK\x03\x04 this is not a zip", "not a valid .xlsx"),
        ("site.xlsx", b"", "is empty"),
        ("site.csv", b"", "is empty"),
        ("site.pdf", b"%PDF-1.4", "not a spreadsheet"),
        ("site", b"site,name", "not a spreadsheet"),
        ("site.xls", b"\xd0\xcf\x11\xe0", "old Excel format"),
        ("site.csv", b"hello,world\r\n1,2\r\n", "holds no configuration table"),
    ],
)
def test_bad_files_are_refused_with_a_reason(filename, data, message):
    with pytest.raises(ImportFileError, match=message) as caught:
        read_upload(filename, data)
    assert caught.value.code == "bad_file"


def test_a_workbook_without_any_table_is_refused(files):
    with pytest.raises(ImportFileError, match="holds no configuration table"):
        read_upload("x.xlsx", files.xlsx({"Sheet1": [["what", "ever"]]}))


def test_unknown_column_is_named_with_its_sheet(files):
    data = files.xlsx({"电表": [[*ZH_METER_HEADER, "颜色"], ["MALL"] * 10]})

    with pytest.raises(ImportFileError) as caught:
        read_upload("x.xlsx", data)

    assert caught.value.problems == ["Sheet “电表”: unknown column “颜色”."]


def test_duplicate_column_is_named(files):
    data = files.xlsx({"gateways": [["site", "name", "transport", "Gateway name"]]})

    with pytest.raises(ImportFileError) as caught:
        read_upload("x.xlsx", data)

    assert caught.value.problems == [
        "Sheet “gateways”: column “Gateway name” appears more than once."
    ]


def test_missing_required_column_is_named(files):
    header = [h for h in ZH_METER_HEADER if h != "表地址*"]
    data = files.xlsx({"电表": [header]})

    with pytest.raises(ImportFileError) as caught:
        read_upload("x.xlsx", data)

    assert caught.value.problems == [
        "Sheet “电表”: the required column “Meter address” is missing."
    ]


def test_missing_required_column_of_a_csv_is_named(files):
    data = files.csv([["site", "building", "floor", "code", "name", "area"]])

    with pytest.raises(ImportFileError) as caught:
        read_upload("units.csv", data)

    assert caught.value.problems == [
        "File “units.csv”: the required column “Unit type” is missing."
    ]


def test_two_sheets_of_the_same_table_are_refused(files):
    header = ["site", "name", "transport"]
    data = files.xlsx({"网关": [header], "gateways": [header]})

    with pytest.raises(ImportFileError, match="both hold gateways"):
        read_upload("x.xlsx", data)


@override_settings(OPENPREPAID_IMPORT_MAX_ROWS=3)
def test_more_rows_than_allowed_are_refused(files):
    rows = [["site", "name", "transport"]] + [["MALL", f"G{i}", "serial"] for i in range(4)]

    with pytest.raises(ImportFileError, match="more than 3 rows"):
        read_upload("g.xlsx", files.xlsx({"gateways": rows}))


@override_settings(OPENPREPAID_IMPORT_MAX_ROWS=3)
def test_blank_rows_do_not_count_towards_the_limit(files):
    rows = [["site", "name", "transport"], [], [None, None], ["MALL", "G1", "serial"]]

    assert len(read_upload("g.xlsx", files.xlsx({"gateways": rows * 1})).gateways) == 1


def test_a_zip_that_is_not_a_workbook_or_is_cut_short_is_refused(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    whole = files.xlsx({"gateways": [["site", "name", "transport"]]})

    for data in (buffer.getvalue(), whole[: len(whole) // 2]):
        with pytest.raises(ImportFileError, match=r"not a valid \.xlsx workbook or is damaged"):
            read_upload("site.xlsx", data)
