"""The Modbus recharge MAC (docs/security.md, "Modbus recharge")."""

from __future__ import annotations

from decimal import Decimal

import pytest

from openprepaid.protocol.errors import LocalProtocolError
from openprepaid.protocol.modbus.acrel import DDSY1352, SIM_RECHARGE
from openprepaid.protocol.security import (
    MeterKey,
    modbus_recharge_mac,
    modbus_recharge_request,
    verify_modbus_recharge_mac,
)


def test_mac_is_four_bytes_and_deterministic(master):
    key = master.meter_key("910001000001")
    mac = modbus_recharge_mac(key, amount_fen=5000, purchase_count=3)
    assert len(mac) == 4
    assert mac == modbus_recharge_mac(key, amount_fen=5000, purchase_count=3)
    assert verify_modbus_recharge_mac(key, amount_fen=5000, purchase_count=3, mac=mac)


def test_mac_binds_meter_amount_and_count(master):
    key = master.meter_key("910001000001")
    mac = modbus_recharge_mac(key, amount_fen=5000, purchase_count=3)
    other = master.meter_key("910001000002")
    assert modbus_recharge_mac(other, amount_fen=5000, purchase_count=3) != mac
    assert modbus_recharge_mac(key, amount_fen=5001, purchase_count=3) != mac
    assert modbus_recharge_mac(key, amount_fen=5000, purchase_count=4) != mac
    assert not verify_modbus_recharge_mac(key, amount_fen=5000, purchase_count=4, mac=mac)


def test_mac_is_not_the_session_mac_of_the_meter_key(master):
    key = master.meter_key("910001000001")
    same_secret = MeterKey("910001000001", key.secret)
    assert modbus_recharge_mac(same_secret, amount_fen=1, purchase_count=1) == (
        modbus_recharge_mac(key, amount_fen=1, purchase_count=1)
    )


def test_request_from_master_or_meter_key_is_the_same_write(master):
    key = master.meter_key("910001000001")
    by_master = modbus_recharge_request(
        master, meter_number="910001000001", amount=Decimal("12.34"), purchase_count=2
    )
    by_key = modbus_recharge_request(key, amount=Decimal("12.34"), purchase_count=2)
    assert by_master == by_key
    assert by_master.address == SIM_RECHARGE[0].address
    values = DDSY1352.by_name("recharge_amount").decode(by_master.values[0:2])
    assert values == Decimal("12.34")
    mac_words = by_master.values[4:6]
    mac = (mac_words[0] << 16 | mac_words[1]).to_bytes(4, "big")
    assert verify_modbus_recharge_mac(key, amount_fen=1234, purchase_count=2, mac=mac)


def test_bad_inputs_are_refused(master):
    key = master.meter_key("910001000001")
    with pytest.raises(LocalProtocolError):
        modbus_recharge_mac(key, amount_fen=-1, purchase_count=1)
    with pytest.raises(LocalProtocolError):
        modbus_recharge_request(master, amount=Decimal("1"), purchase_count=1)
    with pytest.raises(LocalProtocolError):
        modbus_recharge_request(key, amount=Decimal("0.001"), purchase_count=1)
