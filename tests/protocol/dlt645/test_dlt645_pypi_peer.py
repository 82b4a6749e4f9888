"""Cross-checks with code we did not write: the PyPI ``dlt645`` package (3.2.x).

Frames we build are parsed by it, frames it builds (client requests, server replies) are parsed
by ours, and each defect of the package we document in docs/protocol.md is shown here: the
package's actual bytes differ from the standard ones we produce.

The package quirks the tests work around: its ``set_address`` takes the address in *wire* order
(``"123456789012"`` goes out as ``12 34 56 78 90 12``); constructing its client or server takes
about 0.6 s, so each is built once per module; its client is given a capture instead of a
socket.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from dlt645 import MeterClientService, MeterServerService
from dlt645.protocol.protocol import DLT645Protocol
from dlt645_helpers import VECTORS, meter_time, vector_bytes
from hypothesis import given, settings
from hypothesis import strategies as st

from openprepaid.protocol.dlt645 import (
    AbnormalReply,
    BaudRate,
    BroadcastTimeRequest,
    ChangePasswordRequest,
    ClearDemandRequest,
    ClearMeterRequest,
    ErrorFlags,
    Frame,
    FreezeRequest,
    Password,
    ReadAddressReply,
    ReadAddressRequest,
    ReadReply,
    ReadRequest,
    WriteAddressRequest,
    WriteRequest,
    decode_frame,
    encode_frame,
    encode_reply,
    encode_request,
    lookup,
    parse_reply,
    parse_request,
)
from openprepaid.protocol.dlt645.frame import address_to_wire

METER = "123456789012"
WIRE_ORDER = address_to_wire(METER).hex()  # what the package's set_address expects
PASSWORD = Password(0x02, "123456")
PACKAGE_PASSWORD = "02123456"


class CapturingClient:
    """The package's client with its transport replaced by a list of sent frames."""

    def __init__(self) -> None:
        self.service = MeterClientService.new_tcp_client("127.0.0.1", 9, 0.1)
        self.sent: list[bytes] = []
        self.service.send_and_handle_request = self._capture
        self.service._send_broadcast = lambda frame: self._capture(frame) is None
        self.service.set_address(WIRE_ORDER)
        self.service.set_password(PACKAGE_PASSWORD)

    def _capture(self, frame: bytes) -> None:
        self.sent.append(bytes(frame))

    def last(self) -> Frame:
        return decode_frame(self.sent[-1])


@pytest.fixture(scope="module")
def client() -> CapturingClient:
    return CapturingClient()


@pytest.fixture(scope="module")
def server():
    service = MeterServerService.new_tcp_server("127.0.0.1", 9, 0.1)
    service.set_address(WIRE_ORDER)
    service.set_00(0x00010000, 1206.42)
    service.set_02(0x02010100, 225.6)
    return service


# --- our frames, parsed by the package -------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["hex"][:40])
def test_the_package_parses_our_reencoded_vector_frames(vector):
    data = vector_bytes(vector)
    ours = decode_frame(data)
    message = parse_request(ours) if vector["direction"] == "request" else parse_reply(ours)
    wire = encode_request(message) if vector["direction"] == "request" else encode_reply(message)
    theirs = DLT645Protocol.deserialize(wire)
    assert bytes(theirs.addr) == address_to_wire(ours.address)
    assert theirs.ctrl_code == ours.control
    assert bytes(theirs.data) == ours.data


@settings(max_examples=50)
@given(
    st.text("0123456789", min_size=12, max_size=12),
    st.integers(0, 255),
    st.binary(max_size=255),
)
def test_the_package_parses_any_frame_we_build(address, control, data):
    theirs = DLT645Protocol.deserialize(encode_frame(Frame(address, control, data)))
    assert (bytes(theirs.addr), theirs.ctrl_code, bytes(theirs.data)) == (
        address_to_wire(address),
        control,
        data,
    )


@pytest.mark.parametrize(
    ("di", "value", "expected"),
    [
        (0x00010000, Decimal("1206.42"), 1206.42),
        (0x00000000, Decimal("0.00"), 0.0),
        (0x02010100, Decimal("225.6"), 225.6),
        (0x02800002, Decimal("50.03"), 50.03),
    ],
)
def test_the_package_decodes_our_read_replies(client, di, value, expected):
    reply = ReadReply.of(METER, di, value)
    item = client.service.handle_response(DLT645Protocol.deserialize(encode_reply(reply)))
    assert item is not None
    assert item.value == pytest.approx(expected)


def test_the_package_server_answers_our_requests(server):
    def ask(request):
        theirs = DLT645Protocol.deserialize(encode_request(request))
        return parse_reply(decode_frame(bytes(server.handle_request(theirs))))

    energy = ask(ReadRequest(METER, 0x00010000))
    assert isinstance(energy, ReadReply)
    assert energy.value == Decimal("1206.42")
    voltage = ask(ReadRequest(METER, 0x02010100))
    assert voltage.value == Decimal("225.6")
    assert ask(ReadAddressRequest()) == ReadAddressReply(METER)
    refused = ask(ReadRequest(METER, 0x0E0E0E0E))
    assert isinstance(refused, AbnormalReply)
    assert refused.error == ErrorFlags.OTHER  # what the package answers for unknown DIs


# --- the package's frames, parsed by ours ----------------------------------------------------


@pytest.mark.parametrize("di", [0x00000000, 0x00010000, 0x0001FF00, 0x02010100, 0x04000101])
def test_we_parse_the_package_read_requests(client, di):
    client.service.read_00(di)
    assert parse_request(client.last()) == ReadRequest(METER, di)


def test_we_parse_the_package_write_request(client):
    client.service.write_04(0x04001001, "00005000", PACKAGE_PASSWORD)
    request = parse_request(client.last())
    assert request == WriteRequest(METER, 0x04001001, bytes.fromhex("00500000"), PASSWORD)
    assert request.decoded_value() == Decimal("50.00")


def test_we_parse_the_package_address_requests(client):
    client.service.read_address()
    assert parse_request(client.last()) == ReadAddressRequest()
    client.service.write_address(WIRE_ORDER)
    client.service.set_address(WIRE_ORDER)
    assert parse_request(client.last()) == WriteAddressRequest(METER, METER)


# --- confirmed defects (docs/protocol.md lists them) ----------------------------------------

MOMENT = meter_time(2017, 6, 5, 10, 22, 51)
PUBLISHED_BROADCAST = bytes.fromhex("68 99 99 99 99 99 99 68 08 06 84 55 43 38 39 4A 4B 16")


def test_defect_1_broadcast_time_is_sent_in_natural_order(client):
    client.service.broadcast_time_sync(MOMENT)
    theirs = client.last()
    ours = BroadcastTimeRequest(MOMENT).to_frame()
    assert encode_frame(ours, 0) == PUBLISHED_BROADCAST
    assert theirs.data.hex(" ") == "17 06 05 10 22 51"  # YY MM DD hh mm ss
    assert ours.data.hex(" ") == "51 22 10 05 06 17"  # ss mm hh DD MM YY (standard)
    assert theirs.data != ours.data


def test_defect_2_freeze_is_sent_month_first(client):
    client.service.freeze(month=99, day=5, hour=12, minute=30)
    theirs = client.last().data
    ours = FreezeRequest(METER, day=5, hour=12, minute=30).to_frame().data
    assert theirs.hex(" ") == "99 05 12 30"  # MM DD hh mm
    assert ours.hex(" ") == "30 12 05 99"  # mm hh DD MM (standard)


@pytest.mark.parametrize(("bps", "wrong"), [(4800, 0x16), (9600, 0x32), (19200, 0x64)])
def test_defect_3_baud_words_are_decimal_written_as_hex(client, bps, wrong):
    client.service.change_baud_rate(bps)
    assert client.last().data == bytes((wrong,))
    assert BaudRate.from_bps(bps) == {4800: 0x10, 9600: 0x20, 19200: 0x40}[bps]
    assert wrong != BaudRate.from_bps(bps)


def test_defect_4_change_password_di(client):
    client.service.change_password(PACKAGE_PASSWORD, "04654321")
    theirs = int.from_bytes(client.last().data[:4], "little")
    ours = ChangePasswordRequest(METER, PASSWORD, Password(4, "654321")).di
    assert theirs == 0x40000C04
    assert ours == 0x04000C05


def test_defect_5_clear_commands_send_a_di_instead_of_the_operator_code(client):
    client.service.clear_demand(0xFFFFFFFF, PACKAGE_PASSWORD)
    demand = client.last().data
    client.service.clear_meter(PACKAGE_PASSWORD)
    meter = client.last().data
    assert demand.hex(" ") == "ff ff ff ff 02 12 34 56"  # DI + password
    assert meter.hex(" ") == "00 00 00 00 02 12 34 56"
    ours = ClearDemandRequest(METER, PASSWORD, "00000000").to_frame().data
    assert ours.hex(" ") == "02 12 34 56 00 00 00 00"  # PA P0P1P2 + C0..C3 (standard)
    assert ClearMeterRequest(METER, PASSWORD, "00000000").to_frame().data == ours


def test_defect_6_addresses_are_taken_in_wire_order(client):
    client.service.set_address(METER)
    try:
        client.service.read_00(0x00010000)
        assert client.sent[-1][5:11].hex() == "123456789012"  # sent as written
        assert decode_frame(client.sent[-1]).address == "129078563412"
        assert address_to_wire(METER).hex() == "129078563412"  # the standard: low byte first
    finally:
        client.service.set_address(WIRE_ORDER)


def test_defect_7_power_factor_unit_is_kw(client):
    assert client.service.data_map[0x02060000].unit == "kW"
    assert lookup(0x02060000).unit == ""


def test_defect_8_energy_above_800000_kwh_reads_as_negative(client):
    # Energy is unsigned XXXXXX.XX BCD; the package takes bit 7 of the top byte as a sign.
    value = Decimal("802468.55")
    wire = encode_reply(ReadReply.of(METER, 0x00010000, value))
    assert parse_reply(decode_frame(wire)).value == value
    item = client.service.handle_response(DLT645Protocol.deserialize(wire))
    assert item.value == pytest.approx(-2468.55)
