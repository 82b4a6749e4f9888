"""CRC-16/MODBUS: reflected polynomial 0xA001, initial value 0xFFFF, no final XOR.

On the wire the CRC follows the frame **low byte first** (``01 03 00 00 00 02`` → CRC 0x0BC4 →
``C4 0B``). Table-driven: one table lookup per byte. No maintained pure-Python library does this
faster than a 256-entry table, so we keep it here rather than add a dependency.
"""

from __future__ import annotations


def _make_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _make_table()


def crc16_modbus(data: bytes | bytearray | memoryview) -> int:
    """The CRC-16/MODBUS of ``data`` as an integer (send it with ``crc_bytes``)."""
    crc = 0xFFFF
    table = _TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def crc_bytes(data: bytes | bytearray | memoryview) -> bytes:
    """The two CRC bytes to append to ``data``, low byte first."""
    return crc16_modbus(data).to_bytes(2, "little")
