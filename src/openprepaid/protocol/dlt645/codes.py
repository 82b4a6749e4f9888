"""DL/T 645-2007 code tables: function codes, error words, remote-control commands, baud words.

Every table is an ``Enum`` or ``Flag`` whose members carry the standard's numbers (FACTS §2–§4).
The error words name *every* bit (reserved ones as ``RESERVED_N``) so any byte a meter sends
decodes to a flag value instead of raising.
"""

from __future__ import annotations

from enum import Flag, IntEnum

from openprepaid.protocol.errors import LocalProtocolError


class Function(IntEnum):
    """The function code: the low five bits (D4..D0) of the control byte."""

    SECURITY = 0x03  # 2013 State-Grid ESAM commands (安全认证)
    BROADCAST_TIME = 0x08  # 广播校时
    READ = 0x11
    READ_FOLLOW_UP = 0x12  # 读后续数据
    READ_ADDRESS = 0x13
    WRITE = 0x14
    WRITE_ADDRESS = 0x15
    FREEZE = 0x16
    CHANGE_BAUD = 0x17
    CHANGE_PASSWORD = 0x18
    CLEAR_DEMAND = 0x19
    CLEAR_METER = 0x1A
    CLEAR_EVENTS = 0x1B
    CONTROL = 0x1C  # trip / close / alarm / keep power (跳合闸、报警、保电)
    MULTI_FUNCTION_OUTPUT = 0x1D

    @property
    def label(self) -> str:
        """Machine-stable lower-case name (``"read"``, ``"control"`` …)."""
        return self.name.lower()


#: Control-byte bits (FACTS §1).
DIRECTION_BIT = 0x80  # D7: 1 = slave → master (response)
ABNORMAL_BIT = 0x40  # D6: the slave refuses
FOLLOW_UP_BIT = 0x20  # D5: more frames follow
FUNCTION_MASK = 0x1F


class ErrorFlags(Flag):
    """ERR, the one-byte error word of abnormal replies (D1, D4, DC …), FACTS §2.2."""

    OTHER = 0x01
    NO_REQUEST_DATA = 0x02  # no requested data / unsupported DI
    UNAUTHORIZED = 0x04  # password error / unauthorised
    BAUD_RATE_NOT_CHANGEABLE = 0x08
    TOO_MANY_YEAR_ZONES = 0x10
    TOO_MANY_DAY_SEGMENTS = 0x20
    TOO_MANY_TARIFFS = 0x40
    RESERVED_7 = 0x80


class SecurityErrorFlags(Flag):
    """SERR, the two-byte error word of abnormal security replies (C3), FACTS §2.3."""

    OTHER = 0x0001
    REPEATED_RECHARGE = 0x0002
    ESAM_VERIFICATION_FAILED = 0x0004
    AUTHENTICATION_FAILED = 0x0008  # identity authentication failed or timed out
    CUSTOMER_NUMBER_MISMATCH = 0x0010
    RECHARGE_COUNT_ERROR = 0x0020
    PURCHASE_EXCEEDS_HOARDING_LIMIT = 0x0040
    RESERVED_7 = 0x0080
    REMOTE_AUTHENTICATION_LOCKED = 0x0100  # SY03A: high byte bit0
    RESERVED_9 = 0x0200
    RESERVED_10 = 0x0400
    RESERVED_11 = 0x0800
    RESERVED_12 = 0x1000
    RESERVED_13 = 0x2000
    RESERVED_14 = 0x4000
    RESERVED_15 = 0x8000


class ControlCommand(IntEnum):
    """N1 of the remote-control command (C=1C), FACTS §2.1."""

    TRIP = 0x1A  # 跳闸
    CLOSE_ALLOWED = 0x1B  # 合闸允许: the customer restores power by button or card
    DIRECT_CLOSE = 0x1C  # 直接合闸 (2013)
    ALARM = 0x2A
    ALARM_RELEASE = 0x2B
    KEEP_POWER = 0x3A  # 保电: blocks trips
    KEEP_POWER_RELEASE = 0x3B

    @property
    def label(self) -> str:
        return self.name.lower()


class BaudRate(IntEnum):
    """The communication-rate characteristic word (C=17, DI 0400070x), FACTS §4."""

    BPS_600 = 0x02
    BPS_1200 = 0x04
    BPS_2400 = 0x08
    BPS_4800 = 0x10
    BPS_9600 = 0x20
    BPS_19200 = 0x40

    @property
    def bps(self) -> int:
        return int(self.name.removeprefix("BPS_"))

    @classmethod
    def from_bps(cls, bps: int) -> BaudRate:
        try:
            return cls[f"BPS_{bps}"]
        except KeyError:
            raise LocalProtocolError(f"DL/T 645 has no characteristic word for {bps} bps") from None


def flag_names(flags: Flag) -> list[str]:
    """The lower-case names of the bits set in ``flags``, lowest bit first."""
    return [member.name.lower() for member in type(flags) if member in flags and member.name]
