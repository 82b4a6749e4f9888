"""What a simulated site is made of: gateways, their buses and the meters on them.

A :class:`SiteSpec` comes either from options (:func:`site_from_options`: so many gateways of
so many meters) or from the console's site tables (:func:`site_from_tables`: the spreadsheet
import format, e.g. the sample site's tables), so that the simulated site and the configured
site match meter for meter. :meth:`SiteSpec.listing` is what ``openprepaid simulate`` prints:
which gateway listens where and which meter addresses it carries.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from openprepaid.protocol.profiles import normalize_address

TRANSPARENT = "transparent_tcp"
MODBUS_TCP = "modbus_tcp"
SERIAL = "serial"
DLT645 = "dlt645_2007"
MODBUS = "modbus_rtu"
LOCAL, REMOTE = "local", "remote"
PROFILE = {
    (DLT645, 1): "dlt645-prepaid-1p",
    (DLT645, 3): "dlt645-prepaid-3p",
    (MODBUS, 1): "acrel-ddsy1352",
    (MODBUS, 3): "acrel-dtsy1352",
}
UNIT_KINDS = ("shop", "office", "stall", "restaurant", "public", "other")
BUS_LIMIT = 32
DEFAULT_HOST = "127.0.0.1"
DEFAULT_FIRST_PORT = 10001
BITS_PER_BYTE = {"E": 11, "O": 11, "N": 10}


class SiteSpecError(ValueError):
    """Site data the simulator cannot build a site from; the message says which row and why."""


@dataclass(frozen=True, slots=True)
class MeterSpec:
    """One meter on a bus. ``address`` is the canonical bus address (12 digits for DL/T 645,
    the unit id ``"1"``..``"247"`` for Modbus-RTU); ``meter_number`` is the 12-digit number the
    meter's security key is diversified by (the address itself for DL/T 645 meters)."""

    address: str
    protocol: str = DLT645
    profile: str = "dlt645-prepaid-1p"
    phases: int = 1
    ct_ratio: int = 1
    cost_control: str = REMOTE
    unit_code: str = ""
    unit_kind: str = "shop"
    meter_number: str = ""

    def __post_init__(self) -> None:
        try:
            address = normalize_address(self.protocol, self.address)
        except ValueError as exc:
            raise SiteSpecError(f"meter {self.address!r}: {exc}") from None
        object.__setattr__(self, "address", address)
        if not self.meter_number:
            number = address if self.protocol == DLT645 else address.zfill(12)
            object.__setattr__(self, "meter_number", number)
        if (self.protocol, self.phases) not in PROFILE:
            raise SiteSpecError(f"meter {address}: {self.phases} phases on {self.protocol}")
        if self.cost_control not in (LOCAL, REMOTE):
            raise SiteSpecError(f"meter {address}: cost control {self.cost_control!r}")
        if self.ct_ratio < 1:
            raise SiteSpecError(f"meter {address}: CT ratio must be at least 1")

    @property
    def unit_id(self) -> int | None:
        """The Modbus unit id, ``None`` for a DL/T 645 meter."""
        return int(self.address) if self.protocol == MODBUS else None


@dataclass(frozen=True, slots=True)
class GatewaySpec:
    name: str
    transport: str = TRANSPARENT
    host: str = DEFAULT_HOST
    port: int = DEFAULT_FIRST_PORT
    baud_rate: int = 2400
    parity: str = "E"
    meters: tuple[MeterSpec, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise SiteSpecError(f"gateway {self.name}: port {self.port} is not 0..65535")
        if self.transport not in (TRANSPARENT, MODBUS_TCP):
            raise SiteSpecError(f"gateway {self.name}: transport {self.transport!r}")
        if self.parity not in BITS_PER_BYTE:
            raise SiteSpecError(f"gateway {self.name}: parity {self.parity!r}")
        if len(self.meters) > BUS_LIMIT:
            raise SiteSpecError(f"gateway {self.name}: {len(self.meters)} meters on one bus")
        seen: set[tuple[str, str]] = set()
        for meter in self.meters:
            if self.transport == MODBUS_TCP and meter.protocol != MODBUS:
                raise SiteSpecError(f"gateway {self.name}: meter {meter.address} is not Modbus")
            key = (meter.protocol, meter.address)
            if key in seen:
                raise SiteSpecError(f"gateway {self.name}: address {meter.address} twice")
            seen.add(key)

    @property
    def bits_per_byte(self) -> int:
        return BITS_PER_BYTE[self.parity]


@dataclass(frozen=True, slots=True)
class SiteSpec:
    gateways: tuple[GatewaySpec, ...]
    code: str = "SIM"
    skipped: tuple[str, ...] = field(default=())  # gateways not simulated, with the reason

    def __post_init__(self) -> None:
        ports: dict[tuple[str, int], str] = {}
        for gateway in self.gateways:
            if gateway.port == 0:  # an ephemeral port, chosen when the gateway starts
                continue
            clash = ports.setdefault((gateway.host, gateway.port), gateway.name)
            if clash != gateway.name:
                raise SiteSpecError(f"gateways {clash} and {gateway.name} share a port")

    @property
    def meters(self) -> Iterable[tuple[GatewaySpec, MeterSpec]]:
        for gateway in self.gateways:
            for meter in gateway.meters:
                yield gateway, meter

    @property
    def meter_count(self) -> int:
        return sum(len(g.meters) for g in self.gateways)

    def listing(self) -> dict:
        """The JSON-ready description ``openprepaid simulate`` prints."""
        return {
            "site": self.code,
            "gateways": [
                {
                    "name": g.name,
                    "transport": g.transport,
                    "host": g.host,
                    "port": g.port,
                    "baud_rate": g.baud_rate,
                    "parity": g.parity,
                    "meters": [
                        {
                            "address": m.address,
                            "protocol": m.protocol,
                            "profile": m.profile,
                            "cost_control": m.cost_control,
                            "unit": m.unit_code,
                        }
                        for m in g.meters
                    ],
                }
                for g in self.gateways
            ],
            "skipped": list(self.skipped),
        }


def site_from_options(
    *,
    gateways: int = 22,
    meters_per_gateway: int = 32,
    modbus_tcp_gateways: int = 0,
    modbus_per_bus: int = 0,
    local_percent: int = 25,
    three_phase_percent: int = 10,
    first_port: int = DEFAULT_FIRST_PORT,
    host: str = DEFAULT_HOST,
    baud_rate: int = 2400,
    modbus_tcp_baud_rate: int = 9600,
    seed: int = 2026,
) -> SiteSpec:
    """A site of ``gateways`` buses of ``meters_per_gateway`` meters. The last
    ``modbus_tcp_gateways`` are Modbus-TCP gateways of Acrel meters; on the transparent ones the
    last ``modbus_per_bus`` meters speak Modbus-RTU. ``first_port=0`` gives every gateway an
    ephemeral port (tests). Addresses: ``3GGGGG0000NN`` (gateway,
    position); unit kinds, phases and cost control are drawn from ``seed``."""
    if not 1 <= meters_per_gateway <= BUS_LIMIT:
        raise SiteSpecError(f"meters per gateway must be 1..{BUS_LIMIT}")
    if not 0 <= modbus_tcp_gateways <= gateways or not 0 <= modbus_per_bus <= meters_per_gateway:
        raise SiteSpecError("more Modbus meters than meters")
    if first_port < 0 or first_port + gateways - 1 > 65535:
        raise SiteSpecError("the gateways' ports do not fit in 1..65535")
    rng = random.Random(seed)  # noqa: S311 - reproducible site layout, not secrets
    specs = []
    for g in range(gateways):
        modbus_tcp = g >= gateways - modbus_tcp_gateways
        meters = []
        for n in range(1, meters_per_gateway + 1):
            modbus = modbus_tcp or n > meters_per_gateway - modbus_per_bus
            protocol = MODBUS if modbus else DLT645
            address = str(n) if modbus else f"3{g + 1:05d}{n:06d}"
            phases = 3 if rng.randrange(100) < three_phase_percent else 1
            meters.append(
                MeterSpec(
                    address=address,
                    protocol=protocol,
                    profile=PROFILE[protocol, phases],
                    phases=phases,
                    cost_control=LOCAL if rng.randrange(100) < local_percent else REMOTE,
                    unit_code=f"G{g + 1:03d}-{n:02d}",
                    unit_kind=rng.choice(UNIT_KINDS[:4]),
                    meter_number=f"9{g + 1:05d}{n:06d}" if modbus else "",
                )
            )
        specs.append(
            GatewaySpec(
                name=f"GW{g + 1:03d}",
                transport=MODBUS_TCP if modbus_tcp else TRANSPARENT,
                host=host,
                port=first_port + g if first_port else 0,
                baud_rate=modbus_tcp_baud_rate if modbus_tcp else baud_rate,
                meters=tuple(meters),
            )
        )
    return SiteSpec(tuple(specs))


def site_from_tables(tables: Mapping[str, Iterable[Mapping[str, str]]]) -> SiteSpec:
    """A site from the console's import tables (``gateways``, ``units``, ``meters``; column
    keys as in ``docs/spreadsheet.md``). Serial gateways cannot be simulated over TCP and are
    listed in ``skipped``. Raises :class:`SiteSpecError` naming the row that does not fit."""
    units = {
        (row.get("site", ""), row.get("code", "")): row.get("kind", "") or "other"
        for row in tables.get("units", ())
    }
    by_gateway: dict[tuple[str, str], list[MeterSpec]] = {}
    gateway_rows = list(tables.get("gateways", ()))
    ports = {(g.get("site", ""), g.get("name", "")): str(g.get("port", "")) for g in gateway_rows}
    for number, row in enumerate(tables.get("meters", ()), start=2):
        site, gateway = row.get("site", ""), row.get("gateway", "")
        protocol = row.get("protocol", "") or DLT645
        phases = _int(row, "phases", 1)
        address = row.get("address", "")
        modbus_number = ""
        if protocol == MODBUS and address.isdigit():
            port = ports.get((site, gateway), "")
            port_number = int(port) % 100000 if port.isdigit() else 0
            modbus_number = f"9{port_number:05d}{int(address) % 1000000:06d}"
        try:
            spec = MeterSpec(
                address=address,
                protocol=protocol,
                profile=row.get("profile", "") or PROFILE.get((protocol, phases), ""),
                phases=phases,
                ct_ratio=_int(row, "ct_ratio", 1),
                cost_control=row.get("cost_control", "") or REMOTE,
                unit_code=row.get("unit", ""),
                unit_kind=units.get((site, row.get("unit", "")), "other"),
                meter_number=modbus_number,
            )
        except SiteSpecError as exc:
            raise SiteSpecError(f"meters row {number}: {exc}") from None
        by_gateway.setdefault((site, gateway), []).append(spec)
    gateways, skipped = [], []
    sites = {g.get("site", "") for g in gateway_rows}
    for number, row in enumerate(gateway_rows, start=2):
        site, name = row.get("site", ""), row.get("name", "")
        label = f"{site} {name}" if len(sites) > 1 else name
        if row.get("transport") == SERIAL:
            skipped.append(f"{label}: a serial gateway has no TCP port to simulate")
            continue
        try:
            gateways.append(
                GatewaySpec(
                    name=label,
                    transport=row.get("transport", "") or TRANSPARENT,
                    host=row.get("host", "") or DEFAULT_HOST,
                    port=_int(row, "port", 0),
                    baud_rate=_int(row, "baud_rate", 2400),
                    parity=row.get("parity", "") or "E",
                    meters=tuple(by_gateway.pop((site, name), ())),
                )
            )
        except SiteSpecError as exc:
            raise SiteSpecError(f"gateways row {number}: {exc}") from None
    for (site, name), meters in by_gateway.items():
        raise SiteSpecError(f"meter {meters[0].address}: gateway {site} {name} is not listed")
    codes = sorted(sites)
    return SiteSpec(tuple(gateways), code=",".join(codes) or "SIM", skipped=tuple(skipped))


def _int(row: Mapping[str, str], key: str, default: int) -> int:
    text = str(row.get(key, "") or "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise SiteSpecError(f"{key} {text!r} is not a whole number") from None
