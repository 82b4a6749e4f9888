"""The format's tables: accepted spellings, coverage of the models' values, and the docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from openprepaid.domain.configio.choices import match_choice
from openprepaid.domain.configio.spec import METERS, TABLES, UNITS
from openprepaid.domain.sites.models import CostControl, Parity, Transport, UnitKind
from openprepaid.domain.tenants.models import TenantKind
from openprepaid.protocol.profiles import PROFILES, Protocol

DOCS = Path(__file__).resolve().parents[3] / "docs" / "spreadsheet.md"
COLUMNS = [(t.kind, c) for t in TABLES.values() for c in t.columns]


@pytest.mark.parametrize(("kind", "column"), [(k, c) for k, c in COLUMNS if c.choices])
def test_no_spelling_stands_for_two_values(kind, column):
    seen: dict[str, str] = {}
    for choice in column.choices:
        for spelling in choice.spellings():
            assert seen.setdefault(spelling, choice.code) == choice.code, spelling


@pytest.mark.parametrize(
    ("table", "key", "codes"),
    [
        ("gateways", "transport", Transport.values),
        ("gateways", "parity", Parity.values),
        ("units", "kind", UnitKind.values),
        ("meters", "protocol", [p.value for p in Protocol]),
        ("meters", "profile", list(PROFILES)),
        ("meters", "cost_control", CostControl.values),
        ("tenants", "kind", TenantKind.values),
    ],
)
def test_every_value_of_the_models_is_offered(table, key, codes):
    assert [c.code for c in TABLES[table].by_key[key].choices] == codes


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("DL/T 645-2007", "dlt645_2007"),
        ("dlt645_2007", "dlt645_2007"),
        ("645", "dlt645_2007"),
        ("Modbus-RTU", "modbus_rtu"),
        ("modbus", "modbus_rtu"),
        ("  MODBUS_RTU ", "modbus_rtu"),
    ],
)
def test_protocol_spellings(text, code):
    assert match_choice(METERS.by_key["protocol"].choices, text).code == code


@pytest.mark.parametrize(
    ("text", "code"),
    [("商铺", "shop"), ("Public area", "public"), ("公区", "public"), ("OFFICE", "office")],
)
def test_unit_kind_spellings(text, code):
    assert match_choice(UNITS.by_key["kind"].choices, text).code == code


def test_unknown_values_match_nothing():
    assert match_choice(UNITS.by_key["kind"].choices, "warehouse") is None
    assert match_choice(UNITS.by_key["kind"].choices, "") is None


@pytest.mark.parametrize(("kind", "column"), COLUMNS)
def test_docs_describe_every_column(kind, column):
    text = DOCS.read_text(encoding="utf-8")
    assert f"| `{column.key}` | {column.zh} |" in text


@pytest.mark.parametrize("table", list(TABLES.values()), ids=str)
def test_no_header_text_stands_for_two_columns(table):
    seen: dict[str, str] = {}
    for column in table.columns:
        for name in column.names():
            assert seen.setdefault(name, column.key) == column.key, name


def test_no_sheet_name_stands_for_two_tables():
    seen: dict[str, str] = {}
    for table in TABLES.values():
        for name in table.names():
            assert seen.setdefault(name, table.kind) == table.kind, name
