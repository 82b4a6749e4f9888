"""Meter profiles (issue 3 item 5): every registered model resolves to its protocol half; the
DL/T 645 readings and commands survive the line to a simulated meter and back."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from openprepaid.protocol.dlt645 import (
    Ack,
    ControlCommand,
    Password,
    ReadReply,
    decode_frame,
    encode_reply,
    encode_request,
    lookup,
    parse_reply,
    parse_request,
)
from openprepaid.protocol.dlt645.formats import MeterDate
from openprepaid.protocol.dlt645.profile import (
    DI_REMAINING_AMOUNT,
    DI_STATUS_WORD_3,
    DLT645_PROFILES,
    THREE_PHASE_READING,
    Dlt645Profile,
    dlt645_profile,
)
from openprepaid.protocol.dlt645.requests import (
    BroadcastTimeRequest,
    CipheredControlRequest,
    ControlRequest,
    ReadRequest,
    SecurityRequest,
    WriteRequest,
)
from openprepaid.protocol.dlt645.status import StatusWord3
from openprepaid.protocol.errors import LocalProtocolError
from openprepaid.protocol.meter_profiles import describe_profile
from openprepaid.protocol.modbus.profile import ModbusProfile
from openprepaid.protocol.profiles import PROFILES, Protocol
from openprepaid.protocol.security import (
    DI_IDENTITY_AUTHENTICATION,
    DI_OPEN_ACCOUNT,
    DI_RECHARGE,
    MasterKey,
    MasterSecurity,
    MeterSecurityModule,
    RemoteControlAccepted,
    WalletAccepted,
)

ADDRESS = "000012345678"
PASSWORD = Password(0x02, "123456")
OPERATOR = "12345678"
DEADLINE = dt.datetime(2026, 11, 23, 20, 30, 15)  # noqa: DTZ001 - meter wall-clock time
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
DLT645_CODES = sorted(DLT645_PROFILES)

# What a meter answers, by DI (formats from the identifier table).
SAMPLE_VALUES = {
    0x0001FF00: tuple(Decimal(v) for v in ("1234.56", "100.01", "400.25", "500.30", "234.00")),
    0x00900200: Decimal("198.56"),
    0x00900201: Decimal("0.00"),
    0x03330201: Decimal("7"),
    0x04000503: StatusWord3.RELAY_OPEN | StatusWord3.MONEY_PREPAID | StatusWord3.KEEP_POWER,
    0x04000101: MeterDate(dt.date(2026, 11, 23), 1),
    0x04000102: dt.time(20, 15, 59),
    0x02010100: Decimal("229.8"),
    0x02020100: Decimal("-5.125"),
    0x02030000: Decimal("1.1787"),
    0x0201FF00: (Decimal("229.8"), Decimal("231.0"), Decimal("230.4")),
    0x0202FF00: (Decimal("5.125"), Decimal("4.000"), Decimal("0.512")),
    0x0203FF00: (Decimal("2.5"), Decimal("1.0"), Decimal("0.9"), Decimal("0.6")),
}


def _over_the_line(request):
    """Encode as the headend would, decode and parse as the simulator would."""
    frame = decode_frame(encode_request(request))
    return frame, parse_request(frame)


def _answer(request):
    """A simulated meter: parse the request, reply from SAMPLE_VALUES, return the master's
    parsed reply."""
    _, received = _over_the_line(request)
    assert isinstance(received, ReadRequest)
    reply = ReadReply.of(received.address, received.di, SAMPLE_VALUES[received.di])
    return parse_reply(decode_frame(encode_reply(reply, preamble=4)))


# --- registry -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(PROFILES))
def test_every_profile_resolves_to_a_description_for_its_protocol(code):
    described = describe_profile(code)
    assert described.profile is PROFILES[code]
    if PROFILES[code].protocol is Protocol.DLT645_2007:
        assert isinstance(described, Dlt645Profile)
        assert described.reading_requests(ADDRESS)
    else:
        assert isinstance(described, ModbusProfile)
        assert described.reading_requests()


def test_unknown_codes_and_wrong_protocols_are_refused():
    with pytest.raises(LocalProtocolError):
        describe_profile("no-such-meter")
    with pytest.raises(LocalProtocolError):
        dlt645_profile("acrel-ddsy1352")


def test_three_phase_reads_blocks_and_the_sweep_is_status_then_money():
    assert dlt645_profile("dlt645-prepaid-3p").reading == THREE_PHASE_READING
    assert 0x0201FF00 in THREE_PHASE_READING
    assert 0x02010100 in dlt645_profile("dlt645-prepaid-1p").reading
    for code in DLT645_CODES:
        sweep = dlt645_profile(code).status_requests(ADDRESS)
        assert [r.di for r in sweep] == [DI_STATUS_WORD_3, DI_REMAINING_AMOUNT]


def test_every_reading_di_is_a_known_identifier():
    for code in DLT645_CODES:
        for di in dlt645_profile(code).reading:
            assert lookup(di).known, f"{di:08X}"


# --- readings round trip ------------------------------------------------------------------


@pytest.mark.parametrize("code", DLT645_CODES)
def test_full_reading_round_trips_through_a_simulated_meter(code):
    requests = dlt645_profile(code).reading_requests(ADDRESS)
    assert len({r.di for r in requests}) == len(requests)
    for request in requests:
        reply = _answer(request)
        assert isinstance(reply, ReadReply)
        assert reply.address == ADDRESS
        assert reply.di == request.di
        assert reply.value == SAMPLE_VALUES[request.di], f"{request.di:08X}"


def test_status_sweep_round_trips():
    for request in dlt645_profile("dlt645-prepaid-1p").status_requests(ADDRESS):
        assert _answer(request).value == SAMPLE_VALUES[request.di]


# --- commands -----------------------------------------------------------------------------

PROFILE = dlt645_profile("dlt645-prepaid-1p")
AUTH = {"valid_until": DEADLINE, "password": PASSWORD, "operator": OPERATOR}


@pytest.mark.parametrize(
    ("build", "n1"),
    [
        (lambda: PROFILE.trip(ADDRESS, **AUTH), ControlCommand.TRIP),
        (lambda: PROFILE.close_allowed(ADDRESS, **AUTH), ControlCommand.CLOSE_ALLOWED),
        (lambda: PROFILE.direct_close(ADDRESS, **AUTH), ControlCommand.DIRECT_CLOSE),
        (lambda: PROFILE.keep_power(ADDRESS, True, **AUTH), ControlCommand.KEEP_POWER),
        (lambda: PROFILE.keep_power(ADDRESS, False, **AUTH), ControlCommand.KEEP_POWER_RELEASE),
    ],
)
def test_plain_control_commands_parse_on_the_meter_side(build, n1):
    frame, received = _over_the_line(build())
    assert frame.control == 0x1C
    assert len(frame.data) == 16
    assert frame.data[8] == n1
    assert isinstance(received, ControlRequest)
    assert received.command is n1
    assert received.valid_until == DEADLINE
    assert received.password == PASSWORD
    assert received.operator == OPERATOR
    assert parse_reply(decode_frame(encode_reply(Ack(ADDRESS, frame.function)))).function == 0x1C


def test_push_prices_writes_one_tariff_price_di_each():
    prices = [Decimal("1.2345"), Decimal("0.9876"), Decimal("0.5500"), Decimal("0.3000")]
    for backup, base in ((False, 0x04050100), (True, 0x04050200)):
        writes = PROFILE.push_prices(
            ADDRESS, prices, password=PASSWORD, operator=OPERATOR, backup=backup
        )
        assert len(writes) == 4
        for n, (write, price) in enumerate(zip(writes, prices, strict=True), start=1):
            frame, received = _over_the_line(write)
            assert frame.control == 0x14
            assert isinstance(received, WriteRequest)
            assert received.di == base + n
            assert received.decoded_value() == price
            assert received.password == PASSWORD
            assert received.operator == OPERATOR
    with pytest.raises(LocalProtocolError):
        PROFILE.push_prices(ADDRESS, [], password=PASSWORD)
    with pytest.raises(LocalProtocolError):  # more than 4 decimals
        PROFILE.push_prices(ADDRESS, [Decimal("0.12345")], password=PASSWORD)


def test_push_thresholds_writes_the_given_limits_only():
    writes = PROFILE.push_thresholds(
        ADDRESS,
        password=PASSWORD,
        operator=OPERATOR,
        alarm_1=Decimal("20.00"),
        alarm_2=Decimal("5.00"),
        overdraft_limit=Decimal("10.00"),
        hoarding_limit=Decimal("5000.00"),
        close_allowed_limit=Decimal("0.50"),
    )
    expected = {
        0x04001001: Decimal("20.00"),
        0x04001002: Decimal("5.00"),
        0x04001003: Decimal("10.00"),
        0x04001004: Decimal("5000.00"),
        0x04001005: Decimal("0.50"),
    }
    received = [_over_the_line(w)[1] for w in writes]
    assert {r.di: r.decoded_value() for r in received} == expected
    assert all(isinstance(r, WriteRequest) and r.password == PASSWORD for r in received)
    only = PROFILE.push_thresholds(ADDRESS, password=PASSWORD, alarm_2=Decimal("1"))
    assert [w.di for w in only] == [0x04001002]
    with pytest.raises(LocalProtocolError):
        PROFILE.push_thresholds(ADDRESS, password=PASSWORD)


def test_time_sync_broadcast_and_addressed():
    moment = dt.datetime(2026, 11, 22, 9, 8, 7)  # noqa: DTZ001 - a Sunday, meter time
    frame, received = _over_the_line(PROFILE.broadcast_time(moment))
    assert frame.control == 0x08
    assert frame.address == "999999999999"
    assert isinstance(received, BroadcastTimeRequest)
    assert received.time == moment

    date_write, time_write = PROFILE.set_time(ADDRESS, moment, password=PASSWORD)
    _, got_date = _over_the_line(date_write)
    _, got_time = _over_the_line(time_write)
    assert got_date.di == 0x04000101
    assert got_date.decoded_value() == MeterDate(dt.date(2026, 11, 22), 0)
    assert got_time.di == 0x04000102
    assert got_time.decoded_value() == dt.time(9, 8, 7)


# --- security: a meter that only sees the frames the profile built -----------------------


@pytest.fixture
def site():
    master = MasterSecurity(
        MasterKey.from_hex("0123456789ABCDEF FEDCBA9876543210 89ABCDEF01234567"),
        rng=random.Random(1).randbytes,
    )
    meter = MeterSecurityModule(
        master.meter_key(ADDRESS),
        esam_serial=bytes.fromhex("A1B2C3D4E5F60718"),
        rng=random.Random(2).randbytes,
    )
    start = master.begin_authentication(ADDRESS)
    _frame, received = _over_the_line(PROFILE.authenticate(ADDRESS, start.payload))
    assert isinstance(received, SecurityRequest)
    assert received.di == DI_IDENTITY_AUTHENTICATION
    accepted = meter.handle(received.di, received.data, now=NOW)
    session = master.complete_authentication(start, accepted.reply, now=NOW)
    return session, meter


def test_open_account_and_recharge_through_the_profile_are_accepted(site):
    session, meter = site
    opening = session.open_account(customer_number="7", amount=Decimal("10"), purchase_count=1)
    frame, received = _over_the_line(PROFILE.open_account(ADDRESS, opening, operator=OPERATOR))
    assert frame.control == 0x03
    assert received.di == DI_OPEN_ACCOUNT
    assert received.operator == OPERATOR
    assert isinstance(meter.handle(received.di, received.data, now=NOW), WalletAccepted)

    top_up = session.recharge(customer_number="7", amount=Decimal("2.50"), purchase_count=2)
    frame, received = _over_the_line(PROFILE.recharge(ADDRESS, top_up, operator=OPERATOR))
    assert len(frame.data) == 0x1C
    assert received.di == DI_RECHARGE
    outcome = meter.handle(received.di, received.data, now=NOW)
    assert isinstance(outcome, WalletAccepted)
    assert outcome.balance_fen == 1250
    assert meter.purchase_count == 2


def test_level_98_control_through_the_profile_is_accepted(site):
    session, meter = site
    sealed = session.remote_control(ControlCommand.TRIP, deadline=DEADLINE)
    frame, received = _over_the_line(PROFILE.ciphered_control(ADDRESS, sealed, operator=OPERATOR))
    assert len(frame.data) == 0x1C
    assert frame.data[0] == 0x98
    assert isinstance(received, CipheredControlRequest)
    assert received.operator == OPERATOR
    outcome = meter.remote_control(received.ciphertext, now=NOW)
    assert isinstance(outcome, RemoteControlAccepted)
    assert outcome.action is ControlCommand.TRIP
    assert outcome.deadline == DEADLINE
