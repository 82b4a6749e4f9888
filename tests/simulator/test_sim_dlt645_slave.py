"""The simulated DL/T 645 meter, driven by real frames: the request is encoded as the headend
encodes it, decoded as the bus decodes it, answered, encoded and parsed back."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from openprepaid.protocol.dlt645 import decode_frame
from openprepaid.protocol.dlt645.codes import (
    BaudRate,
    ControlCommand,
    ErrorFlags,
    Function,
    SecurityErrorFlags,
)
from openprepaid.protocol.dlt645.fields import Password
from openprepaid.protocol.dlt645.formats import MeterDate
from openprepaid.protocol.dlt645.frame import encode_frame
from openprepaid.protocol.dlt645.profile import DLT645_PROFILES, dlt645_profile
from openprepaid.protocol.dlt645.replies import (
    AbnormalReply,
    Ack,
    ReadAddressReply,
    ReadReply,
    SecurityAbnormalReply,
    SecurityReply,
    parse_reply,
)
from openprepaid.protocol.dlt645.requests import (
    BroadcastTimeRequest,
    ChangeBaudRequest,
    ReadAddressRequest,
    ReadRequest,
    WriteRequest,
    encode_request,
)
from openprepaid.protocol.dlt645.status import StatusWord1, StatusWord3
from openprepaid.protocol.security import MasterKey, MasterSecurity
from openprepaid.simulator.clock import ManualClock
from openprepaid.simulator.meter import SimMeter
from openprepaid.simulator.sitespec import MeterSpec


def at(*parts: int) -> datetime:
    """A naive moment: meters keep local wall-clock time without a zone."""
    return datetime(*parts)  # noqa: DTZ001


MASTER_KEY = MasterKey.from_hex("0123456789ABCDEF FEDCBA9876543210 89ABCDEF01234567")
MONDAY_9 = at(2026, 11, 23, 9, 0)
ADDRESS = "300001000001"
ADMIN = Password(0x02, "123456")
OPERATOR = Password(0x04, "000000")
WRONG = Password(0x02, "654321")
PROFILE = dlt645_profile("dlt645-prepaid-1p")


@pytest.fixture
def master() -> MasterSecurity:
    return MasterSecurity(MASTER_KEY, rng=random.Random(9).randbytes)


def make(master, *, address=ADDRESS, phases=1, balance=None, cost_control="local", kind="shop"):
    spec = MeterSpec(
        address,
        phases=phases,
        profile="dlt645-prepaid-3p" if phases == 3 else "dlt645-prepaid-1p",
        cost_control=cost_control,
        unit_kind=kind,
    )
    return SimMeter(
        spec,
        seed=21,
        now=MONDAY_9,
        meter_key=master.meter_key(spec.meter_number),
        opening_balance=None if balance is None else Decimal(balance),
    )


def exchange(meter: SimMeter, request, now: datetime):
    """Over the line both ways; ``None`` when the meter stays silent."""
    frame = decode_frame(encode_request(request))
    reply = meter.handle_dlt645(frame, now)
    if reply is None:
        return None
    wire = encode_frame(reply, meter.reply_preamble)
    return parse_reply(decode_frame(wire))


def read(meter, di, now, address=ADDRESS):
    return exchange(meter, ReadRequest(address, di), now)


def authenticate(master, meter, now):
    request = master.begin_authentication(meter.spec.meter_number)
    reply = exchange(meter, PROFILE.authenticate(meter.address, request.payload), now)
    assert isinstance(reply, SecurityReply)
    return master.complete_authentication(request, reply.data, now=now)


# --- reads ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(DLT645_PROFILES))
def test_every_reading_and_sweep_identifier_is_answered(master, code):
    profile = DLT645_PROFILES[code]
    phases = 3 if code.endswith("3p") else 1
    meter = make(master, phases=phases, balance="10.00")
    now = MONDAY_9 + timedelta(hours=2)
    for di in (*profile.reading, *profile.status_sweep):
        reply = read(meter, di, now)
        assert isinstance(reply, ReadReply), f"{di:08X}"
        assert reply.di == di
        assert reply.value is not None


def test_reads_match_what_the_meter_holds(master):
    meter = make(master, balance="80.00", kind="restaurant")
    now = MONDAY_9 + timedelta(hours=3, minutes=7, seconds=5)
    block = read(meter, 0x0001FF00, now).value
    state = meter.inspect(now)
    regs = state["registers"]
    assert block == tuple(Decimal(regs[k]) for k in ("total", "sharp", "peak", "flat", "valley"))
    assert read(meter, 0x00000000, now).value == Decimal(regs["total"])
    assert read(meter, 0x00010200, now).value == Decimal(regs["peak"])
    assert read(meter, 0x00900200, now).value == Decimal(state["balance"])
    assert read(meter, 0x00900201, now).value == 0
    assert read(meter, 0x02010100, now).value == Decimal(state["voltage"])
    assert read(meter, 0x02020100, now).value == Decimal(state["current"])
    assert read(meter, 0x02030000, now).value == Decimal(state["power_w"]) / 1000
    assert read(meter, 0x03330201, now).value == 1
    assert read(meter, 0x04000102, now).value == now.time()
    assert read(meter, 0x04000101, now).value == MeterDate(now.date(), 1)  # Monday
    assert read(meter, 0x04000401, now).value == ADDRESS
    assert read(meter, 0x04000402, now).value == ADDRESS
    assert read(meter, 0x0400040E, now).value == ADDRESS
    assert read(meter, 0x04050101, now).value == Decimal("1.2000")
    assert read(meter, 0x040501FF, now).value == tuple(
        Decimal(p) for p in ("1.2", "1.0", "0.7", "0.4")
    )
    assert read(meter, 0x04001001, now).value == Decimal("50.00")
    assert read(meter, 0x04001005, now).value == Decimal("0.00")
    assert read(meter, 0x03300D00, now).value == 0
    words = read(meter, 0x040005FF, now).value
    assert StatusWord3.MONEY_PREPAID in words["status_word_3"]
    assert words["status_word_1"] == read(meter, 0x04000501, now).value
    assert len(read(meter, 0x04010001, now).value) == 14


def test_three_phase_blocks(master):
    meter = make(master, phases=3, kind="restaurant", cost_control="remote")
    now = MONDAY_9 + timedelta(hours=2)
    volts = read(meter, 0x0201FF00, now).value
    powers = read(meter, 0x0203FF00, now).value
    assert len(volts) == 3
    assert all(Decimal("217") <= v <= Decimal("223") for v in volts)
    assert powers[0] == sum(powers[1:])
    assert read(meter, 0x02010300, now).value == volts[2]


@pytest.mark.parametrize(
    "di",
    [0x12345678, 0x0201FF00, 0x02010200, 0x00010101, 0x00050000, 0x04050105],
)
def test_items_the_meter_does_not_have_are_no_request_data(master, di):
    reply = read(make(master), di, MONDAY_9)
    assert isinstance(reply, AbnormalReply)
    assert reply.error is ErrorFlags.NO_REQUEST_DATA


def test_addressing(master):
    meter = make(master)
    assert read(meter, 0x00900200, MONDAY_9, address="300001000002") is None
    wildcard = read(meter, 0x04000401, MONDAY_9, address="AAAAAAAAAAAA")
    assert isinstance(wildcard, ReadReply)
    assert wildcard.address == ADDRESS
    assert read(meter, 0x04000401, MONDAY_9, address="AAAAAA000001").address == ADDRESS
    assert exchange(meter, ReadAddressRequest(), MONDAY_9) == ReadAddressReply(ADDRESS)
    assert read(meter, 0x00900200, MONDAY_9, address="999999999999") is None
    until = MONDAY_9 + timedelta(minutes=5)
    trip = PROFILE.trip("AAAAAAAAAAAA", valid_until=until, password=ADMIN)
    assert exchange(meter, trip, MONDAY_9) is None  # commands need the full address
    assert not meter.relay_open


def test_unsupported_commands_are_refused(master):
    reply = exchange(make(master), ChangeBaudRequest(ADDRESS, BaudRate.BPS_9600), MONDAY_9)
    assert isinstance(reply, AbnormalReply)
    assert reply.error is ErrorFlags.BAUD_RATE_NOT_CHANGEABLE


def test_load_profile_reads_are_no_request_data(master):
    reply = exchange(make(master), ReadRequest(ADDRESS, 0x06000001, count=1), MONDAY_9)
    assert isinstance(reply, AbnormalReply)
    assert reply.error is ErrorFlags.NO_REQUEST_DATA


# --- time -----------------------------------------------------------------------------------


def test_broadcast_time_sync_sets_the_clock_without_a_reply(master):
    clock = ManualClock(MONDAY_9)
    meter = make(master)
    meter.set_clock_drift(300, clock.now())
    clock.advance(timedelta(days=2))
    assert (
        read(meter, 0x04000102, clock.now()).value == (clock.now() + timedelta(minutes=10)).time()
    )
    assert exchange(meter, PROFILE.broadcast_time(clock.now()), clock.now()) is None
    assert read(meter, 0x04000102, clock.now()).value == clock.now().time()
    clock.advance(timedelta(days=1))
    assert read(meter, 0x04000102, clock.now()).value == (clock.now() + timedelta(minutes=5)).time()


def test_addressed_time_setting_with_the_password(master):
    meter = make(master)
    target = at(2026, 12, 31, 23, 59, 0)
    for request in PROFILE.set_time(ADDRESS, target, password=ADMIN):
        assert exchange(meter, request, MONDAY_9) == Ack(ADDRESS, Function.WRITE)
    assert meter.meter_time(MONDAY_9) == target
    later = MONDAY_9 + timedelta(seconds=90)
    assert read(meter, 0x04000101, later).value.date == at(2027, 1, 1).date()


def test_a_broadcast_time_to_the_own_address_is_not_answered_either(master):
    meter = make(master)
    moment = at(2026, 11, 23, 10, 0, 0)
    assert exchange(meter, BroadcastTimeRequest(moment, ADDRESS), MONDAY_9) is None
    assert meter.meter_time(MONDAY_9) == moment


# --- writes and plain control ---------------------------------------------------------------


def test_writes_need_the_password(master):
    meter = make(master)
    (write,) = PROFILE.push_prices(ADDRESS, [Decimal("1.5")], password=WRONG)
    reply = exchange(meter, write, MONDAY_9)
    assert isinstance(reply, AbnormalReply)
    assert reply.error is ErrorFlags.UNAUTHORIZED
    assert meter.prices[0] == 12000
    level_3 = PROFILE.push_prices(ADDRESS, [Decimal("1.5")], password=Password(0x03, "123456"))
    assert exchange(meter, level_3[0], MONDAY_9).error is ErrorFlags.UNAUTHORIZED


def test_prices_thresholds_and_day_table_are_writable(master):
    meter = make(master)
    prices = [Decimal("1.5"), Decimal("1.1"), Decimal("0.8"), Decimal("0.3")]
    for write in PROFILE.push_prices(ADDRESS, prices, password=OPERATOR):
        assert exchange(meter, write, MONDAY_9) == Ack(ADDRESS, Function.WRITE)
    assert meter.prices == [15000, 11000, 8000, 3000]
    writes = PROFILE.push_thresholds(
        ADDRESS,
        password=ADMIN,
        alarm_1=Decimal("30.00"),
        alarm_2=Decimal("10.00"),
        overdraft_limit=Decimal("5.00"),
        hoarding_limit=Decimal("2000.00"),
        close_allowed_limit=Decimal("1.00"),
    )
    for write in writes:
        assert isinstance(exchange(meter, write, MONDAY_9), Ack)
    assert read(meter, 0x04001004, MONDAY_9).value == Decimal("2000.00")
    assert meter.inspect(MONDAY_9)["thresholds"] == {
        "alarm_1": "30.00",
        "alarm_2": "10.00",
        "overdraft_limit": "5.00",
        "close_allowed_limit": "1.00",
        "hoarding_limit": "2000.00",
    }
    table = [{"hour": 0, "minute": 0, "tariff": 4}, {"hour": 7, "minute": 30, "tariff": 2}]
    write = WriteRequest.for_value(ADDRESS, 0x04010001, table, ADMIN)
    assert isinstance(exchange(meter, write, MONDAY_9), Ack)
    assert meter.tou.switches == ((0, 0, 4), (7, 30, 2))
    assert read(meter, 0x04010001, MONDAY_9).value[:2] == tuple(table)


def test_read_only_identifiers_are_not_writable(master):
    meter = make(master)
    write = WriteRequest(ADDRESS, 0x00900200, b"\x00\x00\x00\x00", ADMIN)
    reply = exchange(meter, write, MONDAY_9)
    assert isinstance(reply, AbnormalReply)
    assert reply.error is ErrorFlags.OTHER


def test_plain_control_with_password_and_deadline(master):
    meter = make(master, cost_control="remote")
    until = MONDAY_9 + timedelta(minutes=5)
    trip = PROFILE.trip(ADDRESS, valid_until=until, password=ADMIN)
    assert exchange(meter, trip, MONDAY_9) == Ack(ADDRESS, Function.CONTROL)
    status = read(meter, 0x04000503, MONDAY_9).value
    assert StatusWord3.RELAY_OPEN in status
    assert StatusWord3.RELAY_TRIP_COMMANDED in status
    wrong = PROFILE.close_allowed(ADDRESS, valid_until=until, password=WRONG)
    assert exchange(meter, wrong, MONDAY_9).error is ErrorFlags.UNAUTHORIZED
    late = PROFILE.close_allowed(ADDRESS, valid_until=until, password=ADMIN)
    assert exchange(meter, late, until + timedelta(seconds=1)).error is ErrorFlags.OTHER
    assert meter.relay_open
    assert exchange(meter, late, MONDAY_9 + timedelta(minutes=1)) == Ack(ADDRESS, Function.CONTROL)
    assert not meter.relay_open


def test_keep_power_by_command_blocks_a_trip(master):
    meter = make(master, cost_control="remote")
    until = MONDAY_9 + timedelta(minutes=5)
    keep = PROFILE.keep_power(ADDRESS, True, valid_until=until, password=ADMIN)
    assert isinstance(exchange(meter, keep, MONDAY_9), Ack)
    exchange(meter, PROFILE.trip(ADDRESS, valid_until=until, password=ADMIN), MONDAY_9)
    status = read(meter, 0x04000503, MONDAY_9).value
    assert StatusWord3.KEEP_POWER in status
    assert StatusWord3.RELAY_OPEN not in status
    assert StatusWord1.REMOTE_COST_CONTROL in read(meter, 0x04000501, MONDAY_9).value


# --- security (03) and ciphered control -----------------------------------------------------


def test_deduction_trips_and_a_recharge_over_03_frames_closes_again(master):
    clock = ManualClock(MONDAY_9)
    meter = make(master, balance="1.00", kind="restaurant")
    while StatusWord3.RELAY_OPEN not in read(meter, 0x04000503, clock.now()).value:
        clock.advance(timedelta(minutes=1))
        assert clock.now() < MONDAY_9 + timedelta(hours=3)
    assert read(meter, 0x00900200, clock.now()).value == 0
    overdraft = read(meter, 0x00900201, clock.now()).value
    assert Decimal("0.01") <= overdraft <= Decimal("0.02")
    assert StatusWord1.OVERDRAFT in read(meter, 0x04000501, clock.now()).value

    session = authenticate(master, meter, clock.now())
    count = read(meter, 0x03330201, clock.now()).value + 1
    sealed = session.recharge(customer_number=ADDRESS, amount=Decimal("50.00"), purchase_count=2)
    assert count == 2
    reply = exchange(meter, PROFILE.recharge(ADDRESS, sealed), clock.now())
    assert reply == SecurityReply(ADDRESS, 0x070102FF, b"")
    status = read(meter, 0x04000503, clock.now()).value
    assert StatusWord3.RELAY_OPEN not in status
    assert read(meter, 0x00900200, clock.now()).value == Decimal("50.00") - overdraft
    assert read(meter, 0x03330201, clock.now()).value == 2

    replay = exchange(meter, PROFILE.recharge(ADDRESS, sealed), clock.now())
    assert replay == SecurityAbnormalReply(ADDRESS, SecurityErrorFlags.REPEATED_RECHARGE)
    assert read(meter, 0x03330201, clock.now()).value == 2
    assert read(meter, 0x00900200, clock.now()).value == Decimal("50.00") - overdraft


def test_a_wrong_mac_is_refused(master):
    meter = make(master, balance="10.00")
    session = authenticate(master, meter, MONDAY_9)
    sealed = session.recharge(customer_number=ADDRESS, amount=Decimal("5"), purchase_count=2)
    forged = sealed[:-1] + bytes((sealed[-1] ^ 0x01,))
    reply = exchange(meter, PROFILE.recharge(ADDRESS, forged), MONDAY_9)
    assert reply == SecurityAbnormalReply(ADDRESS, SecurityErrorFlags.ESAM_VERIFICATION_FAILED)
    assert meter.balance_fen == 1000


def test_recharge_without_authentication_and_after_expiry(master):
    meter = make(master, balance="10.00")
    session = authenticate(master, meter, MONDAY_9)
    sealed = session.recharge(customer_number=ADDRESS, amount=Decimal("5"), purchase_count=2)
    expired = MONDAY_9 + timedelta(minutes=6)
    reply = exchange(meter, PROFILE.recharge(ADDRESS, sealed), expired)
    assert reply == SecurityAbnormalReply(ADDRESS, SecurityErrorFlags.AUTHENTICATION_FAILED)


def test_wrong_key_authentication_is_refused():
    meter_master = MasterSecurity(MASTER_KEY, rng=random.Random(1).randbytes)
    meter = make(meter_master)
    other = MasterSecurity(
        MasterKey.from_hex("00112233445566778899AABBCCDDEEFF"), rng=random.Random(2).randbytes
    )
    request = other.begin_authentication(ADDRESS)
    reply = exchange(meter, PROFILE.authenticate(ADDRESS, request.payload), MONDAY_9)
    assert reply == SecurityAbnormalReply(ADDRESS, SecurityErrorFlags.AUTHENTICATION_FAILED)


def test_open_account_over_03_then_deduction_starts(master):
    meter = make(master, kind="restaurant")
    assert StatusWord3.LOCAL_ACCOUNT_NOT_OPENED in read(meter, 0x04000503, MONDAY_9).value
    session = authenticate(master, meter, MONDAY_9)
    sealed = session.open_account(customer_number="123", amount=Decimal("100"), purchase_count=1)
    reply = exchange(meter, PROFILE.open_account(ADDRESS, sealed), MONDAY_9)
    assert isinstance(reply, SecurityReply)
    assert read(meter, 0x0400040E, MONDAY_9).value == "000000000123"
    later = MONDAY_9 + timedelta(hours=1)
    assert read(meter, 0x00900200, later).value < Decimal("100")
    assert StatusWord3.LOCAL_ACCOUNT_NOT_OPENED not in read(meter, 0x04000503, later).value


def test_ciphered_control_trips_and_a_replay_is_refused(master):
    meter = make(master, cost_control="remote")
    session = authenticate(master, meter, MONDAY_9)
    cipher = session.remote_control(ControlCommand.TRIP, deadline=MONDAY_9 + timedelta(minutes=5))
    request = PROFILE.ciphered_control(ADDRESS, cipher)
    assert exchange(meter, request, MONDAY_9) == Ack(ADDRESS, Function.CONTROL)
    assert meter.relay_open
    meter.command(ControlCommand.DIRECT_CLOSE, MONDAY_9)
    replay = exchange(meter, request, MONDAY_9)
    assert replay == AbnormalReply(ADDRESS, Function.CONTROL, ErrorFlags.UNAUTHORIZED)
    assert not meter.relay_open
    stale = session.remote_control(ControlCommand.TRIP, deadline=MONDAY_9 - timedelta(minutes=1))
    reply = exchange(meter, PROFILE.ciphered_control(ADDRESS, stale), MONDAY_9)
    assert reply == AbnormalReply(ADDRESS, Function.CONTROL, ErrorFlags.OTHER)
    assert not meter.relay_open


def test_a_plain_read_is_fast(master):
    import timeit

    meter = make(master, balance="100.00")
    frame = decode_frame(encode_request(ReadRequest(ADDRESS, 0x0001FF00)))
    moments = [MONDAY_9 + timedelta(milliseconds=10 * i) for i in range(5000)]
    iterator = iter(moments)
    seconds = timeit.timeit(lambda: meter.handle_dlt645(frame, next(iterator)), number=5000)
    assert seconds / 5000 < 100e-6  # generous bound for slow CI; about 3 µs here
