"""Automatic control: what an account's balance means for its alarm level and its meters.

:func:`after_post` runs inside the ledger's transaction after balances moved
(``openprepaid.domain.billing.ledger``), and after thresholds change
(``services.settings``):

- **Alarm level.** The account's thresholds are the site's :class:`BillingSettings` (created
  with the defaults when the site has none) overlaid by the :class:`MeterThresholds` of the
  meters attached to the account. With several meters the most cautious value wins: the highest
  alarm levels, the lowest overdraft limit, the highest close-allowed limit and the lowest
  overload power. ``openprepaid.calc.thresholds.alarm_level`` gives the level; a change is
  stored on :class:`AccountBalance` and recorded as one :class:`BillingAlarm` (kind ``level``).
- **Relay intent** of the account's *remote* meters (``MeterStatus.account_relay``): open when
  the balance is below the overdraft limit (``should_trip``), closed when it is above the
  close-allowed limit (``may_close``), unchanged in between — a tripped meter stays open until a
  recharge lifts the balance above the close-allowed limit. Local meters trip and close by
  themselves; their intent stays automatic.

What the headend is asked to do is decided when it reads the controls
(``DjangoRepository.controls`` through :func:`effective_relay`): an operator's override (held
open / held closed) wins; otherwise the account's intent, except that an *open* intent is held
back while keep power is wanted and while the site is in friendly time (no-trip hours, weekends
when configured, the site's :class:`Holiday` days — in the site's local time,
``settings.TIME_ZONE``). Because friendly time is applied when the controls are read, not
stored, a trip held back by friendly time happens on the headend's first reconcile sweep after
friendly time ends, with no periodic job.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from openprepaid.calc.thresholds import (
    Thresholds,
    alarm_level,
    in_friendly_time,
    may_close,
    should_trip,
)
from openprepaid.domain.billing.models import (
    AccountBalance,
    BillingAlarm,
    BillingAlarmKind,
    BillingSettings,
    Holiday,
    MeterThresholds,
)
from openprepaid.domain.metering.models import MeterStatus
from openprepaid.domain.sites.models import CostControl
from openprepaid.domain.tenants.models import Account, AccountMeter
from openprepaid.headend.model import DesiredRelay

_LIMITS = ("alarm_1", "alarm_2", "overdraft_limit", "close_allowed_limit", "overload_power_kw")
#: For each threshold, how the values of several meters combine: the most cautious one.
_CAUTIOUS = {
    "alarm_1": max,
    "alarm_2": max,
    "overdraft_limit": min,
    "close_allowed_limit": max,
    "overload_power_kw": min,
}


@dataclass(frozen=True, slots=True)
class AccountControl:
    """What control needs to know of one account."""

    account_id: int
    site_id: int
    thresholds: Thresholds
    remote_meters: tuple[int, ...]


# ------------------------------------------------------------------------------ thresholds


def site_settings(site_ids: Iterable[int]) -> dict[int, BillingSettings]:
    """The billing settings of each site, created with the defaults where missing."""
    ids = sorted(set(site_ids))
    found = {s.site_id: s for s in BillingSettings.objects.filter(site_id__in=ids)}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        BillingSettings.objects.bulk_create(
            [BillingSettings(site_id=pk) for pk in missing], ignore_conflicts=True
        )
        found.update((s.site_id, s) for s in BillingSettings.objects.filter(site_id__in=missing))
    return found


def site_thresholds(billing: BillingSettings) -> Thresholds:
    return Thresholds(
        alarm_1=billing.alarm_1,
        alarm_2=billing.alarm_2,
        overdraft_limit=billing.overdraft_limit,
        close_allowed_limit=billing.close_allowed_limit,
        overload_power_kw=billing.overload_power_kw,
    )


def combine(site: Thresholds, overrides: Sequence[MeterThresholds]) -> Thresholds:
    """``site`` overlaid by the meters' overrides; with several meters the most cautious value
    of each threshold wins (see the module's description)."""
    if not overrides:
        return site
    values = {}
    for name in _LIMITS:
        default = getattr(site, name)
        candidates = [getattr(o, name) for o in overrides]
        effective = [default if v is None else v for v in candidates]
        present = [v for v in effective if v is not None]
        values[name] = _CAUTIOUS[name](present) if present else None
    return Thresholds(**values)


def thresholds_for_meter(meter) -> Thresholds:
    """The thresholds that apply to one meter (the site's, overlaid by the meter's own)."""
    billing = site_settings([meter.gateway.site_id])[meter.gateway.site_id]
    overrides = list(MeterThresholds.objects.filter(meter_id=meter.pk))
    return combine(site_thresholds(billing), overrides)


def account_controls(account_ids: Iterable[int]) -> dict[int, AccountControl]:
    """Thresholds and remote meters of each account, in a fixed number of queries."""
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    sites = dict(Account.objects.filter(pk__in=ids).values_list("pk", "site_id"))
    meters: dict[int, list[tuple[int, str]]] = defaultdict(list)
    memberships = AccountMeter.objects.filter(
        account_id__in=ids, detached_at__isnull=True
    ).values_list("account_id", "meter_id", "meter__cost_control")
    for account_id, meter_id, cost_control in memberships:
        meters[account_id].append((meter_id, cost_control))
    all_meters = [m for items in meters.values() for m, _cost in items]
    overrides: dict[int, MeterThresholds] = {}
    if all_meters:
        overrides = {t.meter_id: t for t in MeterThresholds.objects.filter(meter_id__in=all_meters)}
    billing = site_settings(sites.values())
    result = {}
    for account_id in ids:
        site_id = sites.get(account_id)
        if site_id is None:
            continue
        own = meters.get(account_id, [])
        result[account_id] = AccountControl(
            account_id=account_id,
            site_id=site_id,
            thresholds=combine(
                site_thresholds(billing[site_id]),
                [overrides[m] for m, _cost in own if m in overrides],
            ),
            remote_meters=tuple(m for m, cost in own if cost == CostControl.REMOTE),
        )
    return result


def thresholds_for_account(account_id: int) -> Thresholds:
    return account_controls([account_id])[account_id].thresholds


# --------------------------------------------------------------------------- after posting


def relay_intent(balance: Decimal, thresholds: Thresholds, current: str) -> str:
    """The account's relay intent for a remote meter whose intent is ``current``."""
    if should_trip(balance, thresholds):
        return DesiredRelay.OPEN.value
    if may_close(balance, thresholds):
        return DesiredRelay.CLOSED.value
    return current


def after_post(balances: Sequence[AccountBalance], *, at: dt.datetime | None = None) -> None:
    """Re-evaluate the alarm level and the remote meters' relay intent of the accounts whose
    balances moved. Runs inside the caller's transaction; a fixed number of queries however
    many accounts."""
    balances = list(balances)
    if not balances:
        return
    at = at or timezone.now()
    controls = account_controls(b.account_id for b in balances)
    level_changed: list[AccountBalance] = []
    alarms: list[BillingAlarm] = []
    for row in balances:
        control = controls.get(row.account_id)
        if control is None:
            continue
        level = alarm_level(row.balance, control.thresholds)
        if level != row.level:
            alarms.append(
                BillingAlarm(
                    site_id=control.site_id,
                    kind=BillingAlarmKind.LEVEL,
                    account_id=row.account_id,
                    level_from=row.level,
                    level_to=level,
                    balance=row.balance,
                    raised_at=at,
                )
            )
            row.level = level
            level_changed.append(row)
    if level_changed:
        AccountBalance.objects.bulk_update(level_changed, ["level"])
        BillingAlarm.objects.bulk_create(alarms)
    _set_intents(balances, controls)


def _set_intents(balances: Sequence[AccountBalance], controls: dict[int, AccountControl]) -> None:
    meters = {
        m: (row, controls[row.account_id])
        for row in balances
        if row.account_id in controls
        for m in controls[row.account_id].remote_meters
    }
    if not meters:
        return
    current = dict(
        MeterStatus.objects.filter(meter_id__in=list(meters)).values_list(
            "meter_id", "account_relay"
        )
    )
    changes: dict[str, list[int]] = defaultdict(list)
    for meter_id, (row, control) in meters.items():
        was = current.get(meter_id, DesiredRelay.AUTO.value)
        wanted = relay_intent(row.balance, control.thresholds, was)
        if wanted != was:
            changes[wanted].append(meter_id)
    if not changes:
        return
    missing = [m for ids in changes.values() for m in ids if m not in current]
    if missing:
        # Rows the headend has not written yet; it only ever writes the reported fields.
        MeterStatus.objects.bulk_create(
            [MeterStatus(meter_id=pk) for pk in missing], ignore_conflicts=True
        )
    now = timezone.now()
    for wanted, ids in changes.items():
        MeterStatus.objects.filter(meter_id__in=ids).update(account_relay=wanted, updated_at=now)


def reevaluate_site(site_id: int, *, at: dt.datetime | None = None) -> None:
    """Re-evaluate every account of a site (after its thresholds changed)."""
    rows = list(
        AccountBalance.objects.select_for_update().filter(account__site_id=site_id).order_by("pk")
    )
    after_post(rows, at=at)


# --------------------------------------------------------------------------- friendly time


def site_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def friendly_sites(site_ids: Iterable[int], at: dt.datetime) -> set[int]:
    """Which of ``site_ids`` are in friendly (no-trip) time at ``at``."""
    ids = sorted(set(site_ids))
    if not ids:
        return set()
    local = timezone.localtime(at, site_zone())
    holidays: dict[int, set[dt.date]] = defaultdict(set)
    for site_id, day in Holiday.objects.filter(site_id__in=ids, day=local.date()).values_list(
        "site_id", "day"
    ):
        holidays[site_id].add(day)
    result = set()
    for billing in BillingSettings.objects.filter(site_id__in=ids):
        if in_friendly_time(
            local,
            billing.friendly_from,
            billing.friendly_until,
            billing.friendly_weekends,
            holidays.get(billing.site_id, set()),
        ):
            result.add(billing.site_id)
    # A site without settings has no friendly hours, but its holidays still hold back trips.
    result.update(pk for pk in holidays if pk not in result)
    return result


def effective_relay(
    *, operator: str | None, account: str | None, keep_power: bool, friendly: bool
) -> DesiredRelay:
    """The relay state the headend works towards: the operator's override, else the account's
    intent — whose trip keep power and friendly time hold back."""
    if operator and operator != DesiredRelay.AUTO.value:
        return DesiredRelay(operator)
    wanted = DesiredRelay(account or DesiredRelay.AUTO.value)
    if wanted is DesiredRelay.OPEN and (keep_power or friendly):
        return DesiredRelay.AUTO
    return wanted
