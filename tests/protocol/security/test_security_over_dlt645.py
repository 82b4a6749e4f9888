"""The security payloads carried by the DL/T 645 codec: frame lengths, and a meter that only
sees the frame the master sent."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from openprepaid.protocol.dlt645 import decode_frame
from openprepaid.protocol.dlt645.requests import (
    CipheredControlRequest,
    SecurityRequest,
    encode_request,
    parse_request,
)
from openprepaid.protocol.security import (
    DI_IDENTITY_AUTHENTICATION,
    DI_RECHARGE,
    ControlCommand,
    WalletAccepted,
)

DEADLINE = datetime(2026, 11, 23, 20, 30)  # noqa: DTZ001 - meter wall-clock time


def _over_the_line(request):
    """Encode as the headend would, decode as the simulator would."""
    wire = encode_request(request)
    frame = decode_frame(wire)
    return frame, parse_request(frame)


def test_recharge_travels_in_a_03_frame(master, meter_a, now):
    request = master.begin_authentication(meter_a.address)
    frame, received = _over_the_line(
        SecurityRequest(meter_a.address, DI_IDENTITY_AUTHENTICATION, request.payload)
    )
    assert len(frame.data) == 0x20  # the State-Grid identity-authentication length
    accepted = meter_a.handle(received.di, received.data, now=now)
    session = master.complete_authentication(request, accepted.reply, now=now)

    opening = session.open_account(customer_number="7", amount=Decimal("10"), purchase_count=1)
    meter_a.open_account(opening, now=now)
    top_up = session.recharge(customer_number="7", amount=Decimal("2.50"), purchase_count=2)
    frame, received = _over_the_line(SecurityRequest(meter_a.address, DI_RECHARGE, top_up))
    assert len(frame.data) == 0x1C
    outcome = meter_a.handle(received.di, received.data, now=now)
    assert isinstance(outcome, WalletAccepted)
    assert outcome.balance_fen == 1250


def test_remote_control_travels_in_a_level_98_1c_frame(master, meter_a, now):
    request = master.begin_authentication(meter_a.address)
    session = master.complete_authentication(
        request, meter_a.authenticate(request.payload, now=now).reply, now=now
    )
    cipher = session.remote_control(ControlCommand.TRIP, deadline=DEADLINE)
    frame, received = _over_the_line(CipheredControlRequest(meter_a.address, cipher))
    assert len(frame.data) == 0x1C  # FACTS §2.1: L = 1CH for the level-98 form
    assert isinstance(received, CipheredControlRequest)
    assert meter_a.remote_control(received.ciphertext, now=now).action is ControlCommand.TRIP
