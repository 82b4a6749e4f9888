"""The values an enumerated column accepts: each code with its labels in both languages and the
other spellings operators write (``645``, ``modbus``, ``偶`` …).

Codes come from the models' own choices, so a new value in a model shows up here as a code at
least; its labels are added below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from openprepaid.domain.configio.lang import is_chinese, spellings
from openprepaid.domain.sites.models import BAUD_RATES, CostControl, Parity, Transport, UnitKind
from openprepaid.domain.tenants.models import TenantKind
from openprepaid.protocol.profiles import PROFILES, Protocol


def normalize_value(text: str) -> str:
    """How enumerated cells are compared: case, spaces and punctuation do not matter
    (``DL/T 645-2007`` = ``dlt645_2007``)."""
    return re.sub(r"[\W_]+", "", str(text).casefold())


@dataclass(frozen=True, slots=True)
class Choice:
    code: str
    label: str | Promise  # English, translated when shown
    zh: str
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", str(self.code))  # a plain str, not the enum member

    def title(self) -> str:
        return self.zh if is_chinese() else str(self.label)

    def spellings(self) -> set[str]:
        """Every text that stands for this value, normalised."""
        names = spellings(self.code, self.zh, self.label, *self.aliases)
        return {normalize_value(n) for n in names}


def match_choice(choices: tuple[Choice, ...], text: str) -> Choice | None:
    """The choice ``text`` stands for, or None."""
    entry = _LOOKUPS.get(id(choices))
    if entry is None or entry[0] is not choices:
        lookup: dict[str, Choice] = {}
        for choice in choices:
            for spelling in choice.spellings():
                lookup.setdefault(spelling, choice)
        entry = _LOOKUPS[id(choices)] = (choices, lookup)
    return entry[1].get(normalize_value(text))


# Spellings → choice, per tuple of choices (built once: translating every label is slow).
_LOOKUPS: dict[int, tuple[tuple[Choice, ...], dict[str, Choice]]] = {}


TRANSPORT_CHOICES = (
    Choice(
        Transport.TRANSPARENT_TCP,
        _("Transparent TCP"),
        "TCP透传",
        ("透传", "透明传输", "Transparent TCP (raw RS-485)", "transparent"),
    ),
    Choice(
        Transport.MODBUS_TCP,
        _("Modbus-TCP"),
        "Modbus-TCP网关",
        ("Modbus-TCP gateway", "Modbus TCP"),
    ),
    Choice(Transport.SERIAL, _("Serial port"), "本地串口", ("串口", "Local serial port", "RS-485")),
)

PARITY_CHOICES = (
    Choice(Parity.NONE, _("None"), "无校验", ("无", "none")),
    Choice(Parity.EVEN, _("Even"), "偶校验", ("偶", "even")),
    Choice(Parity.ODD, _("Odd"), "奇校验", ("奇", "odd")),
)

BAUD_RATE_CHOICES = tuple(Choice(str(b), str(b), str(b)) for b in BAUD_RATES)

UNIT_KIND_CHOICES = (
    Choice(UnitKind.SHOP, _("Shop"), "商铺", ("店铺", "商店")),
    Choice(UnitKind.OFFICE, _("Office"), "办公", ("办公室", "写字间")),
    Choice(UnitKind.STALL, _("Stall"), "摊位", ("档口",)),
    Choice(UnitKind.RESTAURANT, _("Restaurant"), "餐饮", ("餐厅", "饭店")),
    Choice(UnitKind.PUBLIC, _("Public area"), "公共区域", ("公区", "公共")),
    Choice(UnitKind.OTHER, _("Other"), "其他", ("其它",)),
)

PROTOCOL_CHOICES = (
    Choice(
        Protocol.DLT645_2007,
        "DL/T 645-2007",
        "DL/T 645-2007",
        ("645", "DLT645", "DL/T 645", "645-2007", "DL/T645-2007"),
    ),
    Choice(Protocol.MODBUS_RTU, "Modbus-RTU", "Modbus-RTU", ("modbus", "Modbus RTU")),
)

PHASE_CHOICES = (
    Choice("1", _("Single-phase"), "单相", ("1p", "1相", "单相表")),
    Choice("3", _("Three-phase"), "三相", ("3p", "3相", "三相表")),
)

COST_CONTROL_CHOICES = (
    Choice(
        CostControl.LOCAL,
        _("Local"),
        "本地费控",
        ("本地", "Local (meter holds the wallet)", "local cost control"),
    ),
    Choice(
        CostControl.REMOTE,
        _("Remote"),
        "远程费控",
        ("远程", "Remote (server bills and switches)", "remote cost control"),
    ),
)

TENANT_KIND_CHOICES = (
    Choice(TenantKind.PERSON, _("Person"), "个人", ("个体", "个体户", "individual")),
    Choice(TenantKind.COMPANY, _("Company"), "企业", ("公司", "单位", "organisation")),
)


def profile_choices() -> tuple[Choice, ...]:
    return tuple(Choice(p.code, p.code, p.code, (p.name,)) for p in PROFILES.values())
