"""Streaming RTU and TCP decoders: any chunking, garbage, resynchronisation, bounded buffer."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from modbus_strategies import requests, responses, unit_ids

from openprepaid.protocol.errors import LocalProtocolError, RemoteProtocolError
from openprepaid.protocol.modbus import (
    NEED_DATA,
    Direction,
    ExceptionResponse,
    ReadHoldingRegistersRequest,
    ReadHoldingRegistersResponse,
    RtuDecoder,
    TcpDecoder,
    TraceKind,
    WriteSingleRegisterResponse,
    crc_bytes,
    encode_rtu,
    encode_tcp,
)


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def _drain(decoder, chunks):
    frames, errors = [], 0
    for chunk in chunks:
        decoder.receive_data(chunk)
        while True:
            try:
                event = decoder.next_event()
            except RemoteProtocolError:
                errors += 1
                continue
            if event is NEED_DATA:
                break
            frames.append(event)
    return frames, errors


@given(
    st.binary(max_size=600),
    st.lists(st.integers(0, 10_000), max_size=12),
    st.sampled_from(list(Direction)),
)
def test_arbitrary_bytes_at_arbitrary_splits_raise_only_our_errors(data, cuts, direction):
    for decoder in (RtuDecoder(direction), TcpDecoder(direction)):
        _drain(decoder, _split(data, cuts))
        assert decoder.buffered < 300  # never hoards what cannot become a frame


@settings(max_examples=300)
@given(st.binary(max_size=40), unit_ids, st.data())
def test_rtu_resynchronises_onto_the_next_valid_frame_after_garbage(garbage, unit_id, data):
    """RTU frames have no start marker: garbage that looks like the header of a long frame makes
    the decoder wait for it, so resynchronisation is guaranteed once a maximal frame's worth of
    traffic (264 bytes) follows — or the transport reports line silence (discard_partial)."""
    direction = data.draw(st.sampled_from(list(Direction)))
    pdu = data.draw(requests if direction is Direction.REQUEST else responses)
    frame = encode_rtu(unit_id, pdu)
    copies = -(-300 // len(frame)) + 1
    cuts = data.draw(st.lists(st.integers(0, 10_000), max_size=6))
    decoder = RtuDecoder(direction)
    frames, _ = _drain(decoder, _split(garbage + frame * copies, cuts))
    assert len(frames) >= copies - 2
    assert all((f.unit_id, f.pdu) == (unit_id, pdu) for f in frames[-(copies - 2) :])
    assert decoder.buffered == 0


def test_garbage_shaped_like_a_long_header_is_skipped_at_once():
    frame = encode_rtu(1, ReadHoldingRegistersRequest(11, 1))
    decoder = RtuDecoder("request")
    frames, _ = _drain(decoder, [b"\x00\x10\x00" + frame])  # 00 10 00 01 01 00: quantity 256
    assert [f.pdu for f in frames] == [ReadHoldingRegistersRequest(11, 1)]
    response_decoder = RtuDecoder("response")
    ok = encode_rtu(1, ReadHoldingRegistersResponse((5,)))
    frames, _ = _drain(response_decoder, [b"\x01\x03\x05" + ok])  # odd byte count: not a header
    assert [f.pdu for f in frames] == [ReadHoldingRegistersResponse((5,))]


@settings(max_examples=200)
@given(st.binary(max_size=40), unit_ids, st.data())
def test_expecting_master_finds_its_answer_after_any_garbage(garbage, unit_id, data):
    count = data.draw(st.integers(1, 125))
    request = ReadHoldingRegistersRequest(0, count)
    answer = ReadHoldingRegistersResponse(
        tuple(data.draw(st.lists(st.integers(0, 0xFFFF), min_size=count, max_size=count)))
    )
    cuts = data.draw(st.lists(st.integers(0, 10_000), max_size=6))
    decoder = RtuDecoder(Direction.RESPONSE)
    decoder.expect(unit_id, request)
    frames, errors = _drain(decoder, _split(garbage + encode_rtu(unit_id, answer), cuts))
    assert errors == 0
    assert [(f.unit_id, f.pdu) for f in frames] == [(unit_id, answer)]


@given(unit_ids, st.lists(responses, min_size=1, max_size=5), st.lists(st.integers(0, 9999)))
def test_back_to_back_responses_in_any_chunking(unit_id, pdus, cuts):
    stream = b"".join(encode_rtu(unit_id, p) for p in pdus)
    frames, errors = _drain(RtuDecoder("response"), _split(stream, cuts))
    assert errors == 0
    assert [f.pdu for f in frames] == pdus


@given(
    st.lists(st.tuples(st.integers(0, 0xFFFF), unit_ids, requests), min_size=1, max_size=5),
    st.binary(max_size=20),
    st.lists(st.integers(0, 9999)),
)
def test_tcp_stream_round_trip_after_garbage(items, garbage, cuts):
    stream = b"".join(encode_tcp(t, u, p) for t, u, p in items)
    decoder = TcpDecoder("request")
    frames, _ = _drain(decoder, _split(stream, cuts))
    assert [(f.transaction_id, f.unit_id, f.pdu) for f in frames] == items
    decoder2 = TcpDecoder("request")
    frames2, _ = _drain(decoder2, [garbage, stream + stream])
    last = items[-1]
    assert (frames2[-1].transaction_id, frames2[-1].unit_id, frames2[-1].pdu) == last


def test_bad_crc_slides_one_byte_and_trace_reports_it():
    seen = []
    decoder = RtuDecoder("response", trace=lambda kind, raw: seen.append((kind, raw.hex())))
    good = bytes.fromhex("01 03 04 00 01 E2 40 E2 A3")
    corrupt = bytes.fromhex("01 03 04 00 01 E2 40 E2 A4")
    frames, _ = _drain(decoder, [corrupt + good])
    assert [f.pdu for f in frames] == [ReadHoldingRegistersResponse((1, 0xE240))]
    assert seen == [(TraceKind.DISCARDED, corrupt.hex()), (TraceKind.FRAME, good.hex())]
    assert decoder.discarded == len(corrupt)


def test_valid_crc_but_invalid_content_is_consumed_and_raised():
    body = bytes.fromhex("01 05 00 01 12 34")  # coil value neither FF00 nor 0000, correct CRC
    decoder = RtuDecoder("response")
    decoder.receive_data(body + crc_bytes(body) + encode_rtu(1, ExceptionResponse(3, 2)))
    with pytest.raises(RemoteProtocolError):
        decoder.next_event()
    assert decoder.next_event().pdu == ExceptionResponse(3, 2)
    assert decoder.next_event() is NEED_DATA
    body = bytes.fromhex("07 03 00 00 00 00")  # read of quantity 0
    requests_decoder = RtuDecoder("request")
    requests_decoder.receive_data(body + crc_bytes(body))
    with pytest.raises(RemoteProtocolError):
        requests_decoder.next_event()
    assert requests_decoder.buffered == 0


def test_expect_filters_other_units_and_sizes_and_clears_after_the_answer():
    decoder = RtuDecoder("response")
    decoder.expect(5, ReadHoldingRegistersRequest(0, 1))
    stray = encode_rtu(6, ReadHoldingRegistersResponse((1,)))
    wrong_size = encode_rtu(5, ReadHoldingRegistersResponse((1, 2)))
    echo = encode_rtu(5, WriteSingleRegisterResponse(1, 2))
    refusal = encode_rtu(5, ExceptionResponse(3, 6))
    frames, _ = _drain(decoder, [stray + wrong_size + echo + refusal])
    assert [f.pdu for f in frames] == [ExceptionResponse(3, 6)]
    frames, _ = _drain(decoder, [stray])  # expectation cleared: anything goes again
    assert [f.unit_id for f in frames] == [6]
    decoder.expect(None)
    with pytest.raises(LocalProtocolError):
        RtuDecoder("request").expect(1, ReadHoldingRegistersRequest(0, 1))
    with pytest.raises(LocalProtocolError):
        decoder.expect(0, ReadHoldingRegistersRequest(0, 1))


def test_buffer_is_bounded():
    decoder = RtuDecoder("response", max_buffer=512)
    decoder.receive_data(b"\x01\x03\xfa" + b"\x00" * 200)  # waits for a 255-byte frame
    assert decoder.next_event() is NEED_DATA
    with pytest.raises(RemoteProtocolError):
        decoder.receive_data(b"\x00" * 400)
    assert decoder.buffered == 203
    assert decoder.discard_partial() == 203
    with pytest.raises(LocalProtocolError):
        RtuDecoder("sideways")
    with pytest.raises(LocalProtocolError):
        TcpDecoder("request", max_buffer=10)


def test_tcp_sound_header_with_bad_pdu_is_consumed_and_raised():
    decoder = TcpDecoder("response")
    bad = bytes.fromhex("00 01 00 00 00 03 01 2B 0E")  # unsupported function 0x2B
    ok = encode_tcp(2, 1, WriteSingleRegisterResponse(1, 2))
    decoder.receive_data(bad + ok)
    with pytest.raises(RemoteProtocolError):
        decoder.next_event()
    assert decoder.next_event().transaction_id == 2
