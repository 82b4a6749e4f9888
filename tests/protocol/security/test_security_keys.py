"""Key hierarchy: diversification layout, derivation by an independent path, no key in reprs."""

from __future__ import annotations

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from openprepaid.protocol.errors import LocalProtocolError
from openprepaid.protocol.security import MasterKey, MeterKey
from openprepaid.protocol.security.keys import derive_session_keys, diversification_factor

ADDRESS_A = "000012345678"
ADDRESS_B = "000012345679"


def _tdes_ecb(key: bytes, data: bytes) -> bytes:
    encryptor = Cipher(TripleDES(key), modes.ECB()).encryptor()  # noqa: S305
    return encryptor.update(data) + encryptor.finalize()


def test_diversification_factor_is_zero_padded_bcd_address():
    assert diversification_factor("000012345678") == bytes.fromhex("0000000012345678")
    assert diversification_factor("123456789012") == bytes.fromhex("0000123456789012")


@pytest.mark.parametrize("address", ["12345678", "00001234567A", "0000123456789", "", "１２"])
def test_bad_address_is_refused(address):
    with pytest.raises(LocalProtocolError):
        diversification_factor(address)


def test_meter_key_is_two_half_diversification(master_key, master_key_hex):
    raw = bytes.fromhex(master_key_hex)
    factor = bytes.fromhex("0000000012345678")
    expected = _tdes_ecb(raw, factor) + _tdes_ecb(raw, bytes(b ^ 0xFF for b in factor))
    assert MeterKey.derive(master_key, ADDRESS_A).secret == expected


def test_two_key_master_is_accepted_and_differs_per_meter():
    master = MasterKey(bytes.fromhex("0123456789ABCDEFFEDCBA9876543210"))
    a, b = MeterKey.derive(master, ADDRESS_A), MeterKey.derive(master, ADDRESS_B)
    assert len(a.secret) == len(b.secret) == 16
    assert a.secret != b.secret


@pytest.mark.parametrize(
    "raw",
    [
        bytes(8),
        bytes(32),
        bytes.fromhex("0123456789ABCDEF") * 2,
        bytes.fromhex("0123456789ABCDEF") * 3,
    ],
)
def test_bad_master_keys_are_refused(raw):
    with pytest.raises(LocalProtocolError):
        MasterKey(raw)


def test_bad_hex_master_key_message_does_not_echo_it():
    with pytest.raises(LocalProtocolError) as info:
        MasterKey.from_hex("0123456789ABCDEFZZ")
    assert "0123456789" not in str(info.value)


def test_session_keys_depend_on_both_randoms(master_key):
    meter_key = MeterKey.derive(master_key, ADDRESS_A)
    base = derive_session_keys(meter_key, bytes(range(8)), b"\x01\x02\x03\x04")
    other_r1 = derive_session_keys(meter_key, bytes(range(1, 9)), b"\x01\x02\x03\x04")
    other_r2 = derive_session_keys(meter_key, bytes(range(8)), b"\x01\x02\x03\x05")
    assert len(base.encryption) == len(base.mac) == 16
    assert base.encryption != base.mac
    assert len({base.encryption, other_r1.encryption, other_r2.encryption}) == 3


def _hexes(secret: bytes) -> list[str]:
    return [secret.hex(), secret.hex().upper(), secret[:8].hex(), repr(secret)]


def test_key_objects_never_show_key_bytes(master_key, master, meter_a, now):
    meter_key = master.meter_key(ADDRESS_A)
    request = master.begin_authentication(ADDRESS_A)
    accepted = meter_a.authenticate(request.payload, now=now)
    session = master.complete_authentication(request, accepted.reply, now=now)
    secrets = [master_key.secret, meter_key.secret, session.keys.encryption, session.keys.mac]
    shown = " ".join(
        text
        for obj in (master_key, meter_key, session.keys, session, master, meter_a, request)
        for text in (repr(obj), str(obj), f"{obj}", f"{obj!r}")
    )
    for secret in secrets:
        for form in _hexes(secret):
            assert form not in shown
    assert "redacted" in repr(master_key)
    assert "redacted" in str(meter_key)
