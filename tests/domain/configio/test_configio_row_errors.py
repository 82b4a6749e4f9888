"""Bad rows: each error names its table, row and column, and nothing at all is written."""

from __future__ import annotations

import pytest
from django.utils import translation

from openprepaid.domain.configio.services import import_configuration
from openprepaid.domain.configio.tables import ConfigTables
from openprepaid.domain.sites.models import Gateway, Meter, Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def refused(census):
    """``refused(user, data)`` → the report's errors as (table, row, column, message), after
    checking that the import wrote nothing at all."""

    def run(user, data):
        before = census()
        report = import_configuration(
            acting_user=user, tables=ConfigTables.from_dicts(data), dry_run=False
        )
        assert not report.ok
        assert not report.applied
        assert census() == before
        return [(e.kind, e.row, e.column, e.message) for e in report.errors]

    return run


@pytest.fixture
def loaded(site, admin, tables_data):
    """The small site imported once already."""
    report = import_configuration(
        acting_user=admin, tables=ConfigTables.from_dicts(tables_data), dry_run=False
    )
    assert report.applied
    return tables_data


def test_unknown_site_code(site, admin, tables_data, refused):
    tables_data["tenants"][1]["site"] = "NOPE"

    assert refused(admin, tables_data) == [
        ("tenants", 3, "site", "There is no site “NOPE” among the sites you may work on.")
    ]


def test_unknown_site_on_a_gateway_also_fails_its_meters(site, admin, tables_data, refused):
    tables_data["gateways"][1]["site"] = "NOPE"
    tables_data["tenants"] = []

    errors = refused(admin, tables_data)

    assert [e[:3] for e in errors] == [("gateways", 3, "site"), ("meters", 4, "gateway")]
    assert errors[1][3] == "Site MALL has no gateway named “A-2F-GW1” (saved or in this upload)."


def test_duplicate_meter_address_on_a_gateway_within_the_file(site, admin, tables_data, refused):
    tables_data["meters"].append(
        dict(tables_data["meters"][1], address="000000000013", unit="A-201")
    )

    assert refused(admin, tables_data) == [
        ("meters", 5, "address", "Row 3 already has the same Site code + Gateway + Meter address.")
    ]


def test_duplicate_meter_address_against_the_database(loaded, admin, refused):
    row = dict(loaded["meters"][0], unit="A-201")

    assert refused(admin, {"meters": [row]}) == [
        (
            "meters",
            2,
            "address",
            "Gateway A-1F-GW1 already has meter 201000000012, serving unit A-101; check the "
            "address (meters are moved in the console).",
        )
    ]


def test_the_same_address_on_another_gateway_is_fine(site, admin, tables_data):
    tables_data["gateways"][1]["transport"] = "transparent_tcp"
    tables_data["meters"][2] = dict(tables_data["meters"][0], gateway="A-2F-GW1", unit="A-201")

    report = import_configuration(
        acting_user=admin, tables=ConfigTables.from_dicts(tables_data), dry_run=False
    )

    assert report.applied
    assert Meter.objects.filter(address="201000000012").count() == 2


@pytest.mark.parametrize(
    ("address", "message"),
    [
        (
            "20100000001A",
            "“20100000001A” is not a DL/T 645 address: 1 to 12 digits, not the broadcast "
            "address 999999999999.",
        ),
        (
            "2010000000123",
            "“2010000000123” is not a DL/T 645 address: 1 to 12 digits, not the broadcast "
            "address 999999999999.",
        ),
        (
            "2.01E+11",
            "Excel turned the address into a number (2.01E+11) and lost digits; format the "
            "column as text and type the address again.",
        ),
    ],
)
def test_invalid_dlt645_address(site, admin, tables_data, refused, address, message):
    tables_data["meters"][1]["address"] = address
    tables_data["tenants"] = []

    assert refused(admin, tables_data) == [("meters", 3, "address", message)]


def test_invalid_modbus_unit_id(site, admin, tables_data, refused):
    tables_data["meters"][2]["address"] = "248"
    tables_data["tenants"] = []

    assert refused(admin, tables_data) == [
        ("meters", 4, "address", "“248” is not a Modbus unit id: a whole number from 1 to 247.")
    ]


@pytest.mark.parametrize(
    ("blank", "message"),
    [
        ("host", "A TCP gateway needs a host (IP address or name)."),
        ("port", "A TCP gateway needs a port (1-65535)."),
    ],
)
def test_tcp_gateway_without_host_or_port(site, admin, tables_data, refused, blank, message):
    tables_data["gateways"][0][blank] = ""
    del tables_data["meters"], tables_data["tenants"]

    assert refused(admin, tables_data) == [("gateways", 2, blank, message)]


def test_serial_gateway_without_device(site, admin, refused):
    data = {"gateways": [{"site": "MALL", "name": "USB", "transport": "本地串口"}]}

    assert refused(admin, data) == [
        ("gateways", 2, "serial_device", "A serial gateway needs its serial device.")
    ]


def test_two_gateways_on_one_endpoint(site, admin, tables_data, refused):
    tables_data["gateways"][1].update(host="10.0.0.1", port="10001")
    del tables_data["meters"], tables_data["tenants"]

    assert refused(admin, tables_data) == [
        ("gateways", 3, "port", "Gateway A-1F-GW1 on site MALL already uses 10.0.0.1:10001.")
    ]


def test_unknown_unit_kind(site, admin, tables_data, refused):
    tables_data["units"][0]["kind"] = "warehouse"
    del tables_data["meters"], tables_data["tenants"]

    assert refused(admin, tables_data) == [
        (
            "units",
            2,
            "kind",
            "“warehouse” is not one of: Shop, Office, Stall, Restaurant, Public area, Other.",
        )
    ]


def test_unknown_protocol(site, admin, tables_data, refused):
    tables_data["meters"][0]["protocol"] = "IEC 62056"
    tables_data["tenants"] = []

    assert refused(admin, tables_data) == [
        ("meters", 2, "protocol", "“IEC 62056” is not one of: DL/T 645-2007, Modbus-RTU.")
    ]


def test_meter_of_a_unit_neither_saved_nor_in_the_file(site, admin, tables_data, refused):
    tables_data["meters"][0]["unit"] = "Z-999"
    tables_data["tenants"] = []

    assert refused(admin, tables_data) == [
        ("meters", 2, "unit", "Site MALL has no unit “Z-999” (saved or in this upload).")
    ]


def test_bad_mobile_number(site, admin, tables_data, refused):
    tables_data["tenants"][0]["mobile"] = "12345"

    assert refused(admin, tables_data) == [
        ("tenants", 2, "mobile", "A mobile number has 11 digits and starts with 1.")
    ]


def test_profile_of_another_protocol(site, admin, tables_data, refused):
    tables_data["meters"][0]["profile"] = "acrel-ddsy1352"
    tables_data["tenants"] = []

    assert refused(admin, tables_data) == [
        ("meters", 2, "profile", "This model speaks modbus_rtu.")
    ]


def test_dlt645_meter_on_a_modbus_tcp_gateway(site, admin, tables_data, refused):
    tables_data["meters"][0]["gateway"] = "A-2F-GW1"
    tables_data["tenants"] = []

    assert refused(admin, tables_data) == [
        ("meters", 2, "gateway", "A Modbus-TCP gateway carries only Modbus meters.")
    ]


def test_cashier_may_not_import_gateways_units_or_meters(site, cashier, tables_data, refused):
    del tables_data["tenants"]

    errors = refused(cashier, tables_data)

    assert [e[:3] for e in errors] == [
        ("gateways", 2, "site"),
        ("gateways", 3, "site"),
        ("units", 2, "site"),
        ("units", 3, "site"),
        ("units", 4, "site"),
        ("meters", 2, "site"),
        ("meters", 3, "site"),
        ("meters", 4, "site"),
    ]
    assert errors[0][3] == "You are not allowed to change Gateways on site MALL."


def test_operations_may_not_import_tenants(loaded, operations, refused):
    errors = refused(operations, {"tenants": loaded["tenants"]})

    assert errors[0] == (
        "tenants",
        2,
        "site",
        "You are not allowed to change Tenants on site MALL.",
    )


def test_operator_limited_to_one_site_cannot_import_another(
    site, other_site, make_operator, tables_data, refused
):
    limited = make_operator("operations", sites=[site])
    tables_data["gateways"].append(
        dict(tables_data["gateways"][0], site="TOWER", port="10002", name="T-GW")
    )
    del tables_data["tenants"]

    assert refused(limited, tables_data) == [
        ("gateways", 4, "site", "There is no site “TOWER” among the sites you may work on.")
    ]


def test_site_limited_operator_imports_its_own_site(site, other_site, make_operator, tables_data):
    limited = make_operator("administrator", sites=[site])

    report = import_configuration(
        acting_user=limited, tables=ConfigTables.from_dicts(tables_data), dry_run=False
    )

    assert report.applied


def test_duplicate_unit_number_within_the_file(site, admin, tables_data, refused):
    tables_data["units"].append(dict(tables_data["units"][0], name="again"))
    del tables_data["meters"], tables_data["tenants"]

    assert refused(admin, tables_data) == [
        ("units", 5, "code", "Row 2 already has the same Site code + Unit number.")
    ]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("area", "12.345", "At most 2 decimal places."),
        ("area", "-1", "Must not be less than 0."),
        ("area", "big", "“big” is not a number."),
        ("code", "", "This column is required."),
        ("floor", "x" * 33, "At most 32 characters (this has 33)."),
    ],
)
def test_bad_unit_cells(site, admin, tables_data, refused, column, value, message):
    tables_data["units"][2][column] = value
    del tables_data["meters"], tables_data["tenants"]

    assert refused(admin, tables_data) == [("units", 4, column, message)]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("port", "10001.5", "“10001.5” is not a whole number."),
        ("port", "70000", "Must be from 1 to 65535."),
        ("baud_rate", "1000", "“1000” is not one of: 1200, 2400, 4800, 9600, 19200, 38400."),
    ],
)
def test_bad_gateway_cells(site, admin, tables_data, refused, column, value, message):
    tables_data["gateways"][1][column] = value
    del tables_data["meters"], tables_data["tenants"]

    assert refused(admin, tables_data) == [("gateways", 3, column, message)]


def test_every_wrong_cell_of_a_row_is_reported(site, admin, refused):
    row = {"site": "MALL", "gateway": "", "address": "x", "protocol": "645", "profile": "?",
           "unit": "A-1", "ct_ratio": "0"}  # fmt: skip

    assert [e[:3] for e in refused(admin, {"meters": [row]})] == [
        ("meters", 2, "gateway"),
        ("meters", 2, "address"),
        ("meters", 2, "profile"),
        ("meters", 2, "ct_ratio"),
        ("meters", 2, "unit"),
    ]


def test_tenant_unit_whose_meter_belongs_to_another_tenant(loaded, admin, refused):
    loaded["tenants"][1]["units"] = "A-102"

    assert refused(admin, {"tenants": loaded["tenants"]}) == [
        ("tenants", 3, "units", "Meter 000000000013 already belongs to account A000001.")
    ]


def test_import_does_not_take_meters_out_of_an_account(loaded, admin, refused):
    loaded["tenants"][0]["units"] = "A-101"

    assert refused(admin, {"tenants": loaded["tenants"]}) == [
        (
            "tenants",
            2,
            "units",
            "The tenant's account also holds the meters of A-102; the import does not take "
            "meters out of an account (close the account or swap the meter).",
        )
    ]


def test_tenant_unit_unknown_or_without_meter(site, admin, tables_data, refused):
    tables_data["units"].append(dict(tables_data["units"][0], code="A-103"))
    tables_data["tenants"][0]["units"] = "A-101, A-999"
    tables_data["tenants"][1]["units"] = "A-103"

    assert refused(admin, tables_data) == [
        ("tenants", 2, "units", "Site MALL has no unit A-999 (saved or in this upload)."),
        ("tenants", 3, "units", "Unit A-103 has no meter in service yet; import its meter first."),
    ]


def test_a_failed_row_does_not_leave_its_records_for_later_rows(site, admin, refused):
    """The first unit row creates a new building and floor and then fails; the second row of
    the same floor must create them again (the failed row's savepoint was rolled back)."""
    rows = [
        {"site": "MALL", "building": "C座", "floor": "9F", "code": "C-1", "kind": "shop",
         "area": "1e9"},
        {"site": "MALL", "building": "C座", "floor": "9F", "code": "C-2", "kind": "shop"},
    ]  # fmt: skip

    errors = refused(admin, {"units": rows})

    assert [e[:3] for e in errors] == [("units", 2, "area")]


def test_a_failed_update_leaves_later_rows_the_saved_values(loaded, admin, census):
    loaded["meters"][2]["profile"] = "acrel-dtsy1352"  # three-phase model, phases column says 1
    report = import_configuration(
        acting_user=admin, tables=ConfigTables.from_dicts({"meters": loaded["meters"]}),
        dry_run=False,
    )  # fmt: skip

    assert [(e.row, e.column) for e in report.errors] == [(4, "phases")]
    assert Meter.objects.get(address="7").profile == "acrel-ddsy1352"
    assert Gateway.objects.count() == 2
    assert Unit.objects.count() == 3


def test_errors_read_with_table_row_and_column_in_the_operators_language(site, admin, tables_data):
    tables_data["meters"][0]["address"] = "abc"
    with translation.override("zh-hans"):
        report = import_configuration(
            acting_user=admin, tables=ConfigTables.from_dicts(tables_data), dry_run=True
        )
        first = report.errors[0]
        assert (first.column, first.label) == ("address", "表地址")
        assert str(first).startswith("电表")  # the sheet's Chinese name, then row and column
        assert "2" in str(first)
        assert "表地址" in str(first)
    with translation.override("en"):
        report = import_configuration(
            acting_user=admin, tables=ConfigTables.from_dicts(tables_data), dry_run=True
        )
        assert str(report.errors[0]) == (
            "Meters row 2, Meter address: “abc” is not a DL/T 645 address: 1 to 12 digits, "
            "not the broadcast address 999999999999."
        )
