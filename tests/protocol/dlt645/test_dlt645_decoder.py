"""The streaming decoder: FE preambles, garbage, resynchronisation, bounded buffer, fuzzing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from openprepaid.protocol.dlt645 import NEED_DATA, Decoder, Frame, Garbage, encode_frame
from openprepaid.protocol.dlt645.frame import MAX_FRAME
from openprepaid.protocol.errors import RemoteProtocolError

FRAME = Frame("201000000012", 0x91, bytes.fromhex("00 02 90 00 56 98 01 00"))
WIRE = encode_frame(FRAME)


def drain(decoder: Decoder) -> list:
    events = []
    while (event := decoder.next_event()) is not NEED_DATA:
        events.append(event)
    return events


def feed(chunks) -> list:
    decoder = Decoder()
    events = []
    for chunk in chunks:
        decoder.receive_data(chunk)
        events += drain(decoder)
    return events


def test_byte_by_byte():
    assert feed([bytes((b,)) for b in WIRE]) == [FRAME]


def test_two_frames_in_one_chunk_with_any_preamble():
    assert feed([WIRE + b"\xfe" * 11 + encode_frame(FRAME, 0)]) == [FRAME, FRAME]


def test_garbage_before_a_frame_is_reported_once():
    events = feed([b"\x01\x02\xfe" + WIRE])
    assert events == [Garbage(b"\x01\x02", "bytes before the 68 start byte"), FRAME]
    assert isinstance(events[0].error, RemoteProtocolError)


def test_bad_checksum_resynchronises_on_the_next_68():
    bad = bytearray(encode_frame(FRAME, 0))
    bad[-2] ^= 0xFF
    decoder = Decoder()
    decoder.receive_data(bytes(bad) + WIRE)
    events = drain(decoder)
    assert isinstance(events[0], Garbage)
    assert "checksum" in events[0].reason
    assert events[-1] == FRAME
    assert decoder.dropped == sum(len(e.data) for e in events if isinstance(e, Garbage))


def test_bad_end_byte_and_false_start():
    bad = bytearray(encode_frame(FRAME, 0))
    bad[-1] = 0x17
    events = feed([b"\x68\x00" + bytes(bad) + WIRE])
    assert events[-1] == FRAME
    assert any("end byte" in e.reason for e in events if isinstance(e, Garbage))


def test_buffer_stays_bounded():
    decoder = Decoder()
    decoder.receive_data(bytes(range(256)) * 40)  # plenty of 68 false starts
    drain(decoder)
    assert decoder.buffered < MAX_FRAME
    decoder.receive_data(WIRE)
    assert FRAME in drain(decoder)


def test_clear_returns_the_pending_bytes():
    decoder = Decoder()
    decoder.receive_data(WIRE[:10])
    assert decoder.next_event() is NEED_DATA
    assert decoder.clear() == WIRE[:10].lstrip(b"\xfe")
    assert decoder.buffered == 0


@given(st.binary(max_size=600), st.lists(st.integers(0, 600), max_size=12))
def test_arbitrary_bytes_in_arbitrary_chunks_never_raise(data, cuts):
    cuts = sorted({c for c in cuts if c <= len(data)})
    chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    for event in feed(chunks):
        assert isinstance(event, Frame | Garbage)


@given(
    st.binary(max_size=300).filter(lambda b: 0x68 not in b),
    st.integers(0, 6),
    st.lists(st.integers(0, 400), max_size=6),
)
def test_a_frame_after_garbage_is_found(garbage, preamble, cuts):
    data = garbage + encode_frame(FRAME, preamble)
    cuts = sorted({c for c in cuts if c <= len(data)})
    chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    assert feed(chunks)[-1] == FRAME


@given(st.binary(max_size=300))
def test_a_frame_after_any_garbage_is_found_once_the_line_moves_on(garbage):
    # A 68 inside the garbage may announce a long frame; the decoder waits for it, finds its
    # checksum wrong and resynchronises, so the frame shows up once enough bytes followed.
    events = feed([garbage, encode_frame(FRAME), bytes(MAX_FRAME)])
    assert FRAME in events
