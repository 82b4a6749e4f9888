"""Hypothesis strategies for Modbus PDUs (shared by the Modbus property tests)."""

from __future__ import annotations

from hypothesis import strategies as st

from openprepaid.protocol.modbus import (
    ExceptionCode,
    ExceptionResponse,
    ReadCoilsRequest,
    ReadCoilsResponse,
    ReadHoldingRegistersRequest,
    ReadHoldingRegistersResponse,
    ReadInputRegistersRequest,
    ReadInputRegistersResponse,
    WriteMultipleRegistersRequest,
    WriteMultipleRegistersResponse,
    WriteSingleCoilRequest,
    WriteSingleCoilResponse,
    WriteSingleRegisterRequest,
    WriteSingleRegisterResponse,
)

words = st.integers(0, 0xFFFF)


def _ranged(cls, limit):
    return st.integers(1, limit).flatmap(
        lambda n: st.integers(0, 0x10000 - n).map(lambda a: cls(a, n))
    )


def _multi(cls):
    return st.lists(words, min_size=1, max_size=123).flatmap(
        lambda vs: st.integers(0, 0x10000 - len(vs)).map(lambda a: cls(a, tuple(vs)))
    )


requests = st.one_of(
    _ranged(ReadCoilsRequest, 2000),
    _ranged(ReadHoldingRegistersRequest, 125),
    _ranged(ReadInputRegistersRequest, 125),
    st.builds(WriteSingleCoilRequest, words, st.booleans()),
    st.builds(WriteSingleRegisterRequest, words, words),
    _multi(WriteMultipleRegistersRequest),
)

registers = st.lists(words, min_size=1, max_size=125).map(tuple)
exception_codes = st.integers(0, 0xFF).map(ExceptionCode)

responses = st.one_of(
    st.lists(st.booleans(), min_size=1, max_size=250).map(
        lambda bs: ReadCoilsResponse(tuple(bs) + (False,) * (-len(bs) % 8))
    ),
    registers.map(ReadHoldingRegistersResponse),
    registers.map(ReadInputRegistersResponse),
    st.builds(WriteSingleCoilResponse, words, st.booleans()),
    st.builds(WriteSingleRegisterResponse, words, words),
    _ranged(WriteMultipleRegistersResponse, 123),
    st.builds(ExceptionResponse, st.integers(1, 0x7F), exception_codes),
)

unit_ids = st.integers(1, 247)
