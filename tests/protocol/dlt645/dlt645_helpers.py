"""Shared vectors and hypothesis strategies for the DL/T 645 tests."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from hypothesis import strategies as st

from openprepaid.protocol.dlt645 import (
    BaudRate,
    BroadcastTimeRequest,
    ChangeBaudRequest,
    ChangePasswordRequest,
    CipheredControlRequest,
    ClearDemandRequest,
    ClearEventsRequest,
    ClearMeterRequest,
    ControlCommand,
    ControlRequest,
    FreezeRequest,
    MultiFunctionOutputRequest,
    Password,
    ReadAddressRequest,
    ReadFollowUpRequest,
    ReadRequest,
    SecurityRequest,
    WriteAddressRequest,
    WriteRequest,
)

# The repository's parent folder holds shared/ (CI clones the repo with shared/ beside it).
VECTORS_PATH = Path(__file__).resolve().parents[3].parent / "shared" / "protocol" / "vectors.json"
VECTORS = [v for v in json.loads(VECTORS_PATH.read_text("utf-8")) if v["proto"] == "dlt645"]


def vector_bytes(vector: dict) -> bytes:
    return bytes.fromhex(vector["hex"])


def preamble_count(data: bytes) -> int:
    return len(data) - len(data.lstrip(b"\xfe"))


addresses = st.text("0123456789", min_size=12, max_size=12)
dis = st.integers(0, 0xFFFFFFFF)
operators = st.text("0123456789ABCDEF", min_size=8, max_size=8)
passwords = st.builds(
    Password, st.integers(0, 0xFF), st.text("0123456789ABCDEF", min_size=6, max_size=6)
)
plain_passwords = st.builds(
    Password, st.integers(0, 9), st.text("0123456789", min_size=6, max_size=6)
)


def meter_time(*parts: int) -> dt.datetime:
    """A meter clock reading: local time without a zone, as the meters keep it."""
    return dt.datetime(*parts)  # noqa: DTZ001


meter_times = st.datetimes(meter_time(2000, 1, 1), meter_time(2099, 12, 31, 23, 59, 59)).map(
    lambda t: t.replace(microsecond=0)
)
minute_times = meter_times.map(lambda t: t.replace(second=0))


def _freeze(address: str):
    def field(top: int):
        return st.none() | st.integers(0, top)

    return st.builds(FreezeRequest, st.just(address), field(12), field(31), field(23), field(59))


requests = st.one_of(
    st.builds(ReadRequest, addresses, dis),
    st.builds(ReadRequest, addresses, dis, st.integers(0, 99)),
    st.builds(ReadRequest, addresses, dis, st.integers(0, 99), minute_times),
    st.builds(ReadFollowUpRequest, addresses, dis, st.integers(0, 255)),
    st.just(ReadAddressRequest()),
    st.builds(WriteRequest, addresses, dis, st.binary(max_size=40), passwords, operators),
    st.builds(WriteAddressRequest, addresses),
    st.builds(BroadcastTimeRequest, meter_times),
    st.builds(BroadcastTimeRequest, meter_times, addresses),
    addresses.flatmap(_freeze),
    st.builds(ChangeBaudRequest, addresses, st.sampled_from(BaudRate)),
    st.builds(ChangePasswordRequest, addresses, passwords, plain_passwords),
    st.builds(ClearDemandRequest, addresses, passwords, operators),
    st.builds(ClearMeterRequest, addresses, passwords, operators),
    st.builds(ClearEventsRequest, addresses, passwords, operators, dis),
    st.builds(
        ControlRequest,
        addresses,
        st.sampled_from(ControlCommand),
        meter_times,
        passwords,
        operators,
        st.integers(0, 255),
    ),
    st.builds(
        CipheredControlRequest,
        addresses,
        st.binary(max_size=64).filter(lambda b: len(b) != 8),
        passwords,
        operators,
    ),
    st.builds(MultiFunctionOutputRequest, addresses, st.integers(0, 255)),
    st.builds(SecurityRequest, addresses, dis, st.binary(max_size=64), operators),
)
