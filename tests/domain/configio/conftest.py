"""Fixtures for the spreadsheet import tests: a small site's tables, files made from them with
openpyxl and csv directly (not with the code under test), and a census of every table."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import openpyxl
import pytest

from openprepaid.domain.audit.models import SystemLog
from openprepaid.domain.sites.models import Building, Floor, Gateway, Meter, Unit
from openprepaid.domain.tenants.models import Account, AccountMeter, Tenant

MODELS = (Building, Floor, Gateway, Unit, Meter, Tenant, Account, AccountMeter, SystemLog)

GATEWAYS = [
    {
        "site": "MALL",
        "name": "A-1F-GW1",
        "transport": "transparent_tcp",
        "host": "10.0.0.1",
        "port": "10001",
        "serial_device": "",
        "baud_rate": "2400",
        "parity": "E",
        "location": "A座 1F 东侧",
    },
    {
        "site": "MALL",
        "name": "A-2F-GW1",
        "transport": "modbus_tcp",
        "host": "10.0.0.2",
        "port": "502",
        "serial_device": "",
        "baud_rate": "9600",
        "parity": "N",
        "location": "",
    },
]
UNITS = [
    {"site": "MALL", "building": "A座", "floor": "1F", "code": "A-101", "name": "星辰珠宝",
     "kind": "shop", "area": "85.5"},
    {"site": "MALL", "building": "A座", "floor": "1F", "code": "A-102", "name": "悦享咖啡",
     "kind": "restaurant", "area": "40"},
    {"site": "MALL", "building": "A座", "floor": "2F", "code": "A-201", "name": "",
     "kind": "office", "area": ""},
]  # fmt: skip
METERS = [
    {"site": "MALL", "gateway": "A-1F-GW1", "address": "201000000012",
     "protocol": "dlt645_2007", "profile": "dlt645-prepaid-1p", "phases": "1", "ct_ratio": "1",
     "cost_control": "remote", "unit": "A-101"},
    {"site": "MALL", "gateway": "A-1F-GW1", "address": "13", "protocol": "dlt645_2007",
     "profile": "dlt645-prepaid-3p", "phases": "3", "ct_ratio": "50", "cost_control": "local",
     "unit": "A-102"},
    {"site": "MALL", "gateway": "A-2F-GW1", "address": "7", "protocol": "modbus_rtu",
     "profile": "acrel-ddsy1352", "phases": "1", "ct_ratio": "1", "cost_control": "remote",
     "unit": "A-201"},
]  # fmt: skip
TENANTS = [
    {"site": "MALL", "code": "T001", "name": "星辰珠宝有限公司", "kind": "company",
     "contact_name": "王伟", "mobile": "13800138000", "units": "A-101;A-102"},
    {"site": "MALL", "code": "T002", "name": "李娜", "kind": "person", "contact_name": "",
     "mobile": "", "units": ""},
]  # fmt: skip


@pytest.fixture
def tables_data():
    """Fresh copies of the small site's four tables (edit them freely in a test)."""
    return {
        "gateways": [dict(r) for r in GATEWAYS],
        "units": [dict(r) for r in UNITS],
        "meters": [dict(r) for r in METERS],
        "tenants": [dict(r) for r in TENANTS],
    }


@pytest.fixture
def census(db):
    """``census()`` → the number of rows in every table the import may write."""

    def count() -> dict[str, int]:
        return {m.__name__: m.objects.count() for m in MODELS}

    return count


def make_xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    """A workbook with one sheet per entry: sheet name → rows (the first is the header)."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def make_csv(rows: list[list[object]], *, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def dict_rows(rows: list[dict[str, str]]) -> list[list[object]]:
    """Header of keys, then the values."""
    keys = list(rows[0])
    return [keys] + [[r.get(k, "") for k in keys] for r in rows]


@pytest.fixture
def files():
    """Builders of test files: ``files.xlsx({sheet: rows})``, ``files.csv(rows)``,
    ``files.rows(dicts)`` (a header of keys, then values)."""
    return SimpleNamespace(xlsx=make_xlsx, csv=make_csv, rows=dict_rows)


@pytest.fixture
def xlsx_of():
    """``xlsx_of(tables_data)`` → an .xlsx with sheets named by key and key headers."""

    def build(data: dict[str, list[dict[str, str]]]) -> bytes:
        return make_xlsx({kind: dict_rows(rows) for kind, rows in data.items() if rows})

    return build
