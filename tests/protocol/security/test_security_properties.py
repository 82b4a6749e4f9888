"""Property tests: what the master seals, the meter opens exactly; garbage never gets through."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openprepaid.protocol.errors import LocalProtocolError
from openprepaid.protocol.security import (
    AuthenticationAccepted,
    ControlCommand,
    MasterKey,
    MasterSecurity,
    MeterSecurityModule,
    SecurityRefusal,
    WalletAccepted,
    fen_to_yuan,
    yuan_to_fen,
)

FIXTURES = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
addresses = st.text("0123456789", min_size=12, max_size=12)
customers = st.text("0123456789", min_size=1, max_size=12)
fens = st.integers(0, 2**32 - 1)
counts = st.integers(1, 2**32 - 1)
seeds = st.binary(min_size=8, max_size=8)
master_keys = st.binary(min_size=24, max_size=24).filter(
    lambda k: k[:8] != k[8:16] and k[8:16] != k[16:]
)


def _pair(raw_key: bytes, address: str, random2: bytes, **meter_kwargs):
    master = MasterSecurity(MasterKey(raw_key), rng=lambda n: bytes(n))
    meter = MeterSecurityModule(
        master.meter_key(address),
        esam_serial=bytes(8),
        rng=lambda n: random2[:n],
        **meter_kwargs,
    )
    return master, meter


def _session(master, meter, random1: bytes, now):
    request = master.begin_authentication(meter.address, random1=random1)
    accepted = meter.authenticate(request.payload, now=now)
    assert isinstance(accepted, AuthenticationAccepted)
    return master.complete_authentication(request, accepted.reply, now=now)


@FIXTURES
@given(
    raw_key=master_keys,
    address=addresses,
    random1=seeds,
    random2=seeds,
    customer=customers,
    fen=fens,
    count=counts,
    opening=st.booleans(),
)
def test_meter_applies_exactly_what_the_master_sealed(
    now, raw_key, address, random1, random2, customer, fen, count, opening
):
    stored = None if opening else customer.zfill(12)
    master, meter = _pair(
        raw_key, address, random2, customer_number=stored, purchase_count=count - 1
    )
    session = _session(master, meter, random1, now)
    amount = fen_to_yuan(fen)
    build = session.open_account if opening else session.recharge
    payload = build(customer_number=customer, amount=amount, purchase_count=count)
    outcome = (meter.open_account if opening else meter.recharge)(payload, now=now)
    assert isinstance(outcome, WalletAccepted)
    assert outcome.amount_fen == fen
    assert outcome.purchase_count == count
    assert outcome.customer_number == customer.zfill(12)
    assert meter.wallet.balance_fen == fen


@FIXTURES
@given(
    raw_key=master_keys,
    address=addresses,
    random1=seeds,
    random2=seeds,
    action=st.sampled_from(ControlCommand),
    deadline=st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31, 23, 59, 59)),  # noqa: DTZ001
    skip=st.integers(0, 1000),
)
def test_remote_control_round_trip(now, raw_key, address, random1, random2, action, deadline, skip):
    master, meter = _pair(raw_key, address, random2)
    session = _session(master, meter, random1, now)
    session.next_counter += skip
    outcome = meter.remote_control(session.remote_control(action, deadline=deadline), now=now)
    assert (outcome.action, outcome.counter) == (action, 1 + skip)
    assert outcome.deadline == deadline.replace(microsecond=0)


@FIXTURES
@given(garbage=st.binary(max_size=40), which=st.sampled_from(["auth", "open", "top", "1c"]))
def test_meter_refuses_garbage_without_raising(master, make_meter, now, garbage, which):
    meter = make_meter("000012345678")
    _session(master, meter, bytes(8), now)
    call = {
        "auth": meter.authenticate,
        "open": meter.open_account,
        "top": meter.recharge,
        "1c": meter.remote_control,
    }[which]
    assert isinstance(call(garbage, now=now), SecurityRefusal)


@given(fen=fens)
def test_fen_yuan_round_trip(fen):
    assert yuan_to_fen(fen_to_yuan(fen)) == fen


@given(
    value=st.decimals(min_value=0, max_value=Decimal("42949672.95"), places=6),
)
def test_sub_fen_amounts_are_refused(value):
    if value == value.quantize(Decimal("0.01")):
        assert yuan_to_fen(value) == int(value * 100)
    else:
        with pytest.raises(LocalProtocolError):
            yuan_to_fen(value)


@FIXTURES
@given(raw_key=master_keys, customer=customers, count=st.integers(-5, 2**33))
def test_errors_never_carry_key_material(now, raw_key, customer, count):
    master, meter = _pair(raw_key, "000012345678", bytes(8))
    session = _session(master, meter, bytes(8), now)
    secrets = [raw_key, master.meter_key(meter.address).secret, session.keys.mac]
    messages = []
    for amount in (Decimal("0.001"), Decimal(-1)):
        try:
            session.recharge(customer_number=customer, amount=amount, purchase_count=count)
        except LocalProtocolError as exc:
            messages.append(str(exc) + repr(exc))
    outcome = meter.recharge(bytes(20), now=now)
    messages.append(repr(outcome))
    text = " ".join(messages).lower()
    assert messages
    for secret in secrets:
        assert secret.hex() not in text
