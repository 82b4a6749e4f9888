"""The sample site as the spreadsheet import's tables: one mall, two buildings, ~700 units.

星光购物中心 (Starlight Plaza), site ``DEMO``:

- building A座, the mall: B1 (food-street stalls and two store rooms), 1F–5F (shops, two anchor
  stores a floor), 6F (restaurants);
- building B座, an office tower: 1F (lobby shops and offices), 2F–4F (offices);
- two RS-485 buses a floor, 22 gateways on 127.0.0.1:10001–10022 (where the simulator listens),
  at most 32 meters a bus. Transparent gateways carry DL/T 645-2007 meters at 2400 baud; B座 3F
  and 4F have Modbus-TCP gateways with Acrel meters at 9600 baud; on A座 6F the east-wing bus is
  transparent but its last ten meters are Acrel Modbus-RTU meters (set to the bus's 2400 baud);
- one meter a unit; every floor has two public-area meters held by the property manager T0000.

The layout (floors, units, gateways, meters, protocols, tenants and accounts counts) is fixed; the
seed picks names, areas, which units are vacant or share a tenant, people and phone numbers.
:func:`sample_site_tables` is pure: no clock, no global random state, same seed → same tables.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from openprepaid.domain.sample import names

SITE_CODE = "DEMO"
SITE_NAME = "星光购物中心 Starlight Plaza"
SITE_ADDRESS = "星光大道 88 号"
HOST = "127.0.0.1"
FIRST_PORT = 10001
BUS_LIMIT = 32  # meters on one RS-485 bus
BUSES_PER_FLOOR = 2
PROPERTY_TENANT = "T0000"

TRANSPARENT, MODBUS_TCP = "transparent_tcp", "modbus_tcp"
DLT645, MODBUS = "dlt645_2007", "modbus_rtu"
PROFILE = {(DLT645, 1): "dlt645-prepaid-1p", (DLT645, 3): "dlt645-prepaid-3p"} | {
    (MODBUS, 1): "acrel-ddsy1352",
    (MODBUS, 3): "acrel-dtsy1352",
}
BAUD = {TRANSPARENT: "2400", MODBUS_TCP: "9600"}


@dataclass(frozen=True, slots=True)
class FloorPlan:
    building: str  # the building's name
    prefix: str  # its letter in unit codes, gateway names and meter addresses
    floor: str
    rentable: tuple[tuple[str, int], ...]  # (unit kind, how many), along the floor
    public: tuple[str, ...]  # public areas with their own meter
    transport: str = TRANSPARENT
    modbus_tail: int = 0  # the last N meters of the floor's last bus speak Modbus-RTU
    anchors: int = 0  # the first N rentable units are large (anchor stores, big offices)


_MALL, _TOWER = ("A座", "A"), ("B座", "B")
FLOORS: tuple[FloorPlan, ...] = (
    FloorPlan(*_MALL, "B1", (("stall", 60), ("other", 2)), ("公共照明", "排风机房")),
    *(
        FloorPlan(*_MALL, f"{n}F", (("shop", 61),), ("公共照明", "扶梯"), anchors=2)
        for n in range(1, 6)
    ),
    FloorPlan(
        *_MALL, "6F", (("restaurant", 58),), ("公共照明", "厨房排烟"), modbus_tail=10, anchors=3
    ),
    FloorPlan(*_TOWER, "1F", (("shop", 12), ("office", 50)), ("大堂照明", "电梯")),
    FloorPlan(*_TOWER, "2F", (("office", 62),), ("公共照明", "空调机房"), anchors=2),
    *(
        FloorPlan(
            *_TOWER, f"{n}F", (("office", 62),), ("公共照明", "空调机房"), MODBUS_TCP, anchors=2
        )
        for n in (3, 4)
    ),
)
BUILDING_DIGIT = {"A": "1", "B": "2"}

# Areas in m² by unit kind: (usual low, usual high), and (low, high) for anchors.
AREA = {
    "stall": (6, 20),
    "other": (15, 40),
    "shop": (25, 180),
    "restaurant": (60, 260),
    "office": (40, 220),
}
ANCHOR_AREA = {"shop": (300, 800), "restaurant": (300, 600), "office": (300, 500)}
THREE_PHASE_FROM = {"shop": 200, "restaurant": 150, "office": 180}  # m²
LARGE_AREA = 300  # m²: a CT on the meter
CT_RATIO = "20"
PUBLIC_WITH_CT = {"扶梯", "电梯", "空调机房", "排风机房", "厨房排烟"}

GROUPS = ((3, 4), (2, 12))  # (units a tenant holds, how many such tenants): 一户多表
VACANT_UNITS = 80
PERSON_SHARE = {"stall": 0.9, "other": 1.0, "shop": 0.55, "restaurant": 0.35, "office": 0.05}
LOCAL_SHARE = 0.23  # of tenants: their meters hold the wallet (本地费控)


@dataclass(slots=True)
class _Unit:
    plan: FloorPlan
    code: str
    kind: str
    name: str = ""
    anchor: bool = False
    area_tenths: int | None = None
    gateway: str = ""
    protocol: str = DLT645
    address: str = ""
    cost_control: str = "remote"


@dataclass(slots=True)
class _Gateway:
    plan: FloorPlan
    name: str
    number: int  # on the floor, 1-based
    port: int
    units: list[_Unit] = field(default_factory=list)


def sample_site_tables(seed: int = 2026) -> dict[str, list[dict[str, str]]]:
    """The sample site in the spreadsheet import format: gateways, units, meters, tenants."""
    rng = random.Random(seed)  # noqa: S311 - reproducible sample data, not secrets
    units, gateways = _layout()
    for unit in units:
        unit.area_tenths = _area(rng, unit)
    tenants = _tenants(rng, units)
    _wire(gateways)
    return {
        "gateways": [_gateway_row(g) for g in gateways],
        "units": [_unit_row(u) for u in units],
        "meters": [_meter_row(u) for g in gateways for u in g.units],
        "tenants": tenants,
    }


# ------------------------------------------------------------------------------- layout


def _layout() -> tuple[list[_Unit], list[_Gateway]]:
    units: list[_Unit] = []
    gateways: list[_Gateway] = []
    for plan in FLOORS:
        here: list[_Unit] = []
        for kind, count in plan.rentable:
            for _ in range(count):
                unit = _Unit(plan, f"{plan.prefix}-{plan.floor}-{len(here) + 1:03d}", kind)
                unit.anchor = len(here) < plan.anchors
                here.append(unit)
        for n, unit in enumerate((u for u in here if u.kind == "other"), start=1):
            unit.name = f"仓库{n}"
        for n, name in enumerate(plan.public, start=1):
            here.append(_Unit(plan, f"{plan.prefix}-{plan.floor}-P{n:02d}", "public", name))
        # Split the floor's meters between its buses in order, the first bus taking the extra one.
        start = 0
        for number in range(1, BUSES_PER_FLOOR + 1):
            size = -(-(len(here) - start) // (BUSES_PER_FLOOR - number + 1))
            gateway = _Gateway(
                plan,
                f"{plan.prefix}-{plan.floor}-GW{number}",
                number,
                FIRST_PORT + len(gateways),
                here[start : start + size],
            )
            if len(gateway.units) > BUS_LIMIT:
                raise AssertionError(f"{gateway.name}: more than {BUS_LIMIT} meters on a bus")
            gateways.append(gateway)
            start += size
        units.extend(here)
    return units, gateways


def _area(rng: random.Random, unit: _Unit) -> int | None:
    if unit.kind == "public":
        return None
    if unit.anchor:
        low, high = ANCHOR_AREA[unit.kind]
        return rng.randint(low * 10, high * 10)
    # The smaller of two draws: small units are common, large ones rarer.
    low, high = AREA[unit.kind]
    return min(rng.randint(low * 10, high * 10), rng.randint(low * 10, high * 10))


def _wire(gateways: list[_Gateway]) -> None:
    """Give every meter its gateway, protocol and bus address."""
    for gateway in gateways:
        plan, modbus_ids = gateway.plan, 0
        floor_code = f"{int(plan.floor[:-1]):02d}" if plan.floor.endswith("F") else "91"
        on_last_bus = gateway.number == BUSES_PER_FLOOR
        for position, unit in enumerate(gateway.units, start=1):
            unit.gateway = gateway.name
            tail = on_last_bus and position > len(gateway.units) - plan.modbus_tail
            if plan.transport == MODBUS_TCP or tail:
                modbus_ids += 1
                unit.protocol, unit.address = MODBUS, str(modbus_ids)
            else:
                unit.protocol = DLT645
                unit.address = (
                    f"2026{BUILDING_DIGIT[plan.prefix]}{floor_code}"
                    f"{gateway.number:02d}{position:03d}"
                )


# ------------------------------------------------------------------------------ tenants


def _tenants(rng: random.Random, units: list[_Unit]) -> list[dict[str, str]]:
    """Pick vacant and shared units, make up the tenants and name the units they rent."""
    rentable = [u for u in units if u.kind != "public"]
    taken: set[int] = set()
    owned: list[list[_Unit]] = []
    for size, count in GROUPS:
        while count:
            start = rng.randrange(len(rentable) - size + 1)
            run = range(start, start + size)
            same_place = len({(rentable[i].plan, rentable[i].kind) for i in run}) == 1
            if same_place and not taken.intersection(run):
                taken.update(run)
                owned.append([rentable[i] for i in run])
                count -= 1
    singles = [u for i, u in enumerate(rentable) if i not in taken]
    vacant = {id(u) for u in rng.sample(singles, VACANT_UNITS)}
    owned += [[u] for u in singles if id(u) not in vacant]
    order = {id(u): i for i, u in enumerate(units)}
    owned.sort(key=lambda group: order[id(group[0])])

    used_names: set[str] = set()
    used_mobiles: set[str] = set()
    contact = names.person_name(rng)
    rows = [
        _tenant_row(
            PROPERTY_TENANT,
            "物业管理处",
            "company",
            contact,
            names.mobile(rng, used_mobiles),
            [u for u in units if u.kind == "public"],
        )
    ]
    local = set(rng.sample(range(len(owned)), round(len(owned) * LOCAL_SHARE)))
    for number, group in enumerate(owned, start=1):
        first = group[0]
        is_person = rng.random() < PERSON_SHARE[first.kind]
        person = names.person_name(rng)
        trade = first.name or _trade_name(rng, used_names, first, person if is_person else None)
        for unit in group:
            unit.name = unit.name or trade
            unit.cost_control = "local" if number - 1 in local else "remote"
        catering = first.kind in ("restaurant", "stall")
        name = (
            person if is_person else names.company_name(rng, used_names, trade, catering=catering)
        )
        rows.append(
            _tenant_row(
                f"T{number:04d}",
                name,
                "person" if is_person else "company",
                person,
                names.mobile(rng, used_mobiles),
                group,
            )
        )
    return rows


def _trade_name(rng: random.Random, used: set[str], unit: _Unit, person: str | None) -> str:
    if unit.kind == "stall":
        return names.stall_name(rng, used, person[0] if person else None)
    if unit.kind == "restaurant":
        return names.restaurant_name(rng, used)
    if unit.kind == "office":
        return names.office_name(rng, used)
    trades = names.SHOP_TRADES.get(unit.plan.floor) if unit.plan.prefix == "A" else None
    return names.shop_name(rng, used, trades or names.LOBBY_TRADES)


# --------------------------------------------------------------------------------- rows


def _gateway_row(gateway: _Gateway) -> dict[str, str]:
    plan = gateway.plan
    side = "东" if gateway.number == 1 else "西"
    return {
        "site": SITE_CODE,
        "name": gateway.name,
        "transport": plan.transport,
        "host": HOST,
        "port": str(gateway.port),
        "serial_device": "",
        "baud_rate": BAUD[plan.transport],
        "parity": "E",
        "location": f"{plan.building} {plan.floor} {side}侧强电井",
    }


def _unit_row(unit: _Unit) -> dict[str, str]:
    tenths = unit.area_tenths
    return {
        "site": SITE_CODE,
        "building": unit.plan.building,
        "floor": unit.plan.floor,
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "area": "" if tenths is None else f"{tenths // 10}.{tenths % 10}0",
    }


def _meter_row(unit: _Unit) -> dict[str, str]:
    tenths = unit.area_tenths or 0
    if unit.kind == "public":
        phases, large = 3, unit.name in PUBLIC_WITH_CT
    else:
        phases = 3 if tenths >= 10 * THREE_PHASE_FROM.get(unit.kind, 10**6) else 1
        large = tenths >= 10 * LARGE_AREA
    return {
        "site": SITE_CODE,
        "gateway": unit.gateway,
        "address": unit.address,
        "protocol": unit.protocol,
        "profile": PROFILE[unit.protocol, phases],
        "phases": str(phases),
        "ct_ratio": CT_RATIO if large else "1",
        "cost_control": unit.cost_control,
        "unit": unit.code,
    }


def _tenant_row(
    code: str, name: str, kind: str, contact: str, mobile: str, units: list[_Unit]
) -> dict[str, str]:
    return {
        "site": SITE_CODE,
        "code": code,
        "name": name,
        "kind": kind,
        "contact_name": contact,
        "mobile": mobile,
        "units": ";".join(u.code for u in units),
    }
