"""The link layer: Frame, encode_frame, decode_frame (FACTS §1)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openprepaid.protocol.dlt645 import Frame, Function, decode_frame, encode_frame
from openprepaid.protocol.errors import LocalProtocolError, RemoteProtocolError

READ_ADDRESS = bytes.fromhex("68 AA AA AA AA AA AA 68 13 00 DF 16")


def test_encode_wraps_data_with_preamble_address_offset_and_checksum():
    frame = Frame("123456789012", 0x11, bytes.fromhex("00 00 01 00"))
    checksum = (
        0x68 * 2 + 0x12 + 0x90 + 0x78 + 0x56 + 0x34 + 0x12 + 0x11 + 4 + 0x33 * 3 + 0x34
    ) & 0xFF
    assert encode_frame(frame).hex(" ").upper() == (
        f"FE FE FE FE 68 12 90 78 56 34 12 68 11 04 33 33 34 33 {checksum:02X} 16"
    )
    assert encode_frame(Frame("AAAAAAAAAAAA", 0x13), preamble=0) == READ_ADDRESS


def test_control_byte_properties():
    frame = Frame("000000000001", 0xB1)
    assert (frame.is_response, frame.follow_up, frame.abnormal) == (True, True, False)
    assert (frame.function, frame.function_code) == (Function.READ, 0x11)
    refused = Frame("000000000001", 0xD4)
    assert (refused.abnormal, refused.function) == (True, Function.WRITE)
    assert Frame("000000000001", 0x1F).function is None


@pytest.mark.parametrize(
    "address", ["12345678901", "1234567890123", "12345678901F", "AB0000000000", 123456789012]
)
def test_bad_addresses_are_our_fault(address):
    with pytest.raises(LocalProtocolError):
        Frame(address, 0x11)


def test_data_longer_than_255_bytes_is_refused():
    with pytest.raises(LocalProtocolError):
        Frame("000000000001", 0x14, bytes(256))
    with pytest.raises(LocalProtocolError):
        Frame("000000000001", 0x100)
    with pytest.raises(LocalProtocolError):
        Frame("000000000001", None)
    with pytest.raises(LocalProtocolError):
        Frame("000000000001", 0x11, "00000000")
    assert Frame("000000000001", 0x11, bytearray(b"\x01")).data == b"\x01"


def test_decode_skips_any_number_of_fe():
    assert decode_frame(b"\xfe" * 9 + READ_ADDRESS) == Frame("AAAAAAAAAAAA", 0x13)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "starts with 68"),
        (b"\xfe\xfe", "starts with 68"),
        (READ_ADDRESS[:-1], "truncated"),
        (READ_ADDRESS[:-2] + b"\xe0\x16", "checksum"),
        (READ_ADDRESS[:-1] + b"\x17", "end byte"),
        (READ_ADDRESS + b"\x00", "needs a 12-byte frame"),
        (READ_ADDRESS.replace(b"\x68\x13", b"\x67\x13"), "second start"),
        (bytes.fromhex("68 1F AA AA AA AA AA 68 13 00 54 16"), "not BCD"),
    ],
)
def test_decode_says_what_is_wrong(data, message):
    with pytest.raises(RemoteProtocolError, match=message):
        decode_frame(data)


frames = st.builds(
    Frame,
    st.text("0123456789", min_size=12, max_size=12) | st.just("AAAAAAAAAAAA"),
    st.integers(0, 255),
    st.binary(max_size=255),
)


@given(frames, st.integers(0, 8))
def test_round_trip(frame, preamble):
    assert decode_frame(encode_frame(frame, preamble)) == frame


@given(st.binary(max_size=300))
def test_decode_of_arbitrary_bytes_raises_only_remote_errors(data):
    with contextlib.suppress(RemoteProtocolError):
        decode_frame(data)
