"""Worked example of docs/security.md: pinned bytes, each recomputed here straight from the
``cryptography`` library by the documented formulas, independently of the module's code."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from openprepaid.protocol.security import (
    ControlCommand,
    MasterKey,
    MasterSecurity,
    MeterSecurityModule,
    WalletAccepted,
)

MK = bytes.fromhex("0123456789ABCDEF FEDCBA9876543210 89ABCDEF01234567")
ADDRESS = "000012345678"
R1 = bytes.fromhex("1122334455667788")
R2 = bytes.fromhex("99AABBCC")
SERIAL = bytes.fromhex("A1B2C3D4E5F60718")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DEADLINE = datetime(2026, 11, 23, 20, 30)  # noqa: DTZ001 - meter wall-clock time

K_METER = "FD188344A61611F83EEAB3F495B8F5D8"
AUTH_REQUEST = "D3F782112B70D19B11223344556677880000000012345678"
AUTH_REPLY = "99AABBCCA1B2C3D4E5F60718"
SK_ENC = "9CFCAC941FAA5412CB698A772CBFA2C2"
SK_MAC = "F9B2739CF16B95473959B266C84267BC"
OPEN_ACCOUNT = "24B11C5BE2CDE1A0059A9D1F8AB0D06EF4470278"
RECHARGE = "4A7A7C1D207CA9205ABE5DB2BD02C0DAC84BCE83"
REMOTE_TRIP = "262ED712C57A3911B6845FA172D5F20752459568"


def _tdes(key: bytes) -> TripleDES:
    return TripleDES(key if len(key) == 24 else key + key[:8])


def _ecb(key: bytes, data: bytes) -> bytes:
    enc = Cipher(_tdes(key), modes.ECB()).encryptor()  # noqa: S305
    return enc.update(data) + enc.finalize()


def _cbc(key: bytes, data: bytes) -> bytes:
    enc = Cipher(_tdes(key), modes.CBC(bytes(8))).encryptor()
    return enc.update(data) + enc.finalize()


def _retail_mac4(key: bytes, data: bytes) -> bytes:
    data += b"\x80" + bytes(-(len(data) + 1) % 8)
    chain = bytes(8)
    for i in range(0, len(data) - 8, 8):
        chain = _ecb(key[:8] * 3, bytes(a ^ b for a, b in zip(chain, data[i : i + 8], strict=True)))
    last = bytes(a ^ b for a, b in zip(chain, data[-8:], strict=True))
    return _ecb(key, last)[:4]


def _sealed(sk_enc: bytes, sk_mac: bytes, command_id: bytes, plaintext: bytes) -> str:
    padded = plaintext + b"\x80" + bytes(-(len(plaintext) + 1) % 8)
    ciphertext = _cbc(sk_enc, padded)
    mac = _retail_mac4(sk_mac, command_id + bytes.fromhex(ADDRESS) + ciphertext)
    return (ciphertext + mac).hex().upper()


def test_pinned_values_follow_the_documented_formulas():
    factor = bytes.fromhex("0000" + ADDRESS)
    k_meter = _ecb(MK, factor) + _ecb(MK, bytes(b ^ 0xFF for b in factor))
    assert k_meter.hex().upper() == K_METER
    assert (_ecb(k_meter, R1) + R1 + factor).hex().upper() == AUTH_REQUEST

    def half(purpose: int, n: int) -> bytes:
        return _cbc(k_meter, R1 + R2 + bytes((purpose, n, 0, 0)))[-8:]

    sk_enc, sk_mac = half(1, 1) + half(1, 2), half(2, 1) + half(2, 2)
    assert (sk_enc.hex().upper(), sk_mac.hex().upper()) == (SK_ENC, SK_MAC)

    customer = bytes.fromhex("000000100023")
    open_plain = (10000).to_bytes(4, "big") + (1).to_bytes(4, "big") + customer
    top_plain = (5050).to_bytes(4, "big") + (2).to_bytes(4, "big") + customer
    trip_plain = bytes.fromhex("1A00003020231126") + (1).to_bytes(4, "big")
    assert _sealed(sk_enc, sk_mac, bytes.fromhex("070101FF"), open_plain) == OPEN_ACCOUNT
    assert _sealed(sk_enc, sk_mac, bytes.fromhex("070102FF"), top_plain) == RECHARGE
    assert _sealed(sk_enc, sk_mac, bytes.fromhex("1C980000"), trip_plain) == REMOTE_TRIP


def test_module_reproduces_the_worked_example():
    master = MasterSecurity(MasterKey(MK))
    assert master.meter_key(ADDRESS).secret.hex().upper() == K_METER
    request = master.begin_authentication(ADDRESS, random1=R1)
    assert request.payload.hex().upper() == AUTH_REQUEST
    meter = MeterSecurityModule(master.meter_key(ADDRESS), esam_serial=SERIAL, rng=lambda n: R2)
    accepted = meter.authenticate(request.payload, now=NOW)
    assert accepted.reply.hex().upper() == AUTH_REPLY
    session = master.complete_authentication(request, accepted.reply, now=NOW)
    assert session.keys.encryption.hex().upper() == SK_ENC
    assert session.keys.mac.hex().upper() == SK_MAC

    opening = session.open_account(
        customer_number="100023", amount=Decimal("100.00"), purchase_count=1
    )
    top_up = session.recharge(customer_number="100023", amount=Decimal("50.50"), purchase_count=2)
    trip = session.remote_control(ControlCommand.TRIP, deadline=DEADLINE)
    assert (opening.hex().upper(), top_up.hex().upper(), trip.hex().upper()) == (
        OPEN_ACCOUNT,
        RECHARGE,
        REMOTE_TRIP,
    )
    assert isinstance(meter.open_account(opening, now=NOW), WalletAccepted)
    assert meter.recharge(top_up, now=NOW).balance_fen == 15050
    assert meter.remote_control(trip, now=NOW).action is ControlCommand.TRIP
