"""Known-answer tests of the primitives, and an independent path for the retail MAC and CBC."""

from __future__ import annotations

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from hypothesis import given
from hypothesis import strategies as st

from openprepaid.protocol.errors import LocalProtocolError, RemoteProtocolError
from openprepaid.protocol.security.crypto import (
    cbc_decrypt,
    cbc_encrypt,
    ecb_decrypt,
    ecb_encrypt,
    pad_iso7816,
    retail_mac,
    unpad_iso7816,
)

# NIST SP 800-67 Rev. 1, example of TDEA in ECB mode (keys K1, K2, K3; note the "qufck").
SP800_67_KEY = bytes.fromhex("0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123")
SP800_67_PLAIN = b"The qufck brown fox jump"
SP800_67_CIPHER = bytes.fromhex("A826FD8CE53B855FCCE21C8112256FE668D5C05DD9B6B900")

# ISO/IEC 9797-1 Annex B (MAC algorithm 3, K = 0123456789ABCDEF, K' = FEDCBA9876543210); the
# padding-method-1 values are also the ANSI X9.19 example and the RustCrypto retail-mac doc test.
RETAIL_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
STRING1 = b"Now is the time for all "
STRING2 = b"Now is the time for it"


def test_tdes_ecb_sp800_67_example():
    assert ecb_encrypt(SP800_67_KEY, SP800_67_PLAIN) == SP800_67_CIPHER
    assert ecb_decrypt(SP800_67_KEY, SP800_67_CIPHER) == SP800_67_PLAIN


@pytest.mark.parametrize(
    ("plain", "cipher"),
    [
        # NIST SP 800-20 Table A.1 (variable plaintext KAT), K1 = K2 = K3 = 01…01.
        ("8000000000000000", "95F8A5E5DD31D900"),
        ("4000000000000000", "DD7F121CA5015619"),
        ("0000000000000001", "166B40B44ABA4BD6"),
    ],
)
def test_tdes_sp800_20_variable_plaintext_kat(plain, cipher):
    key = bytes.fromhex("0101010101010101") * 3
    assert ecb_encrypt(key, bytes.fromhex(plain)).hex().upper() == cipher


def test_tdes_two_key_is_k1_k2_k1():
    two_key = SP800_67_KEY[:16]
    block = b"\x00\x11\x22\x33\x44\x55\x66\x77"
    assert ecb_encrypt(two_key, block) == ecb_encrypt(two_key + two_key[:8], block)


@pytest.mark.parametrize(
    ("data", "pad", "expected"),
    [
        (STRING1, False, "A1C72E74EA3FA9B6"),
        (STRING2 + b"\x00\x00", False, "2E2B1428CC78254F"),
        (STRING1, True, "E9086230CA3BE796"),
        (STRING2, True, "5A692CE64F404145"),
    ],
)
def test_retail_mac_iso9797_annex_b(data, pad, expected):
    assert retail_mac(RETAIL_KEY, data, pad=pad).hex().upper() == expected


def _des_block(key8: bytes, block: bytes, *, decrypt: bool = False) -> bytes:
    cipher = Cipher(TripleDES(key8 * 3), modes.ECB())  # noqa: S305 - one block at a time
    op = cipher.decryptor() if decrypt else cipher.encryptor()
    return op.update(block) + op.finalize()


def _retail_mac_by_hand(key: bytes, data: bytes) -> bytes:
    """ISO 9797-1 MAC algorithm 3 from single-DES block operations, as the standard states it."""
    k, k_prime = key[:8], key[8:]
    data = data + b"\x80" + bytes(-(len(data) + 1) % 8)
    h = bytes(8)
    for i in range(0, len(data), 8):
        h = _des_block(k, bytes(a ^ b for a, b in zip(h, data[i : i + 8], strict=True)))
    return _des_block(k, _des_block(k_prime, h, decrypt=True))


@given(key=st.binary(min_size=16, max_size=16), data=st.binary(max_size=80))
def test_retail_mac_matches_single_des_composition(key, data):
    assert retail_mac(key, data) == _retail_mac_by_hand(key, data)


@given(
    key=st.binary(min_size=24, max_size=24),
    blocks=st.integers(1, 6).flatmap(lambda n: st.binary(min_size=8 * n, max_size=8 * n)),
    iv=st.binary(min_size=8, max_size=8),
)
def test_cbc_matches_ecb_chaining(key, blocks, iv):
    expected, chain = b"", iv
    for i in range(0, len(blocks), 8):
        chain = ecb_encrypt(
            key, bytes(a ^ b for a, b in zip(chain, blocks[i : i + 8], strict=True))
        )
        expected += chain
    assert cbc_encrypt(key, blocks, iv) == expected
    assert cbc_decrypt(key, expected, iv) == blocks


@given(st.binary(max_size=40))
def test_iso7816_padding_round_trip(data):
    padded = pad_iso7816(data)
    assert len(padded) % 8 == 0
    assert len(data) < len(padded) <= len(data) + 8
    assert unpad_iso7816(padded) == data


@pytest.mark.parametrize(
    "bad",
    [b"", bytes(8), b"\x01" * 8, b"\x80" + bytes(6), b"abcdefg\x80" + bytes(8)],
)
def test_bad_padding_is_remote_error(bad):
    with pytest.raises(RemoteProtocolError):
        unpad_iso7816(bad)


@pytest.mark.parametrize(
    "call",
    [
        lambda: ecb_encrypt(bytes(8), bytes(8)),
        lambda: ecb_encrypt(bytes(16), bytes(7)),
        lambda: retail_mac(bytes(24), b"x"),
        lambda: retail_mac(bytes(16), b"", pad=False),
    ],
)
def test_bad_lengths_are_local_errors(call):
    with pytest.raises(LocalProtocolError):
        call()
