"""Requests and replies: exact layouts (FACTS §2) and round trips for every command."""

from __future__ import annotations

from decimal import Decimal

import pytest
from dlt645_helpers import addresses, dis, meter_time, requests
from hypothesis import given
from hypothesis import strategies as st

from openprepaid.protocol.dlt645 import (
    NEED_DATA,
    AbnormalReply,
    Ack,
    BaudRate,
    BroadcastTimeRequest,
    ChangeBaudReply,
    ChangeBaudRequest,
    ChangePasswordReply,
    ChangePasswordRequest,
    CipheredControlRequest,
    ClearDemandRequest,
    ClearEventsRequest,
    ClearMeterRequest,
    ControlCommand,
    ControlRequest,
    Decoder,
    ErrorFlags,
    Frame,
    FreezeRequest,
    Function,
    MultiFunctionOutputReply,
    Password,
    ReadAddressReply,
    ReadFollowUpReply,
    ReadReply,
    ReadRequest,
    SecurityAbnormalReply,
    SecurityErrorFlags,
    SecurityReply,
    SecurityRequest,
    WriteRequest,
    decode_frame,
    encode_reply,
    encode_request,
    parse_reply,
    parse_request,
)
from openprepaid.protocol.errors import LocalProtocolError, MeterRefused, RemoteProtocolError

METER = "201000000012"
PASSWORD = Password(0x02, "123456")
WHEN = meter_time(2017, 6, 5, 10, 22, 51)


def data_of(request) -> str:
    return request.to_frame().data.hex(" ").upper()


def test_read_forms():
    assert data_of(ReadRequest(METER, 0x0001FF00)) == "00 FF 01 00"
    assert data_of(ReadRequest(METER, 0x06000001, count=3)) == "01 00 00 06 03"
    since = meter_time(2024, 3, 5, 14, 30)
    assert data_of(ReadRequest(METER, 0x06000001, 3, since)) == "01 00 00 06 03 30 14 05 03 24"
    with pytest.raises(LocalProtocolError):
        ReadRequest(METER, 0x06000001, since=since)


def test_broadcast_time_is_ss_mm_hh_dd_mm_yy_to_99():
    frame = BroadcastTimeRequest(WHEN).to_frame()
    assert frame.address == "999999999999"
    assert frame.data.hex(" ") == "51 22 10 05 06 17"


def test_freeze_is_mm_hh_dd_mm_with_99_wildcards():
    assert data_of(FreezeRequest(METER, day=5, hour=12, minute=30)) == "30 12 05 99"
    assert data_of(FreezeRequest(METER, hour=0, minute=0)) == "00 00 99 99"
    assert data_of(FreezeRequest(METER)) == "99 99 99 99"
    with pytest.raises(LocalProtocolError):
        FreezeRequest(METER, minute=60)


@pytest.mark.parametrize(
    ("bps", "word"),
    [(600, 0x02), (1200, 0x04), (2400, 0x08), (4800, 0x10), (9600, 0x20), (19200, 0x40)],
)
def test_baud_characteristic_words(bps, word):
    assert BaudRate.from_bps(bps) == word
    assert data_of(ChangeBaudRequest(METER, BaudRate.from_bps(bps))) == f"{word:02X}"


def test_unknown_baud_is_our_fault():
    with pytest.raises(LocalProtocolError):
        BaudRate.from_bps(115200)


def test_change_password_uses_04000c01_plus_level():
    request = ChangePasswordRequest(METER, Password(0, "000000"), Password(4, "654321"))
    assert request.di == 0x04000C05
    assert data_of(request) == "05 0C 00 04 00 00 00 00 04 65 43 21"
    with pytest.raises(LocalProtocolError):
        ChangePasswordRequest(METER, PASSWORD, Password(0x98, "000000"))


def test_clear_commands_carry_password_and_operator_only():
    assert data_of(ClearDemandRequest(METER, PASSWORD, "01020304")) == "02 12 34 56 01 02 03 04"
    assert data_of(ClearMeterRequest(METER, PASSWORD, "01020304")) == "02 12 34 56 01 02 03 04"
    assert data_of(ClearEventsRequest(METER, PASSWORD, "01020304")) == (
        "02 12 34 56 01 02 03 04 FF FF FF FF"
    )


def test_remote_control_layout():
    request = ControlRequest(
        METER, ControlCommand.KEEP_POWER, meter_time(2030, 1, 1), PASSWORD, "00000001"
    )
    assert data_of(request) == "02 12 34 56 00 00 00 01 3A 00 00 00 00 01 01 30"
    assert [c.value for c in ControlCommand] == [0x1A, 0x1B, 0x1C, 0x2A, 0x2B, 0x3A, 0x3B]


def test_ciphered_control_and_security_wrappers():
    cipher = bytes(range(20))
    request = CipheredControlRequest(METER, cipher, operator="00000001")
    assert request.to_frame().data == bytes.fromhex("98000000 00000001") + cipher
    assert parse_request(request.to_frame()) == request
    security = SecurityRequest(METER, 0x070102FF, b"\xaa" * 22, "00000001")
    assert security.to_frame().data == bytes.fromhex("FF020107 00000001") + b"\xaa" * 22
    assert security.to_frame().control == 0x03


def test_write_for_value_uses_the_identifier_table():
    request = WriteRequest.for_value(METER, 0x04001001, Decimal("50.00"), PASSWORD)
    assert request.value == bytes.fromhex("00 50 00 00")
    assert request.decoded_value() == Decimal("50.00")
    with pytest.raises(LocalProtocolError):
        WriteRequest.for_value(METER, 0x04001001, Decimal("1000000.00"), PASSWORD)


def test_password_is_not_printed():
    assert "123456" not in repr(WriteRequest(METER, 0x04000102, b"", PASSWORD))


@given(requests, st.integers(0, 4))
def test_every_request_round_trips(request, preamble):
    assert parse_request(decode_frame(encode_request(request, preamble))) == request


replies = st.one_of(
    st.builds(ReadReply, addresses, dis, st.binary(max_size=200), st.booleans()),
    st.builds(
        ReadFollowUpReply,
        addresses,
        dis,
        st.binary(max_size=200),
        st.integers(0, 255),
        st.booleans(),
    ),
    st.builds(ReadAddressReply, addresses),
    st.builds(
        Ack,
        addresses,
        st.sampled_from(
            [
                Function.WRITE,
                Function.WRITE_ADDRESS,
                Function.FREEZE,
                Function.CLEAR_DEMAND,
                Function.CLEAR_METER,
                Function.CLEAR_EVENTS,
                Function.CONTROL,
            ]
        ),
    ),
    st.builds(ChangeBaudReply, addresses, st.sampled_from(BaudRate)),
    st.builds(
        ChangePasswordReply,
        addresses,
        st.builds(Password, st.integers(0, 255), st.text("0123456789", min_size=6, max_size=6)),
    ),
    st.builds(MultiFunctionOutputReply, addresses, st.integers(0, 255)),
    st.builds(SecurityReply, addresses, dis, st.binary(max_size=100)),
    st.builds(
        AbnormalReply,
        addresses,
        st.sampled_from([f for f in Function if f is not Function.SECURITY]),
        st.integers(0, 255).map(ErrorFlags),
    ),
    st.builds(SecurityAbnormalReply, addresses, st.integers(0, 0xFFFF).map(SecurityErrorFlags)),
)


@given(replies, st.integers(0, 4))
def test_every_reply_round_trips(reply, preamble):
    assert parse_reply(decode_frame(encode_reply(reply, preamble))) == reply


def test_reply_control_bytes():
    assert ReadReply(METER, 0, b"", follow_up=True).to_frame().control == 0xB1
    assert Ack(METER, Function.CONTROL).to_frame().control == 0x9C
    refused = AbnormalReply(METER, Function.WRITE, ErrorFlags.UNAUTHORIZED)
    assert refused.to_frame() == Frame(METER, 0xD4, b"\x04")
    error = refused.refusal()
    assert isinstance(error, MeterRefused)
    assert error.flags is ErrorFlags.UNAUTHORIZED
    serr = SecurityAbnormalReply(METER, SecurityErrorFlags.REPEATED_RECHARGE)
    assert serr.to_frame() == Frame(METER, 0xC3, b"\x02\x00")


def test_error_words_name_every_bit():
    assert [f.value for f in ErrorFlags] == [1 << i for i in range(8)]
    assert [f.value for f in SecurityErrorFlags] == [1 << i for i in range(16)]
    assert ErrorFlags(0x02) is ErrorFlags.NO_REQUEST_DATA
    assert SecurityErrorFlags(0x0008) is SecurityErrorFlags.AUTHENTICATION_FAILED


def test_read_reply_of_typed_value():
    reply = ReadReply.of(METER, 0x00900200, Decimal("198.56"))
    assert reply.data == bytes.fromhex("56 98 01 00")
    assert reply.value == Decimal("198.56")


@pytest.mark.parametrize(
    "frame",
    [
        Frame(METER, 0x91),  # read reply without DI
        Frame(METER, 0x11, b"\x00\x01"),  # short read request
        Frame(METER, 0x11),
        Frame(METER, 0x94, b"\x00"),  # ack with data
        Frame(METER, 0xD1),  # abnormal without ERR
        Frame(METER, 0xC3, b"\x01"),  # SERR is two bytes
        Frame(METER, 0x97, b"\x03"),  # not a baud word
        Frame(METER, 0x17, b"\x03"),
        Frame(METER, 0x1C, bytes(8) + b"\x99" + bytes(7)),  # unknown N1
        Frame(METER, 0x1C, bytes(10) + b"\xff" * 6),  # deadline not BCD
        Frame(METER, 0x16, b"\x99\x99\x99\x13"),  # month 13
        Frame(METER, 0x1F),  # unknown function
        Frame(METER, 0x88),  # broadcast time has no reply
        Frame(METER, 0xB4),  # follow-up on a write reply
        Frame(METER, 0x31, bytes(4)),  # follow-up bit on a request
    ],
)
def test_malformed_messages_are_the_peers_fault(frame):
    with pytest.raises(RemoteProtocolError):
        parse_reply(frame) if frame.is_response else parse_request(frame)


def test_request_and_reply_directions_are_checked():
    with pytest.raises(RemoteProtocolError):
        parse_reply(Frame(METER, 0x11, bytes(4)))
    with pytest.raises(RemoteProtocolError):
        parse_request(Frame(METER, 0x91, bytes(4)))


@pytest.mark.parametrize(
    "build",
    [
        lambda: BroadcastTimeRequest(meter_time(1999, 12, 31, 23, 59, 59)),
        lambda: ControlRequest(METER, ControlCommand.TRIP, meter_time(2100, 1, 1)),
        lambda: ReadRequest(METER, 0x06000001, count=100),
        lambda: ReadRequest(METER, -1),
        lambda: WriteRequest(METER, 0x04000102, b"", PASSWORD, "0000000G"),
        lambda: Password(0x02, "12345"),
        lambda: Password(0x100, "123456"),
    ],
)
def test_requests_check_their_fields_when_built(build):
    with pytest.raises(LocalProtocolError):
        build()


def test_master_and_meter_through_an_in_memory_line():
    """The h11 pattern: both ends are codecs, the line is a byte string in between."""
    master, meter = Decoder(), Decoder()
    meter.receive_data(encode_request(ReadRequest(METER, 0x00900200)))
    (request,) = [parse_request(e) for e in iter(meter.next_event, NEED_DATA)]
    assert request == ReadRequest(METER, 0x00900200)
    reply = ReadReply.of(request.address, request.di, Decimal("198.56"))
    wire = b"\xfe\xfe" + encode_reply(reply)
    for i in range(0, len(wire), 3):  # the reply trickles in
        master.receive_data(wire[i : i + 3])
    (answer,) = [parse_reply(e) for e in iter(master.next_event, NEED_DATA)]
    assert answer.value == Decimal("198.56")
