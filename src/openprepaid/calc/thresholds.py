"""Balance thresholds (pure): alarm level, trip, close, overload and the no-trip ("friendly") time.

Boundary rules, on the account balance in yuan:

- ``arrears`` when the balance is below 0 (exactly 0.00 is not arrears: nothing is owed);
- otherwise ``alarm_2`` when balance <= ``alarm_2``, otherwise ``alarm_1`` when balance <=
  ``alarm_1``, otherwise ``normal``. (Reaching a threshold exactly raises the alarm; if
  ``alarm_2`` were above ``alarm_1`` the more severe level wins.)
- trip when balance < -``overdraft_limit`` (an overdraft of exactly the limit is allowed; a
  negative limit counts as 0);
- close again when balance > ``close_allowed_limit``, and never while the balance would trip:
  the effective limit is ``max(close_allowed_limit, -overdraft_limit)``, so a meter cannot be
  tripped and closed by the same balance;
- overloaded when the power is above ``overload_power_kw`` (no limit when it is ``None``).

Friendly time (arrears does not trip): a day listed as a holiday, a Saturday or Sunday when
weekends are friendly, or a wall-clock time in ``[friendly_from, friendly_until)``; a span with
``friendly_from > friendly_until`` runs past midnight (22:00-06:00), equal times or ``None`` mean
no daily span.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

NORMAL, ALARM_1, ALARM_2, ARREARS = "normal", "alarm_1", "alarm_2", "arrears"
LEVELS = (NORMAL, ALARM_1, ALARM_2, ARREARS)  # in order of severity


class ThresholdError(ValueError):
    """Thresholds that contradict each other or are not exact amounts."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Amounts in yuan. Meant to hold ``alarm_1 >= alarm_2`` and ``overdraft_limit >= 0``
    (:meth:`problems` says what does not); only non-Decimal values are refused here, so that a
    combination of site and meter overrides never stops automatic control."""

    alarm_1: Decimal
    alarm_2: Decimal
    overdraft_limit: Decimal
    close_allowed_limit: Decimal
    overload_power_kw: Decimal | None = None

    def __post_init__(self) -> None:
        for name in ("alarm_1", "alarm_2", "overdraft_limit", "close_allowed_limit"):
            if not isinstance(getattr(self, name), Decimal):
                raise ThresholdError(f"{name} must be a Decimal, not {getattr(self, name)!r}")
        power = self.overload_power_kw
        if power is not None and not isinstance(power, Decimal):
            raise ThresholdError(f"overload_power_kw must be a Decimal or None, not {power!r}")

    def problems(self) -> list[str]:
        """What is inconsistent, for a form or service to refuse (the functions below still
        give a defined answer: the more severe alarm wins, a negative overdraft counts as 0)."""
        found = []
        if self.alarm_1 < self.alarm_2:
            found.append(f"alarm_1 ({self.alarm_1}) is below alarm_2 ({self.alarm_2})")
        if self.overdraft_limit < 0:
            found.append(f"overdraft_limit ({self.overdraft_limit}) is negative")
        floor = -max(self.overdraft_limit, 0)
        if self.close_allowed_limit < floor:
            found.append(
                f"close_allowed_limit ({self.close_allowed_limit}) is below the overdraft "
                f"allowed ({floor}): a meter would close while it should trip"
            )
        return found


def alarm_level(balance: Decimal, thresholds: Thresholds) -> str:
    """``"normal"``, ``"alarm_1"``, ``"alarm_2"`` or ``"arrears"`` for ``balance``."""
    if balance < 0:
        return ARREARS
    if balance <= thresholds.alarm_2:
        return ALARM_2
    if balance <= thresholds.alarm_1:
        return ALARM_1
    return NORMAL


def should_trip(balance: Decimal, thresholds: Thresholds) -> bool:
    """True when ``balance`` is below the overdraft allowed (``-overdraft_limit``)."""
    return balance < -max(thresholds.overdraft_limit, 0)


def may_close(balance: Decimal, thresholds: Thresholds) -> bool:
    """True when a tripped meter may be closed again: ``balance`` above the close-allowed limit
    (and never while :func:`should_trip` would hold)."""
    return balance > max(thresholds.close_allowed_limit, -max(thresholds.overdraft_limit, 0))


def is_overloaded(power_kw: Decimal, thresholds: Thresholds) -> bool:
    """True when ``power_kw`` is above the overload threshold (never when there is none)."""
    limit = thresholds.overload_power_kw
    return limit is not None and power_kw > limit


def in_friendly_time(
    local_dt: datetime,
    friendly_from: time | None,
    friendly_until: time | None,
    weekends: bool,
    holidays: Collection[date],
) -> bool:
    """True when arrears must not trip at the local wall-clock moment ``local_dt``."""
    day = local_dt.date()
    if day in holidays or (weekends and day.weekday() >= 5):
        return True
    if friendly_from is None or friendly_until is None or friendly_from == friendly_until:
        return False
    now = local_dt.time().replace(tzinfo=None)
    if friendly_from < friendly_until:
        return friendly_from <= now < friendly_until
    return now >= friendly_from or now < friendly_until
