"""The data-identifier table and its value formats (FACTS §5–§6)."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal

import pytest
from dlt645_helpers import meter_time, meter_times, minute_times
from hypothesis import given, settings
from hypothesis import strategies as st

from openprepaid.protocol.dlt645 import ReadReply, decode_frame, encode_reply, lookup, parse_reply
from openprepaid.protocol.dlt645.formats import (
    Bcd,
    Binary,
    Clock,
    Composite,
    DateWeek,
    Digits,
    Fields,
    MeterDate,
    Raw,
    Repeat,
    StatusWord,
    Timestamp,
)
from openprepaid.protocol.dlt645.identifiers import known_identifiers
from openprepaid.protocol.dlt645.status import STATUS_WORDS, StatusWord1, StatusWord3
from openprepaid.protocol.errors import LocalProtocolError, RemoteProtocolError


@pytest.mark.parametrize(
    ("di", "name", "unit"),
    [
        (0x00000000, "combined_active_energy_total", "kWh"),
        (0x00000300, "combined_active_energy_t3", "kWh"),
        (0x0001FF00, "forward_active_energy_block", "kWh"),
        (0x00020001, "reverse_active_energy_total_previous_1", "kWh"),
        (0x000100FF, "forward_active_energy_total_all_settlements", "kWh"),
        (0x00030000, "combined_reactive_1_energy_total", "kvarh"),
        (0x00900100, "remaining_energy", "kWh"),
        (0x00900101, "overdraft_energy", "kWh"),
        (0x00900200, "remaining_amount", "yuan"),
        (0x00900201, "overdraft_amount", "yuan"),
        (0x02010100, "voltage_a", "V"),
        (0x0201FF00, "voltage_block", "V"),
        (0x02020300, "current_c", "A"),
        (0x02030000, "active_power_total", "kW"),
        (0x0203FF00, "active_power_block", "kW"),
        (0x02060000, "power_factor_total", ""),
        (0x02800002, "frequency", "Hz"),
        (0x0280000B, "current_ladder_price", "yuan/kWh"),
        (0x03330201, "purchase_count_last_1", ""),
        (0x0333060A, "cumulative_purchase_amount_last_10", "yuan"),
        (0x033302FF, "purchase_count_last_10", ""),
        (0x03320601, "energy_cumulative_purchase_last_1", "kWh"),
        (0x04000101, "date", ""),
        (0x04000102, "time", ""),
        (0x04000402, "meter_number", ""),
        (0x0400040E, "customer_number", ""),
        (0x04000503, "status_word_3", ""),
        (0x040005FF, "status_words", ""),
        (0x04000F01, "alarm_energy_1", "kWh"),
        (0x04001001, "alarm_amount_1", "yuan"),
        (0x04001002, "alarm_amount_2", "yuan"),
        (0x04001003, "overdraft_amount_limit", "yuan"),
        (0x04001004, "hoarding_amount_limit", "yuan"),
        (0x04001005, "close_allowed_amount_limit", "yuan"),
        (0x04010000, "time_zone_table_set_1", ""),
        (0x04010003, "day_table_3_set_1", ""),
        (0x04050101, "tariff_price_1", "yuan/kWh"),
        (0x040501FF, "tariff_price_block", "yuan/kWh"),
        (0x04050204, "backup_tariff_price_4", "yuan/kWh"),
        (0x04060AFF, "ladder_table", ""),
        (0x04000C03, "password_level_2", ""),
        (0x05060001, "daily_freeze_time_last_1", ""),
    ],
)
def test_names_and_units(di, name, unit):
    ident = lookup(di)
    assert (ident.name, ident.unit, ident.known, ident.di) == (name, unit, True, di)


@pytest.mark.parametrize("di", [0x03010000, 0x0000FFFF, 0x00004000, 0x0201000F, 0xFFFFFFFF])
def test_unknown_identifiers_decode_to_raw_bytes(di):
    ident = lookup(di)
    assert not ident.known
    assert ident.decode(b"\x01\x02\xff") == b"\x01\x02\xff"


def test_names_are_unique():
    names = [ident.name for ident in known_identifiers()]
    assert len(names) == len(set(names))


def test_energy_block_takes_as_many_tariffs_as_the_meter_sends():
    values = lookup(0x0000FF00).decode(bytes.fromhex("29010000 62000000"))
    assert values == (Decimal("1.29"), Decimal("0.62"))
    with pytest.raises(RemoteProtocolError):
        lookup(0x0000FF00).decode(b"\x00" * 6)


def test_signed_values_carry_the_sign_in_bit7_of_the_top_byte():
    current = lookup(0x02020100)
    assert current.decode(bytes.fromhex("00 25 80")) == Decimal("-2.500")
    assert current.encode(Decimal("-2.5")) == bytes.fromhex("00 25 80")
    assert lookup(0x02060000).decode(bytes.fromhex("99 80")) == Decimal("-0.099")


def test_a_signed_item_uses_its_top_digit_up_to_7():
    power = lookup(0x02030000)  # XX.XXXX kW: ±79.9999, the sign in bit 7
    assert power.encode(Decimal("-79.9999")) == bytes.fromhex("99 99 F9")
    assert power.decode(power.encode(Decimal("12.5"))) == Decimal("12.5000")
    with pytest.raises(LocalProtocolError, match="does not fit"):
        power.encode(Decimal("80"))


def test_not_supported_fields_decode_to_none():
    assert lookup(0x0201FF00).decode(bytes.fromhex("5622 FFFF FFFF")) == (
        Decimal("225.6"),
        None,
        None,
    )
    assert lookup(0x04000101).decode(b"\xff" * 4) is None


def test_status_word_3_relay_bits_from_the_capture():
    flags = lookup(0x04000503).decode(bytes.fromhex("50 00"))
    assert flags == StatusWord3.RELAY_OPEN | StatusWord3.RELAY_TRIP_COMMANDED
    assert lookup(0x04000503).decode(b"\x00\x00") == StatusWord3(0)
    assert StatusWord3.RELAY_OPEN.value == 1 << 4
    assert StatusWord3.RELAY_TRIP_COMMANDED.value == 1 << 6


def test_status_word_1_and_unnamed_bits():
    word = lookup(0x04000501).decode(bytes.fromhex("40 40"))
    assert word == StatusWord1.REMOTE_COST_CONTROL | StatusWord1.OVERDRAFT
    word2 = lookup(0x04000502).decode(b"\x01\x80")
    assert [m.name for m in type(word2) if m in word2] == ["BIT_0", "BIT_15"]
    block = lookup(0x040005FF).decode(bytes(14))
    assert list(block) == [f"status_word_{n}" for n in range(1, 8)]


def test_ladder_table():
    data = (
        b"".join(Bcd(4, 2).encode(v) for v in (100, 200, 300, 400, 500, 600))
        + b"".join(Bcd(4, 4).encode(Decimal("0.5") + n) for n in range(7))
        + Fields(("month", "day", "hour")).encode({"month": 1, "day": 1, "hour": 0}) * 4
    )
    table = lookup(0x04060AFF).decode(data)
    assert table["ladder_values"][5] == Decimal("600.00")
    assert table["ladder_prices"][0] == Decimal("0.5000")
    assert len(table["settlement_dates"]) == 4
    assert lookup(0x04060AFF).encode(table) == data


@pytest.mark.parametrize(
    ("fmt", "value"),
    [
        (Bcd(4, 2), Decimal("1000000")),
        (Bcd(4, 2), Decimal("-1")),
        (Bcd(4, 2), Decimal("0.001")),
        (Bcd(2, 1, signed=True), Decimal("800")),
        (Bcd(2), "abc"),
        (Bcd(2), float("nan")),
        (Binary(1), 256),
        (Digits(6), "1234567890123"),
        (DateWeek(), dt.date(1999, 1, 1)),
        (Clock(), "12:00"),
        (Timestamp(5), meter_time(2020, 1, 1, 0, 0, 1)),
        (Fields(("a", "b")), {"a": 1}),
        (Fields(("a",)), {"a": 100}),
        (StatusWord(StatusWord3), 5),
        (Repeat(Bcd(1), 2), [1]),
        (Raw(2), b"\x00"),
        (Composite((("a", Bcd(1)),)), {"b": 1}),
    ],
)
def test_values_that_do_not_fit_are_our_fault(fmt, value):
    with pytest.raises(LocalProtocolError):
        fmt.encode(value)


def _scaled(size: int, scale: int, signed: bool):
    top = 8 * 10 ** (2 * size - 1) if signed else 10 ** (2 * size)
    low = -top + 1 if signed else 0
    return st.integers(low, top - 1).map(lambda n: Decimal(n).scaleb(-scale))


@given(st.data(), st.integers(1, 4), st.integers(0, 4), st.booleans())
def test_bcd_round_trip(data, size, scale, signed):
    fmt = Bcd(size, scale, signed)
    value = data.draw(_scaled(size, scale, signed))
    assert fmt.decode(fmt.encode(value)) == value


@given(st.integers(0, 0xFFFF))
def test_binary_round_trip(value):
    assert Binary(2).decode(Binary(2).encode(value)) == value


@given(st.text("0123456789", min_size=12, max_size=12))
def test_digits_round_trip(value):
    assert Digits(6).decode(Digits(6).encode(value)) == value


@given(st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)))
def test_date_round_trip(day):
    decoded = DateWeek().decode(DateWeek().encode(day))
    assert decoded == MeterDate(day, (day.weekday() + 1) % 7)


@given(st.times().map(lambda t: t.replace(microsecond=0)))
def test_time_round_trip(moment):
    assert Clock().decode(Clock().encode(moment)) == moment


@given(minute_times, meter_times)
def test_timestamp_round_trips(minute, second):
    assert Timestamp(5).decode(Timestamp(5).encode(minute)) == minute
    assert Timestamp(6).decode(Timestamp(6).encode(second)) == second


@given(st.integers(0, 0xFFFF), st.sampled_from(STATUS_WORDS))
def test_status_word_round_trip(value, flags):
    fmt = StatusWord(flags)
    assert fmt.decode(fmt.encode(flags(value))) == flags(value)


@given(
    st.lists(st.fixed_dictionaries({n: st.integers(0, 99) for n in ("m", "d", "t")}), max_size=14)
)
def test_table_round_trip(entries):
    fmt = Repeat(Fields(("m", "d", "t")))
    assert list(fmt.decode(fmt.encode(entries))) == entries


@given(st.binary(max_size=64), st.sampled_from([k.di for k in known_identifiers()]))
def test_decoding_arbitrary_bytes_raises_only_remote_errors(data, di):
    with contextlib.suppress(RemoteProtocolError):
        lookup(di).decode(data)


@given(st.integers(0, 0xFFFFFFFF), st.binary(max_size=32))
def test_any_identifier_decodes_or_raises_a_remote_error(di, data):
    with contextlib.suppress(RemoteProtocolError):
        lookup(di).decode(data)


def values_for(fmt):
    """A strategy for the values ``fmt`` can carry."""
    if isinstance(fmt, Bcd):
        return _scaled(fmt.size, fmt.scale, fmt.signed)
    if isinstance(fmt, Binary):
        return st.integers(0, 256**fmt.size - 1)
    if isinstance(fmt, Digits):
        return st.text("0123456789", min_size=2 * fmt.size, max_size=2 * fmt.size)
    if isinstance(fmt, DateWeek):
        return st.builds(
            MeterDate, st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)), st.integers(0, 6)
        )
    if isinstance(fmt, Clock):
        return st.times().map(lambda t: t.replace(microsecond=0))
    if isinstance(fmt, Timestamp):
        return minute_times if fmt.size == 5 else meter_times
    if isinstance(fmt, Fields):
        return st.fixed_dictionaries({name: st.integers(0, 99) for name in fmt.names})
    if isinstance(fmt, StatusWord):
        return st.integers(0, 0xFFFF).map(fmt.flags)
    if isinstance(fmt, Repeat):
        count = fmt.count
        items = values_for(fmt.item)
        return st.lists(items, min_size=count or 0, max_size=count or 14).map(tuple)
    if isinstance(fmt, Composite):
        return st.fixed_dictionaries({name: values_for(part) for name, part in fmt.parts})
    return (
        st.binary(max_size=8)
        if fmt.size is None
        else st.binary(min_size=fmt.size, max_size=fmt.size)
    )


SAMPLE_DIS = sorted(
    {ident.di for ident in known_identifiers()}
    | {0x00000000, 0x0001FF00, 0x000100FF, 0x00030101, 0x0201FF00, 0x0203FF00, 0x02060100}
    | {0x03330101, 0x033302FF, 0x03320601, 0x040501FF, 0x04050201, 0x0506003E, 0x0E0E0E0E}
)


@pytest.mark.parametrize("di", SAMPLE_DIS, ids=lambda di: f"{di:08X}")
@settings(max_examples=15)
@given(data=st.data())
def test_every_identifier_round_trips_through_a_read_reply(di, data):
    value = data.draw(values_for(lookup(di).format))
    reply = ReadReply.of("201000000012", di, value)
    decoded = parse_reply(decode_frame(encode_reply(reply))).value
    assert decoded == value
