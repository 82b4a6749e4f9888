"""DL/T 645 side of the meter profiles: which identifiers make up a reading on each DL/T 645
prepaid model and how trip, close, keep power, prices, thresholds, time and recharge are
expressed there (FACTS §2.1, §5, §7).

Keyed by the :data:`openprepaid.protocol.profiles.PROFILES` codes; this module extends those
profiles without editing them. Every builder returns encoder-ready request objects
(:func:`~openprepaid.protocol.dlt645.requests.encode_request`). Times, passwords, operator codes
and sealed security payloads are parameters: nothing here reads a clock or holds a key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from openprepaid.protocol.dlt645.codes import ControlCommand
from openprepaid.protocol.dlt645.fields import Password
from openprepaid.protocol.dlt645.formats import MeterDate
from openprepaid.protocol.dlt645.requests import (
    BroadcastTimeRequest,
    CipheredControlRequest,
    ControlRequest,
    ReadRequest,
    SecurityRequest,
    WriteRequest,
)
from openprepaid.protocol.errors import LocalProtocolError
from openprepaid.protocol.profiles import PROFILES, MeterProfile, Protocol
from openprepaid.protocol.security.messages import (
    DI_IDENTITY_AUTHENTICATION,
    DI_OPEN_ACCOUNT,
    DI_RECHARGE,
)

# --- identifiers (FACTS §5) -----------------------------------------------------------------
DI_FORWARD_ACTIVE_BLOCK = 0x0001FF00  # total + T1..T4 (sharp, peak, flat, valley)
DI_REMAINING_AMOUNT = 0x00900200
DI_OVERDRAFT_AMOUNT = 0x00900201
DI_PURCHASE_COUNT = 0x03330201  # total purchase count after the last purchase
DI_STATUS_WORD_3 = 0x04000503  # relay state, relay command, keep power, account opened
DI_DATE = 0x04000101
DI_TIME = 0x04000102
DI_VOLTAGE_A = 0x02010100
DI_CURRENT_A = 0x02020100
DI_ACTIVE_POWER_TOTAL = 0x02030000
DI_VOLTAGE_BLOCK = 0x0201FF00  # A, B, C
DI_CURRENT_BLOCK = 0x0202FF00  # A, B, C
DI_ACTIVE_POWER_BLOCK = 0x0203FF00  # total, A, B, C
DI_TARIFF_PRICE_BASE = 0x04050100  # + tariff number (01..3F); current set
DI_BACKUP_TARIFF_PRICE_BASE = 0x04050200  # + tariff number; backup set
DI_ALARM_AMOUNT_1 = 0x04001001
DI_ALARM_AMOUNT_2 = 0x04001002
DI_OVERDRAFT_LIMIT = 0x04001003
DI_HOARDING_LIMIT = 0x04001004
DI_CLOSE_ALLOWED_LIMIT = 0x04001005

MAX_TARIFFS = 0x3F

_COMMON_HEAD = (DI_FORWARD_ACTIVE_BLOCK, DI_REMAINING_AMOUNT, DI_OVERDRAFT_AMOUNT)
_COMMON_TAIL = (DI_PURCHASE_COUNT, DI_STATUS_WORD_3, DI_DATE, DI_TIME)
SINGLE_PHASE_READING = (
    *_COMMON_HEAD,
    DI_VOLTAGE_A,
    DI_CURRENT_A,
    DI_ACTIVE_POWER_TOTAL,
    *_COMMON_TAIL,
)
THREE_PHASE_READING = (
    *_COMMON_HEAD,
    DI_VOLTAGE_BLOCK,
    DI_CURRENT_BLOCK,
    DI_ACTIVE_POWER_BLOCK,
    *_COMMON_TAIL,
)
STATUS_SWEEP = (DI_STATUS_WORD_3, DI_REMAINING_AMOUNT)

#: Threshold keyword → its money-type parameter DI (XXXXXX.XX yuan).
THRESHOLD_DIS: dict[str, int] = {
    "alarm_1": DI_ALARM_AMOUNT_1,
    "alarm_2": DI_ALARM_AMOUNT_2,
    "overdraft_limit": DI_OVERDRAFT_LIMIT,
    "hoarding_limit": DI_HOARDING_LIMIT,
    "close_allowed_limit": DI_CLOSE_ALLOWED_LIMIT,
}


@dataclass(frozen=True, slots=True)
class Dlt645Profile:
    """One DL/T 645 prepaid model: its reading DIs and its command builders.

    ``password`` / ``operator`` are the meter's write password (level 02 or 04 for the plain
    forms, FACTS §3) and the operator code C0..C3; ``valid_until`` is the 1C deadline in the
    meter's wall-clock time (naive), after which the meter refuses the command.
    """

    profile: MeterProfile
    reading: tuple[int, ...]
    status_sweep: tuple[int, ...] = STATUS_SWEEP

    # --- reads -------------------------------------------------------------------------------

    def reading_requests(self, address: str) -> tuple[ReadRequest, ...]:
        """The C=11 reads that together make up one full reading."""
        return tuple(ReadRequest(address, di) for di in self.reading)

    def status_requests(self, address: str) -> tuple[ReadRequest, ...]:
        """The fast sweep: status word 3 (relay, keep power) and the remaining amount."""
        return tuple(ReadRequest(address, di) for di in self.status_sweep)

    # --- remote control (1C) -----------------------------------------------------------------

    def control(
        self,
        address: str,
        command: ControlCommand,
        *,
        valid_until: dt.datetime,
        password: Password,
        operator: str = "00000000",
    ) -> ControlRequest:
        """The plain 1C form: PA P0P1P2 + C0..C3 + N1 00 + deadline."""
        return ControlRequest(address, ControlCommand(command), valid_until, password, operator)

    def trip(
        self,
        address: str,
        *,
        valid_until: dt.datetime,
        password: Password,
        operator: str = "00000000",
    ) -> ControlRequest:
        return self.control(
            address,
            ControlCommand.TRIP,
            valid_until=valid_until,
            password=password,
            operator=operator,
        )

    def close_allowed(
        self,
        address: str,
        *,
        valid_until: dt.datetime,
        password: Password,
        operator: str = "00000000",
    ) -> ControlRequest:
        """Allow closing: the customer restores power by button or card."""
        return self.control(
            address,
            ControlCommand.CLOSE_ALLOWED,
            valid_until=valid_until,
            password=password,
            operator=operator,
        )

    def direct_close(
        self,
        address: str,
        *,
        valid_until: dt.datetime,
        password: Password,
        operator: str = "00000000",
    ) -> ControlRequest:
        return self.control(
            address,
            ControlCommand.DIRECT_CLOSE,
            valid_until=valid_until,
            password=password,
            operator=operator,
        )

    def keep_power(
        self,
        address: str,
        on: bool,
        *,
        valid_until: dt.datetime,
        password: Password,
        operator: str = "00000000",
    ) -> ControlRequest:
        """Keep power on (blocks trips) or release it."""
        command = ControlCommand.KEEP_POWER if on else ControlCommand.KEEP_POWER_RELEASE
        return self.control(
            address, command, valid_until=valid_until, password=password, operator=operator
        )

    def ciphered_control(
        self, address: str, sealed: bytes, *, operator: str = "00000000"
    ) -> CipheredControlRequest:
        """The level-98 1C form around ``MasterSession.remote_control(action, deadline=…)``:
        the action and deadline travel inside the sealed payload."""
        return CipheredControlRequest(address, sealed, operator=operator)

    # --- writes (14) -------------------------------------------------------------------------

    def push_prices(
        self,
        address: str,
        prices: Sequence[Decimal],
        *,
        password: Password,
        operator: str = "00000000",
        backup: bool = False,
    ) -> tuple[WriteRequest, ...]:
        """One write per tariff price (yuan/kWh, 4 decimals): ``prices[0]`` is T1 (sharp),
        then peak, flat, valley … ``backup`` writes the backup set (0405 02 xx), which the meter
        takes over at its tariff-price switch time (04000108)."""
        if not 1 <= len(prices) <= MAX_TARIFFS:
            raise LocalProtocolError(f"a meter has 1 to {MAX_TARIFFS} tariff prices")
        base = DI_BACKUP_TARIFF_PRICE_BASE if backup else DI_TARIFF_PRICE_BASE
        return tuple(
            WriteRequest.for_value(address, base + n, price, password, operator)
            for n, price in enumerate(prices, start=1)
        )

    def push_thresholds(
        self,
        address: str,
        *,
        password: Password,
        operator: str = "00000000",
        alarm_1: Decimal | None = None,
        alarm_2: Decimal | None = None,
        overdraft_limit: Decimal | None = None,
        hoarding_limit: Decimal | None = None,
        close_allowed_limit: Decimal | None = None,
    ) -> tuple[WriteRequest, ...]:
        """One write per threshold given (yuan); ``None`` leaves that threshold alone."""
        values = {
            "alarm_1": alarm_1,
            "alarm_2": alarm_2,
            "overdraft_limit": overdraft_limit,
            "hoarding_limit": hoarding_limit,
            "close_allowed_limit": close_allowed_limit,
        }
        writes = tuple(
            WriteRequest.for_value(address, THRESHOLD_DIS[name], value, password, operator)
            for name, value in values.items()
            if value is not None
        )
        if not writes:
            raise LocalProtocolError("no threshold to push")
        return writes

    # --- time --------------------------------------------------------------------------------

    def broadcast_time(self, moment: dt.datetime) -> BroadcastTimeRequest:
        """C=08 to 99…99 (never answered); ``moment`` is the meters' wall-clock time."""
        return BroadcastTimeRequest(moment.replace(microsecond=0))

    def set_time(
        self,
        address: str,
        moment: dt.datetime,
        *,
        password: Password,
        operator: str = "00000000",
    ) -> tuple[WriteRequest, WriteRequest]:
        """Addressed time setting: write date + week day (04000101), then time (04000102)."""
        day = MeterDate(moment.date(), (moment.weekday() + 1) % 7)  # 0 = Sunday
        return (
            WriteRequest.for_value(address, DI_DATE, day, password, operator),
            WriteRequest.for_value(
                address, DI_TIME, moment.time().replace(microsecond=0), password, operator
            ),
        )

    # --- security (03) -----------------------------------------------------------------------

    def authenticate(
        self, address: str, payload: bytes, *, operator: str = "00000000"
    ) -> SecurityRequest:
        """Identity authentication around ``MasterSecurity.begin_authentication(…).payload``."""
        return SecurityRequest(address, DI_IDENTITY_AUTHENTICATION, payload, operator)

    def open_account(
        self, address: str, sealed: bytes, *, operator: str = "00000000"
    ) -> SecurityRequest:
        """Open account around ``MasterSession.open_account(…)``."""
        return SecurityRequest(address, DI_OPEN_ACCOUNT, sealed, operator)

    def recharge(
        self, address: str, sealed: bytes, *, operator: str = "00000000"
    ) -> SecurityRequest:
        """Recharge around ``MasterSession.recharge(…)`` (purchase count = meter's + 1)."""
        return SecurityRequest(address, DI_RECHARGE, sealed, operator)


DLT645_PROFILES: dict[str, Dlt645Profile] = {
    "dlt645-prepaid-1p": Dlt645Profile(PROFILES["dlt645-prepaid-1p"], SINGLE_PHASE_READING),
    "dlt645-prepaid-3p": Dlt645Profile(PROFILES["dlt645-prepaid-3p"], THREE_PHASE_READING),
}


def dlt645_profile(code: str) -> Dlt645Profile:
    """The DL/T 645 profile for a meter profile code; LocalProtocolError if it has none."""
    try:
        found = DLT645_PROFILES[code]
    except KeyError:
        raise LocalProtocolError(f"no DL/T 645 profile for {code!r}") from None
    assert found.profile.protocol is Protocol.DLT645_2007
    return found
