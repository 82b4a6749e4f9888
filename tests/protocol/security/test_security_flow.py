"""Master ↔ meter: identity authentication, open account, recharge, remote control, refusals."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from openprepaid.protocol.errors import LocalProtocolError, RemoteProtocolError
from openprepaid.protocol.security import (
    DI_IDENTITY_AUTHENTICATION,
    DI_OPEN_ACCOUNT,
    DI_RECHARGE,
    AuthenticationAccepted,
    ControlCommand,
    RemoteControlAccepted,
    SecurityErrorFlags,
    SecurityRefusal,
    WalletAccepted,
    WalletCommand,
)

SERR = SecurityErrorFlags
CUSTOMER = "100023"
DEADLINE = datetime(2026, 11, 23, 20, 30)  # noqa: DTZ001 - meter wall-clock time


def authenticate(master, meter, now):
    request = master.begin_authentication(meter.address)
    accepted = meter.authenticate(request.payload, now=now)
    assert isinstance(accepted, AuthenticationAccepted)
    return master.complete_authentication(request, accepted.reply, now=now)


def refused(outcome, flags):
    assert isinstance(outcome, SecurityRefusal), outcome
    assert outcome.flags == flags, outcome
    return True


@pytest.fixture
def opened(master, meter_a, now):
    """Meter A authenticated and opened for CUSTOMER with 100.00 yuan, purchase count 1."""
    session = authenticate(master, meter_a, now)
    payload = session.open_account(
        customer_number=CUSTOMER, amount=Decimal("100.00"), purchase_count=1
    )
    outcome = meter_a.open_account(payload, now=now)
    assert outcome == WalletAccepted(
        command=WalletCommand.OPEN_ACCOUNT,
        amount_fen=10000,
        purchase_count=1,
        customer_number="000000100023",
        balance_fen=10000,
    )
    return session


def test_authentication_payloads_have_the_state_grid_lengths(master, meter_a, now):
    request = master.begin_authentication(meter_a.address)
    assert request.di == DI_IDENTITY_AUTHENTICATION == 0x070000FF
    assert len(request.payload) == 24  # with DI and operator code: L = 20H
    assert request.payload[8:16] == request.random1
    assert request.payload[16:] == bytes.fromhex("0000000012345678")
    accepted = meter_a.authenticate(request.payload, now=now)
    assert len(accepted.reply) == 12
    assert accepted.reply[4:] == bytes.fromhex("A1B2C3D4E5F60718")
    assert accepted.expires_at == now + timedelta(minutes=5)
    session = master.complete_authentication(request, accepted.reply, now=now)
    assert session.esam_serial == accepted.reply[4:]
    assert session.expires_at == accepted.expires_at
    assert meter_a.has_session(now)


def test_open_account_then_recharge_n_plus_one(master, meter_a, now, opened):
    payload = opened.recharge(customer_number=CUSTOMER, amount=Decimal("50.5"), purchase_count=2)
    assert len(payload) == 20  # with DI and operator code: L = 1CH
    outcome = meter_a.recharge(payload, now=now + timedelta(minutes=1))
    assert isinstance(outcome, WalletAccepted)
    assert (outcome.amount_fen, outcome.purchase_count, outcome.balance_fen) == (5050, 2, 15050)
    assert meter_a.wallet.balance_fen == 15050
    assert meter_a.wallet.purchase_count == 2


def test_replayed_recharge_is_repeated_and_changes_nothing(master, meter_a, now, opened):
    payload = opened.recharge(customer_number=CUSTOMER, amount=Decimal("20"), purchase_count=2)
    assert isinstance(meter_a.recharge(payload, now=now), WalletAccepted)
    assert refused(meter_a.recharge(payload, now=now), SERR.REPEATED_RECHARGE)
    assert meter_a.wallet.balance_fen == 12000


def test_replayed_open_account_is_repeated(master, meter_a, now, opened):
    again = opened.open_account(customer_number=CUSTOMER, amount=Decimal("100"), purchase_count=1)
    assert refused(meter_a.open_account(again, now=now), SERR.REPEATED_RECHARGE)
    assert meter_a.wallet.balance_fen == 10000


@pytest.mark.parametrize("count", [0, 3, 4, 2**32 - 1])
def test_count_other_than_stored_plus_one_is_count_error(master, meter_a, now, opened, count):
    payload = opened.recharge(customer_number=CUSTOMER, amount=Decimal("1"), purchase_count=count)
    assert refused(meter_a.recharge(payload, now=now), SERR.RECHARGE_COUNT_ERROR)
    assert meter_a.wallet.purchase_count == 1


@pytest.mark.parametrize("where", [0, 7, 15, 16, 19])
def test_any_flipped_byte_fails_esam_verification(master, meter_a, now, opened, where):
    payload = bytearray(
        opened.recharge(customer_number=CUSTOMER, amount=Decimal("1"), purchase_count=2)
    )
    payload[where] ^= 0x01
    assert refused(meter_a.recharge(bytes(payload), now=now), SERR.ESAM_VERIFICATION_FAILED)
    assert meter_a.wallet.balance_fen == 10000


@pytest.mark.parametrize("length", [0, 19, 21, 28])
def test_wrong_length_fails_esam_verification(master, meter_a, now, opened, length):
    assert refused(meter_a.recharge(bytes(length), now=now), SERR.ESAM_VERIFICATION_FAILED)


def test_recharge_payload_is_not_an_open_account_payload(master, meter_a, now, opened):
    payload = opened.recharge(customer_number=CUSTOMER, amount=Decimal("1"), purchase_count=2)
    assert refused(meter_a.open_account(payload, now=now), SERR.ESAM_VERIFICATION_FAILED)


def test_frame_for_meter_a_fails_on_meter_b(master, meter_a, meter_b, now, opened):
    authenticate(master, meter_b, now)
    payload = opened.recharge(customer_number=CUSTOMER, amount=Decimal("1"), purchase_count=1)
    assert refused(meter_b.open_account(payload, now=now), SERR.ESAM_VERIFICATION_FAILED)
    assert refused(meter_b.recharge(payload, now=now), SERR.ESAM_VERIFICATION_FAILED)
    assert meter_b.wallet.balance_fen == 0


def test_authentication_for_meter_a_fails_on_meter_b(master, meter_a, meter_b, now):
    request = master.begin_authentication(meter_a.address)
    assert refused(meter_b.authenticate(request.payload, now=now), SERR.AUTHENTICATION_FAILED)
    assert not meter_b.has_session(now)


def test_authentication_with_wrong_cryptogram_fails_and_drops_session(master, meter_a, now):
    authenticate(master, meter_a, now)
    payload = bytearray(master.begin_authentication(meter_a.address).payload)
    payload[0] ^= 0x80
    assert refused(meter_a.authenticate(bytes(payload), now=now), SERR.AUTHENTICATION_FAILED)
    assert not meter_a.has_session(now)
    assert refused(meter_a.authenticate(b"short", now=now), SERR.AUTHENTICATION_FAILED)


def test_wrong_customer_number_is_bit_4(master, meter_a, now, opened):
    payload = opened.recharge(customer_number="100024", amount=Decimal("1"), purchase_count=2)
    assert refused(meter_a.recharge(payload, now=now), SERR.CUSTOMER_NUMBER_MISMATCH)


def test_recharge_before_open_account_is_bit_4(master, meter_a, now):
    session = authenticate(master, meter_a, now)
    payload = session.recharge(customer_number=CUSTOMER, amount=Decimal("1"), purchase_count=1)
    assert refused(meter_a.recharge(payload, now=now), SERR.CUSTOMER_NUMBER_MISMATCH)


def test_hoarding_limit_is_bit_6(master, make_meter, now):
    meter = make_meter("000012345678", hoarding_limit_fen=50000)
    session = authenticate(master, meter, now)
    first = session.open_account(customer_number=CUSTOMER, amount=Decimal("300"), purchase_count=1)
    assert isinstance(meter.open_account(first, now=now), WalletAccepted)
    over = session.recharge(customer_number=CUSTOMER, amount=Decimal("200.01"), purchase_count=2)
    assert refused(meter.recharge(over, now=now), SERR.PURCHASE_EXCEEDS_HOARDING_LIMIT)
    exact = session.recharge(customer_number=CUSTOMER, amount=Decimal("200.00"), purchase_count=2)
    assert meter.recharge(exact, now=now).balance_fen == 50000


def test_no_session_is_bit_3(master, meter_a, now):
    session = authenticate(master, meter_a, now)
    meter_a.invalidate_session()
    payload = session.open_account(customer_number=CUSTOMER, amount=Decimal("1"), purchase_count=1)
    assert refused(meter_a.open_account(payload, now=now), SERR.AUTHENTICATION_FAILED)
    control = session.remote_control(ControlCommand.TRIP, deadline=DEADLINE)
    assert refused(meter_a.remote_control(control, now=now), SERR.AUTHENTICATION_FAILED)


def test_expired_session_is_bit_3(master, meter_a, now, opened):
    payload = opened.recharge(customer_number=CUSTOMER, amount=Decimal("1"), purchase_count=2)
    later = now + timedelta(minutes=5)
    assert opened.is_expired(later)
    assert refused(meter_a.recharge(payload, now=later), SERR.AUTHENTICATION_FAILED)
    assert not meter_a.has_session(now)  # expiry is final, even for an earlier clock reading
    fresh = authenticate(master, meter_a, later)
    payload = fresh.recharge(customer_number=CUSTOMER, amount=Decimal("1"), purchase_count=2)
    assert isinstance(meter_a.recharge(payload, now=later), WalletAccepted)


def test_remote_control_round_trip_and_replay(master, meter_a, now):
    session = authenticate(master, meter_a, now)
    trip = session.remote_control(ControlCommand.TRIP, deadline=DEADLINE)
    close = session.remote_control(ControlCommand.DIRECT_CLOSE, deadline=DEADLINE)
    assert len(trip) == len(close) == 20  # with 98 00 00 00 and C0..C3: L = 1CH
    assert meter_a.remote_control(trip, now=now) == RemoteControlAccepted(
        ControlCommand.TRIP, DEADLINE, 1
    )
    assert meter_a.remote_control(close, now=now).action is ControlCommand.DIRECT_CLOSE
    assert refused(meter_a.remote_control(trip, now=now), SERR.ESAM_VERIFICATION_FAILED)
    assert refused(meter_a.remote_control(close, now=now), SERR.ESAM_VERIFICATION_FAILED)


def test_remote_control_is_bound_to_its_command(master, meter_a, now, opened):
    control = opened.remote_control(ControlCommand.KEEP_POWER, deadline=DEADLINE)
    assert refused(meter_a.recharge(control, now=now), SERR.ESAM_VERIFICATION_FAILED)
    flipped = bytes([control[0] ^ 1]) + control[1:]
    assert refused(meter_a.remote_control(flipped, now=now), SERR.ESAM_VERIFICATION_FAILED)


def test_handle_dispatches_by_di(master, meter_a, now):
    request = master.begin_authentication(meter_a.address)
    accepted = meter_a.handle(DI_IDENTITY_AUTHENTICATION, request.payload, now=now)
    session = master.complete_authentication(request, accepted.reply, now=now)
    opening = session.open_account(customer_number=CUSTOMER, amount=Decimal("5"), purchase_count=1)
    assert isinstance(meter_a.handle(DI_OPEN_ACCOUNT, opening, now=now), WalletAccepted)
    top_up = session.recharge(customer_number=CUSTOMER, amount=Decimal("5"), purchase_count=2)
    assert meter_a.handle(DI_RECHARGE, top_up, now=now).balance_fen == 1000
    assert refused(meter_a.handle(0x070103FF, b"", now=now), SERR.OTHER)


def test_deduct_moves_the_wallet(meter_a):
    assert meter_a.deduct(150) == -150
    with pytest.raises(LocalProtocolError):
        meter_a.deduct(-1)


def test_bad_authentication_reply_is_remote_error(master, meter_a, now):
    request = master.begin_authentication(meter_a.address)
    with pytest.raises(RemoteProtocolError):
        master.complete_authentication(request, bytes(11), now=now)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"amount": Decimal("1.001")},
        {"amount": Decimal("-1")},
        {"amount": Decimal("NaN")},
        {"amount": 1.5},
        {"amount": Decimal("42949672.96")},
        {"purchase_count": -1},
        {"purchase_count": 2**32},
        {"purchase_count": True},
        {"customer_number": "1234567890123"},
        {"customer_number": "12a"},
        {"customer_number": ""},
    ],
)
def test_bad_orders_are_local_errors(master, meter_a, now, kwargs):
    session = authenticate(master, meter_a, now)
    order = {"customer_number": CUSTOMER, "amount": Decimal("1"), "purchase_count": 1} | kwargs
    with pytest.raises(LocalProtocolError):
        session.recharge(**order)


def test_bad_remote_orders_are_local_errors(master, meter_a, now):
    session = authenticate(master, meter_a, now)
    with pytest.raises(LocalProtocolError):
        session.remote_control(ControlCommand.TRIP, deadline=now)  # aware: not meter time
    with pytest.raises(LocalProtocolError):
        session.remote_control(ControlCommand.TRIP, deadline=datetime(2100, 1, 1))  # noqa: DTZ001
    with pytest.raises(LocalProtocolError):
        session.remote_control(0x1A, deadline=DEADLINE)
    assert session.next_counter == 1


def test_refusal_flags_are_the_codec_serr_bits_of_facts_2_3():
    from openprepaid.protocol.dlt645 import SecurityErrorFlags as CodecFlags

    assert SERR is CodecFlags
    used = {
        SERR.OTHER: 0,
        SERR.REPEATED_RECHARGE: 1,
        SERR.ESAM_VERIFICATION_FAILED: 2,
        SERR.AUTHENTICATION_FAILED: 3,
        SERR.CUSTOMER_NUMBER_MISMATCH: 4,
        SERR.RECHARGE_COUNT_ERROR: 5,
        SERR.PURCHASE_EXCEEDS_HOARDING_LIMIT: 6,
    }
    assert all(flag.value == 1 << bit for flag, bit in used.items())
