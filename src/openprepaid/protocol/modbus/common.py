"""Small shared types of the Modbus codec: direction, the NEED_DATA sentinel, trace kinds."""

from __future__ import annotations

from enum import Enum, StrEnum


class Direction(StrEnum):
    """Which way a frame travels: a master's request or a slave's response."""

    REQUEST = "request"
    RESPONSE = "response"


class NeedData(Enum):
    """Returned by ``next_event()`` when the buffer holds no complete frame yet."""

    NEED_DATA = "need-data"


NEED_DATA = NeedData.NEED_DATA


class TraceKind(StrEnum):
    """What a decoder's trace hook is told about: a frame it accepted or bytes it threw away."""

    FRAME = "frame"
    DISCARDED = "discarded"
