"""Value formats of DL/T 645 data items: BCD numbers, dates, times, status words, tables.

Every format is a frozen dataclass with ``size`` (bytes, ``None`` when variable), ``decode``
(un-scrambled DATA bytes → value) and ``encode`` (value → bytes). All multi-byte items travel
least significant byte first (FACTS §1). Numbers decode to :class:`~decimal.Decimal`, never
float. A field that is not valid BCD (meters send ``FF…`` for an item they do not support)
decodes to ``None``; a wrong length raises :class:`RemoteProtocolError`; a value that does not
fit when encoding raises :class:`LocalProtocolError`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Flag
from typing import Any

from openprepaid.protocol.errors import LocalProtocolError, RemoteProtocolError


def _check_size(data: bytes, size: int, what: str) -> None:
    if len(data) != size:
        raise RemoteProtocolError(f"{what} is {size} bytes, got {len(data)}")


def bcd_digits(data: bytes) -> str | None:
    """LSB-first BCD bytes → their digits, most significant first; ``None`` if not BCD."""
    text = data[::-1].hex()
    return text if text.isdigit() else None


def digits_to_bcd(digits: str) -> bytes:
    """Digits (most significant first, even count) → LSB-first BCD bytes."""
    return bytes.fromhex(digits)[::-1]


@dataclass(frozen=True, slots=True)
class Bcd:
    """A BCD number of ``size`` bytes with ``scale`` decimals (``XXXXXX.XX`` = Bcd(4, 2)).

    ``signed``: the sign is bit 7 of the most significant byte (1 = negative), FACTS §5.2.
    """

    size: int
    scale: int = 0
    signed: bool = False

    @property
    def kind(self) -> str:
        return "number"

    def decode(self, data: bytes) -> Decimal | None:
        if len(data) != self.size:
            raise RemoteProtocolError(f"a BCD number is {self.size} bytes, got {len(data)}")
        negative = False
        if self.signed and data[-1] & 0x80:
            negative = True
            data = data[:-1] + bytes((data[-1] & 0x7F,))
        digits = data[::-1].hex()  # bcd_digits(), inlined on this hot path
        if not digits.isdigit():
            return None
        value = Decimal(f"{digits}E{-self.scale}")  # faster than .scaleb(), the same value
        return -value if negative else value

    def encode(self, value: Any) -> bytes:
        try:
            number = Decimal(value)
        except (InvalidOperation, TypeError, ValueError):
            raise LocalProtocolError(f"{value!r} is not a number") from None
        if not number.is_finite():
            raise LocalProtocolError(f"{value!r} is not a finite number")
        scaled = number.scaleb(self.scale)
        if scaled != scaled.to_integral_value():
            raise LocalProtocolError(f"{value} has more than {self.scale} decimals")
        integer = int(scaled)
        if integer < 0 and not self.signed:
            raise LocalProtocolError(f"{value} is negative; this item is unsigned")
        # Signed: the sign takes bit 7 of the top byte, so its top digit is at most 7.
        limit = 8 * 10 ** (2 * self.size - 1) if self.signed else 10 ** (2 * self.size)
        if abs(integer) >= limit:
            raise LocalProtocolError(f"{value} does not fit in {self.size} BCD bytes")
        raw = bytearray(digits_to_bcd(f"{abs(integer):0{2 * self.size}d}"))
        if integer < 0:
            raw[-1] |= 0x80
        return bytes(raw)


@dataclass(frozen=True, slots=True)
class Binary:
    """An unsigned binary integer, LSB first (characteristic words, pulse constants)."""

    size: int

    @property
    def kind(self) -> str:
        return "integer"

    def decode(self, data: bytes) -> int:
        _check_size(data, self.size, "a binary word")
        return int.from_bytes(data, "little")

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, int) or not 0 <= value < 256**self.size:
            raise LocalProtocolError(f"{value!r} does not fit in {self.size} bytes")
        return value.to_bytes(self.size, "little")


@dataclass(frozen=True, slots=True)
class Digits:
    """A BCD digit string (meter number, customer number): ``NNNNNNNNNNNN`` → ``"…"``."""

    size: int

    @property
    def kind(self) -> str:
        return "digits"

    def decode(self, data: bytes) -> str | None:
        _check_size(data, self.size, "a digit string")
        return bcd_digits(data)

    def encode(self, value: Any) -> bytes:
        text = str(value)
        if not (text.isascii() and text.isdigit()) or len(text) > 2 * self.size:
            raise LocalProtocolError(f"{value!r} is not at most {2 * self.size} digits")
        return digits_to_bcd(text.zfill(2 * self.size))


@dataclass(frozen=True, slots=True)
class MeterDate:
    """A date with the meter's own week day (0 = Sunday), as ``YYMMDDWW`` carries it."""

    date: dt.date
    weekday: int


@dataclass(frozen=True, slots=True)
class DateWeek:
    """``YYMMDDWW``, sent ``WW DD MM YY`` (DI 04000101)."""

    size: int = 4

    @property
    def kind(self) -> str:
        return "date"

    def decode(self, data: bytes) -> MeterDate | None:
        _check_size(data, 4, "YYMMDDWW")
        digits = bcd_digits(data)
        if digits is None:
            return None
        try:
            day = dt.date(2000 + int(digits[0:2]), int(digits[2:4]), int(digits[4:6]))
        except ValueError:
            return None
        return MeterDate(day, int(digits[6:8]))

    def encode(self, value: Any) -> bytes:
        if isinstance(value, dt.date) and not isinstance(value, MeterDate):
            value = MeterDate(value, (value.weekday() + 1) % 7)
        if not isinstance(value, MeterDate) or not 2000 <= value.date.year <= 2099:
            raise LocalProtocolError(f"{value!r} is not a date in 2000–2099")
        if not 0 <= value.weekday <= 6:
            raise LocalProtocolError("the week day is 0 (Sunday) to 6")
        return digits_to_bcd(f"{value.date:%y%m%d}{value.weekday:02d}")


@dataclass(frozen=True, slots=True)
class Clock:
    """``hhmmss``, sent ``ss mm hh`` (DI 04000102)."""

    size: int = 3

    @property
    def kind(self) -> str:
        return "time"

    def decode(self, data: bytes) -> dt.time | None:
        _check_size(data, 3, "hhmmss")
        digits = bcd_digits(data)
        if digits is None:
            return None
        try:
            return dt.time(int(digits[0:2]), int(digits[2:4]), int(digits[4:6]))
        except ValueError:
            return None

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, dt.time):
            raise LocalProtocolError(f"{value!r} is not a time")
        return digits_to_bcd(f"{value:%H%M%S}")


@dataclass(frozen=True, slots=True)
class Timestamp:
    """``YYMMDDhhmm`` (5 bytes) or ``YYMMDDhhmmss`` (6 bytes), sent least significant first.

    Meter clocks keep local time without a zone, so values are naive datetimes.
    """

    size: int = 5

    @property
    def kind(self) -> str:
        return "datetime"

    def decode(self, data: bytes) -> dt.datetime | None:
        _check_size(data, self.size, "a timestamp")
        digits = bcd_digits(data)
        if digits is None:
            return None
        parts = [int(digits[i : i + 2]) for i in range(0, len(digits), 2)]
        try:
            return dt.datetime(2000 + parts[0], *parts[1:])  # noqa: DTZ001 (meter local time)
        except ValueError:
            return None

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, dt.datetime) or not 2000 <= value.year <= 2099:
            raise LocalProtocolError(f"{value!r} is not a datetime in 2000–2099")
        pattern = "%y%m%d%H%M%S" if self.size == 6 else "%y%m%d%H%M"
        if self.size == 5 and value.second:
            raise LocalProtocolError("this timestamp has no seconds")
        return digits_to_bcd(value.strftime(pattern))


@dataclass(frozen=True, slots=True)
class Fields:
    """Fixed BCD fields of two digits each, named most significant first (``MMDDNN`` =
    ``Fields(("month", "day", "table"))``), decoded to a dict of ints."""

    names: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.names)

    @property
    def kind(self) -> str:
        return "fields"

    def decode(self, data: bytes) -> dict[str, int] | None:
        _check_size(data, self.size, "a field group")
        digits = bcd_digits(data)
        if digits is None:
            return None
        return {name: int(digits[2 * i : 2 * i + 2]) for i, name in enumerate(self.names)}

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, dict) or set(value) != set(self.names):
            raise LocalProtocolError(f"expected the fields {', '.join(self.names)}")
        if not all(isinstance(value[n], int) and 0 <= value[n] <= 99 for n in self.names):
            raise LocalProtocolError("each field is an integer 0–99")
        return digits_to_bcd("".join(f"{value[n]:02d}" for n in self.names))


@dataclass(frozen=True, slots=True)
class StatusWord:
    """A two-byte status word decoded to its ``Flag`` class (every bit named)."""

    flags: type[Flag]
    size: int = 2

    @property
    def kind(self) -> str:
        return "status"

    def decode(self, data: bytes) -> Flag:
        _check_size(data, 2, "a status word")
        return self.flags(int.from_bytes(data, "little"))

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, self.flags):
            raise LocalProtocolError(f"expected {self.flags.__name__}, got {value!r}")
        return value.value.to_bytes(2, "little")


@dataclass(frozen=True, slots=True)
class Repeat:
    """``count`` items of one format (a block); ``count=None``: as many as the data holds."""

    item: Format
    count: int | None = None

    @property
    def size(self) -> int | None:
        return None if self.count is None else self.count * self.item.size

    @property
    def kind(self) -> str:
        return "list"

    def decode(self, data: bytes) -> tuple[Any, ...]:
        step = self.item.size
        if len(data) % step or (self.count is not None and len(data) != self.count * step):
            raise RemoteProtocolError(f"{len(data)} bytes are not whole {step}-byte items")
        return tuple(self.item.decode(data[i : i + step]) for i in range(0, len(data), step))

    def encode(self, value: Any) -> bytes:
        items = tuple(value)
        if self.count is not None and len(items) != self.count:
            raise LocalProtocolError(f"expected {self.count} items, got {len(items)}")
        return b"".join(self.item.encode(v) for v in items)


@dataclass(frozen=True, slots=True)
class Composite:
    """Named parts in wire order; only the last part may be of variable size."""

    parts: tuple[tuple[str, Format], ...]

    @property
    def size(self) -> int | None:
        sizes = [fmt.size for _, fmt in self.parts]
        return None if None in sizes else sum(sizes)

    @property
    def kind(self) -> str:
        return "record"

    def decode(self, data: bytes) -> dict[str, Any]:
        result: dict[str, Any] = {}
        offset = 0
        for name, fmt in self.parts:
            size = fmt.size if fmt.size is not None else len(data) - offset
            if offset + size > len(data):
                raise RemoteProtocolError(f"record truncated at {name}")
            result[name] = fmt.decode(data[offset : offset + size])
            offset += size
        if offset != len(data):
            raise RemoteProtocolError(f"{len(data) - offset} bytes left after the record")
        return result

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, dict) or set(value) != {name for name, _ in self.parts}:
            raise LocalProtocolError("expected a dict with the parts of the record")
        return b"".join(fmt.encode(value[name]) for name, fmt in self.parts)


@dataclass(frozen=True, slots=True)
class Raw:
    """Bytes passed through (unknown identifiers, passwords, opaque tables)."""

    size: int | None = None

    @property
    def kind(self) -> str:
        return "raw"

    def decode(self, data: bytes) -> bytes:
        if self.size is not None:
            _check_size(data, self.size, "this item")
        return bytes(data)

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, bytes | bytearray) or (
            self.size is not None and len(value) != self.size
        ):
            raise LocalProtocolError(f"expected {self.size or 'some'} raw bytes")
        return bytes(value)


Format = (
    (Bcd | Binary | Digits | DateWeek | Clock | Timestamp | Fields | StatusWord | Repeat)
    | Composite
    | Raw
)
