"""Running status words 1–7 (DI 04000501..07) as flags, FACTS §6.

Bits the sources name get a name; the others are ``BIT_N``. Two-bit fields are split into one
flag per bit: status word 3 bits 1–2 (power supply: 01 auxiliary, 10 battery) and bits 8–9
(meter type: 01 energy prepaid, 10 money prepaid).
"""

from __future__ import annotations

from enum import Flag


class StatusWord1(Flag):
    BIT_0 = 1 << 0
    DEMAND_INTERVAL = 1 << 1  # 0 sliding, 1 interval
    CLOCK_BATTERY_LOW = 1 << 2
    READING_BATTERY_LOW = 1 << 3
    ACTIVE_POWER_REVERSE = 1 << 4
    REACTIVE_POWER_REVERSE = 1 << 5
    REMOTE_COST_CONTROL = 1 << 6  # 2013: 0 local, 1 remote cost control
    BIT_7 = 1 << 7
    RELAY_CIRCUIT_ERROR = 1 << 8  # 2013
    ESAM_ERROR = 1 << 9  # 2013
    BIT_10 = 1 << 10
    BIT_11 = 1 << 11
    INTERNAL_PROGRAM_ERROR = 1 << 12  # 2013
    MEMORY_FAULT = 1 << 13  # 2013
    OVERDRAFT = 1 << 14  # 2013
    CLOCK_FAULT = 1 << 15  # 2013


class StatusWord3(Flag):
    """Operation class (运行状态字3)."""

    SECOND_DAY_TABLE_SET = 1 << 0
    POWER_SUPPLY_AUXILIARY = 1 << 1
    POWER_SUPPLY_BATTERY = 1 << 2
    PROGRAMMING_ALLOWED = 1 << 3
    RELAY_OPEN = 1 << 4  # actual relay state: 0 closed (通), 1 open (断)
    SECOND_TIME_ZONE_SET = 1 << 5  # 2013
    RELAY_TRIP_COMMANDED = 1 << 6  # 2013: relay command state, 0 close, 1 trip
    PRE_TRIP_ALARM = 1 << 7  # 2013
    ENERGY_PREPAID = 1 << 8  # 2013 meter type 01
    MONEY_PREPAID = 1 << 9  # 2013 meter type 10
    SECOND_LADDER_TABLE = 1 << 10  # 2013
    SECOND_LADDER_SET = 1 << 11  # 2013
    KEEP_POWER = 1 << 12  # 2013 保电
    AUTHENTICATION_VALID = 1 << 13  # 2013
    LOCAL_ACCOUNT_NOT_OPENED = 1 << 14  # 2013
    REMOTE_ACCOUNT_NOT_OPENED = 1 << 15  # 2013


def _unnamed(name: str) -> type[Flag]:
    return Flag(name, [(f"BIT_{i}", 1 << i) for i in range(16)], module=__name__)


# The sources found name no bits of status words 2 and 4–7.
StatusWord2 = _unnamed("StatusWord2")
StatusWord4 = _unnamed("StatusWord4")
StatusWord5 = _unnamed("StatusWord5")
StatusWord6 = _unnamed("StatusWord6")
StatusWord7 = _unnamed("StatusWord7")

STATUS_WORDS: tuple[type[Flag], ...] = (
    StatusWord1,
    StatusWord2,
    StatusWord3,
    StatusWord4,
    StatusWord5,
    StatusWord6,
    StatusWord7,
)
