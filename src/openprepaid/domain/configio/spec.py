"""The spreadsheet format: four tables, their columns and the values each column accepts.

Reader, template, export and the operator documentation all work from these tables. A column's
``key`` and Chinese name (``zh``) are fixed parts of the format; its English label is translated
like any other text. A header cell may be the key, the English label or the Chinese name; an
enumerated cell may be the code or a label in either language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from openprepaid.domain.configio.choices import (
    BAUD_RATE_CHOICES,
    COST_CONTROL_CHOICES,
    PARITY_CHOICES,
    PHASE_CHOICES,
    PROTOCOL_CHOICES,
    TENANT_KIND_CHOICES,
    TRANSPORT_CHOICES,
    UNIT_KIND_CHOICES,
    Choice,
    profile_choices,
)
from openprepaid.domain.configio.lang import is_chinese, spellings


class Kind(StrEnum):
    GATEWAYS = "gateways"
    UNITS = "units"
    METERS = "meters"
    TENANTS = "tenants"


# The order of an import: meters refer to gateways and units, tenants to units.
KIND_ORDER = (Kind.GATEWAYS, Kind.UNITS, Kind.METERS, Kind.TENANTS)

INSTRUCTIONS_ZH = "说明"
INSTRUCTIONS_EN = _("Instructions")


def normalize_name(text: str) -> str:
    """How header cells and sheet names are compared: case, spaces, '_' and a trailing '*'
    (required mark) do not matter; full-width brackets count as ASCII ones."""
    text = str(text).strip().rstrip("*＊").translate(_FULL_WIDTH)
    return re.sub(r"[\s_]+", "", text.casefold())


_FULL_WIDTH = str.maketrans("（）：", "():")


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str | Promise  # English, translated when shown
    zh: str  # the Chinese column name (part of the format)
    required: bool = False
    help: str | Promise = ""
    choices: tuple[Choice, ...] = ()
    show_codes: bool = False  # write codes (N/E/O, 2400 …) rather than labels
    example: str = ""
    width: int = 14
    text: bool = False  # keep as text in Excel (addresses, numbers with leading zeros)
    default: str = ""  # the value a blank cell stands for, for the documentation

    def title(self) -> str:
        """The column's name in the active language."""
        return self.zh if is_chinese() else str(self.label)

    def header(self) -> str:
        return f"{self.title()}*" if self.required else self.title()

    def names(self) -> set[str]:
        """Every header text that stands for this column, normalised."""
        return {normalize_name(n) for n in spellings(self.key, self.zh, self.label)}

    def shown(self, code: str) -> str:
        """How a stored code is written in a cell of this column."""
        if not self.choices or self.show_codes:
            return code
        for choice in self.choices:
            if choice.code == code:
                return choice.title()
        return code

    def allowed(self) -> list[str]:
        """The values offered in drop-down lists, in the active language."""
        return [c.code if self.show_codes else c.title() for c in self.choices]


@dataclass(frozen=True, slots=True)
class TableSpec:
    kind: Kind
    label: str | Promise
    zh: str
    columns: tuple[Column, ...]
    help: str | Promise = ""
    by_key: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {c.key: c for c in self.columns})

    def title(self) -> str:
        return self.zh if is_chinese() else str(self.label)

    def names(self) -> set[str]:
        return {normalize_name(n) for n in spellings(str(self.kind), self.zh, self.label)}

    @property
    def required(self) -> list[Column]:
        return [c for c in self.columns if c.required]


def _site() -> Column:
    return Column(
        "site",
        _("Site code"),
        "项目编码",
        required=True,
        help=_("Code of an existing site you may work on."),
        example="MALL",
        width=12,
        text=True,
    )


GATEWAYS = TableSpec(
    Kind.GATEWAYS,
    _("Gateways"),
    "网关",
    help=_("Gateways (通讯管理机) and local serial ports; one row per RS-485 bus."),
    columns=(
        _site(),
        Column(
            "name",
            _("Gateway name"),
            "网关名称",
            required=True,
            help=_("Unique on the site; the meters table refers to it."),
            example="A-1F-GW1",
            width=16,
            text=True,
        ),
        Column(
            "transport",
            _("Transport"),
            "通讯方式",
            required=True,
            help=_(
                "How the server reaches the bus: transparent TCP (raw RS-485 bytes), a Modbus-TCP "
                "gateway (Modbus meters only), or a serial port of this server."
            ),
            choices=TRANSPORT_CHOICES,
            example="transparent_tcp",
            width=18,
        ),
        Column(
            "host",
            _("Host"),
            "主机地址",
            help=_("IP address or host name; required for TCP transports."),
            example="192.168.1.20",
            width=16,
            text=True,
        ),
        Column(
            "port",
            _("Port"),
            "端口",
            help=_("TCP port 1-65535; required for TCP transports."),
            example="10001",
            width=8,
        ),
        Column(
            "serial_device",
            _("Serial device"),
            "串口设备",
            help=_("Device of a serial port, e.g. /dev/ttyUSB0 or COM3; required for serial."),
            example="/dev/ttyUSB0",
            width=16,
            text=True,
        ),
        Column(
            "baud_rate",
            _("Baud rate"),
            "波特率",
            help=_("Line speed of the RS-485 bus."),
            choices=BAUD_RATE_CHOICES,
            show_codes=True,
            example="2400",
            width=10,
            default="2400",
        ),
        Column(
            "parity",
            _("Parity"),
            "校验位",
            help=_("Parity of the RS-485 bus: N (none), E (even), O (odd)."),
            choices=PARITY_CHOICES,
            show_codes=True,
            example="E",
            width=8,
            default="E",
        ),
        Column(
            "location",
            _("Location"),
            "安装位置",
            help=_("Where the gateway is installed."),
            example="A座 1F 东侧强电井",
            width=24,
        ),
    ),
)

UNITS = TableSpec(
    Kind.UNITS,
    _("Units"),
    "单元",
    help=_("Rentable spaces and public areas; buildings and floors are created as needed."),
    columns=(
        _site(),
        Column(
            "building",
            _("Building"),
            "楼栋",
            required=True,
            help=_("Building name; created if new."),
            example="A座",
            width=10,
            text=True,
        ),
        Column(
            "floor",
            _("Floor"),
            "楼层",
            required=True,
            help=_("Floor name such as B1, 1F, 2F; created if new."),
            example="1F",
            width=8,
            text=True,
        ),
        Column(
            "code",
            _("Unit number"),
            "单元编号",
            required=True,
            help=_("Unique on the site; the meters and tenants tables refer to it."),
            example="A-1F-101",
            width=14,
            text=True,
        ),
        Column(
            "name",
            _("Unit name"),
            "单元名称",
            help=_("Shop sign or description."),
            example="星辰珠宝",
            width=18,
        ),
        Column(
            "kind",
            _("Unit type"),
            "单元类型",
            required=True,
            help=_("What the space is used for."),
            choices=UNIT_KIND_CHOICES,
            example="shop",
            width=12,
        ),
        Column(
            "area",
            _("Area (m²)"),
            "面积(m²)",
            help=_("Floor area in square metres, at most 2 decimals."),
            example="85.5",
            width=10,
        ),
    ),
)

METERS = TableSpec(
    Kind.METERS,
    _("Meters"),
    "电表",
    help=_("Prepaid meters: one row per meter, on a gateway's bus, serving one unit."),
    columns=(
        _site(),
        Column(
            "gateway",
            _("Gateway"),
            "所属网关",
            required=True,
            help=_("Name of a gateway on the same site (in the gateways table or already saved)."),
            example="A-1F-GW1",
            width=16,
            text=True,
        ),
        Column(
            "address",
            _("Meter address"),
            "表地址",
            required=True,
            help=_(
                "DL/T 645: the 12-digit nameplate address (leading zeros may be left out). "
                "Modbus-RTU: the unit id 1-247. Unique on the gateway."
            ),
            example="201000000012",
            width=16,
            text=True,
        ),
        Column(
            "protocol",
            _("Protocol"),
            "通讯协议",
            required=True,
            help=_("The protocol the meter speaks on the RS-485 bus."),
            choices=PROTOCOL_CHOICES,
            example="dlt645_2007",
            width=16,
        ),
        Column(
            "profile",
            _("Model profile"),
            "电表型号",
            required=True,
            help=_("The meter model; it must speak the protocol of the row."),
            choices=profile_choices(),
            show_codes=True,
            example="dlt645-prepaid-1p",
            width=20,
        ),
        Column(
            "phases",
            _("Phases"),
            "相数",
            help=_("1 or 3; left blank, the model's own phase count."),
            choices=PHASE_CHOICES,
            show_codes=True,
            example="1",
            width=8,
        ),
        Column(
            "ct_ratio",
            _("CT ratio"),
            "互感器变比",
            help=_("Current transformer ratio, 1-9999 (1 for a direct-connected meter)."),
            example="1",
            width=10,
            default="1",
        ),
        Column(
            "cost_control",
            _("Cost control"),
            "费控方式",
            help=_("Local: the meter holds the wallet. Remote: the server bills and switches."),
            choices=COST_CONTROL_CHOICES,
            example="remote",
            width=12,
            default="remote",
        ),
        Column(
            "unit",
            _("Unit number"),
            "单元编号",
            required=True,
            help=_("Number of the unit the meter serves (in the units table or already saved)."),
            example="A-1F-101",
            width=14,
            text=True,
        ),
    ),
)

TENANTS = TableSpec(
    Kind.TENANTS,
    _("Tenants"),
    "商户",
    help=_("Tenants; the units listed give the tenant an account holding their meters."),
    columns=(
        _site(),
        Column(
            "code",
            _("Tenant number"),
            "商户编号",
            required=True,
            help=_("Unique on the site."),
            example="T0001",
            width=12,
            text=True,
        ),
        Column(
            "name",
            _("Tenant name"),
            "商户名称",
            required=True,
            help=_("Name of the person or company, as on receipts."),
            example="星辰珠宝有限公司",
            width=22,
        ),
        Column(
            "kind",
            _("Tenant type"),
            "商户类型",
            required=True,
            help=_("A person or a company."),
            choices=TENANT_KIND_CHOICES,
            example="company",
            width=10,
        ),
        Column(
            "contact_name",
            _("Contact person"),
            "联系人",
            help=_("Who to call about the account."),
            example="王伟",
            width=10,
        ),
        Column(
            "mobile",
            _("Mobile number"),
            "手机号码",
            help=_("11 digits starting with 1; receives the balance alerts."),
            example="13800138000",
            width=14,
            text=True,
        ),
        Column(
            "units",
            _("Units"),
            "租用单元",
            help=_(
                "Unit numbers separated by ';', ',' or '、'. The tenant gets an account holding "
                "the meters of these units."
            ),
            example="A-1F-101;A-1F-102",
            width=24,
            text=True,
        ),
    ),
)

TABLES: dict[Kind, TableSpec] = {t.kind: t for t in (GATEWAYS, UNITS, METERS, TENANTS)}

# The columns that make up each kind's natural key, in order.
NATURAL_KEYS: dict[Kind, tuple[str, ...]] = {
    Kind.GATEWAYS: ("site", "name"),
    Kind.UNITS: ("site", "code"),
    Kind.METERS: ("site", "gateway", "address"),
    Kind.TENANTS: ("site", "code"),
}
