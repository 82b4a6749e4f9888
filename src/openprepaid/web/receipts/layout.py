"""What a site may configure about its receipts, and the check of the stored JSON.

``BillingSettings.receipt_layout`` holds a JSON object; :func:`parse_layout` turns it into a
:class:`ReceiptLayout` or raises :class:`LayoutError` naming the offending key. ``{}`` gives the
defaults; :meth:`ReceiptLayout.to_json` gives back a complete object that parses to the same
layout. The keys and their defaults are described in ``docs/receipts.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from openprepaid.web.receipts.data import FIELDS

PARTS: tuple[str, ...] = ("stub", "customer", "finance")  # 存根 / 客户 / 财务
MARGIN_SIDES: tuple[str, ...] = ("top", "right", "bottom", "left")
FONT_SIZE_RANGE = (6, 14)
MARGIN_RANGE_MM = (0, 40)
TEXT_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Paper:
    """A sheet and how many receipt parts it carries, stacked from the top."""

    name: str
    width_mm: float
    height_mm: float
    parts_per_page: int
    margins_mm: tuple[float, float, float, float]  # top, right, bottom, left of each part

    @property
    def part_height_mm(self) -> float:
        return self.height_mm / self.parts_per_page


PAPERS: Mapping[str, Paper] = MappingProxyType(
    {
        # A4 portrait, the three parts stacked and separated by cut lines.
        "a4": Paper("a4", 210, 297, 3, (7, 14, 5, 14)),
        # 241 × 93 mm continuous form paper (三联 pin-feed); one part per form, the side margins
        # clear the sprocket strips.
        "241x93": Paper("241x93", 241, 93, 1, (7, 16, 5, 16)),
    }
)


class LayoutError(ValueError):
    """The stored receipt layout is not acceptable; ``key`` names the offending key."""

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(f"receipt layout: {message}")
        self.key = key


@dataclass(frozen=True, slots=True)
class ReceiptLayout:
    """``title``/``footer``/``captions``/``labels`` left out (``None`` or absent) are the
    translated defaults; ``footer=""`` prints no footer. ``margins_mm`` holds only the sides
    that override the paper's defaults."""

    paper: str = "a4"
    parts: tuple[str, ...] = PARTS
    captions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    title: str | None = None
    fields: tuple[str, ...] = FIELDS
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    footer: str | None = None
    font_size: float = 9
    margins_mm: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    signatures: bool = True
    cut_lines: bool = True

    @property
    def sheet(self) -> Paper:
        return PAPERS[self.paper]

    def margins(self) -> tuple[float, float, float, float]:
        """Top, right, bottom, left margin of each part in mm."""
        defaults = dict(zip(MARGIN_SIDES, self.sheet.margins_mm, strict=True))
        defaults.update(self.margins_mm)
        return tuple(defaults[side] for side in MARGIN_SIDES)  # type: ignore[return-value]

    def to_json(self) -> dict:
        return {
            "paper": self.paper,
            "parts": list(self.parts),
            "captions": dict(self.captions),
            "title": self.title,
            "fields": list(self.fields),
            "labels": dict(self.labels),
            "footer": self.footer,
            "font_size": self.font_size,
            "margins_mm": dict(self.margins_mm),
            "signatures": self.signatures,
            "cut_lines": self.cut_lines,
        }


KEYS: tuple[str, ...] = tuple(ReceiptLayout.__dataclass_fields__)


def parse_layout(data: Mapping) -> ReceiptLayout:
    """The layout stored as ``data`` (parsed JSON); missing keys take their defaults."""
    if not isinstance(data, Mapping):
        raise LayoutError(f"must be a JSON object, not {_kind(data)}", key="")
    unknown = sorted(set(data) - set(KEYS), key=str)
    if unknown:
        raise LayoutError(
            f'unknown key "{unknown[0]}"; the keys are {", ".join(KEYS)}', key=str(unknown[0])
        )
    values: dict = {}
    if "paper" in data:
        paper = data["paper"]
        if paper not in PAPERS:
            raise LayoutError(
                f'"paper" must be one of {", ".join(PAPERS)}, not {paper!r}', key="paper"
            )
        values["paper"] = paper
    if "parts" in data:
        parts = _names(data["parts"], "parts", PARTS, "part")
        if not parts:
            raise LayoutError('"parts" must name at least one part', key="parts")
        values["parts"] = parts
    if "fields" in data:
        values["fields"] = _names(data["fields"], "fields", FIELDS, "field")
    if "captions" in data:
        values["captions"] = _texts(data["captions"], "captions", PARTS, "part")
    if "labels" in data:
        values["labels"] = _texts(data["labels"], "labels", FIELDS, "field")
    for key in ("title", "footer"):
        if key in data and data[key] is not None:
            values[key] = _text(data[key], key)
    if "font_size" in data:
        values["font_size"] = _number(data["font_size"], "font_size", FONT_SIZE_RANGE)
    if "margins_mm" in data:
        margins = data["margins_mm"]
        if not isinstance(margins, Mapping):
            raise LayoutError(
                f'"margins_mm" must be an object with {", ".join(MARGIN_SIDES)}, '
                f"not {_kind(margins)}",
                key="margins_mm",
            )
        for side in margins:
            if side not in MARGIN_SIDES:
                raise LayoutError(
                    f'"margins_mm" has an unknown side "{side}"; the sides are '
                    f"{', '.join(MARGIN_SIDES)}",
                    key="margins_mm",
                )
        values["margins_mm"] = MappingProxyType(
            {
                side: _number(margins[side], f"margins_mm.{side}", MARGIN_RANGE_MM)
                for side in MARGIN_SIDES
                if side in margins
            }
        )
    for key in ("signatures", "cut_lines"):
        if key in data:
            if not isinstance(data[key], bool):
                raise LayoutError(f'"{key}" must be true or false, not {_kind(data[key])}', key=key)
            values[key] = data[key]
    return ReceiptLayout(**values)


def _kind(value: object) -> str:
    names = {str: "text", bool: "true/false", int: "a number", float: "a number"}
    names.update({list: "a list", dict: "an object", type(None): "null"})
    return names.get(type(value), type(value).__name__)


def _names(value: object, key: str, known: tuple[str, ...], what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise LayoutError(f'"{key}" must be a list of {what} names, not {_kind(value)}', key=key)
    for item in value:
        if item not in known:
            raise LayoutError(
                f'"{key}" has an unknown {what} "{item}"; the {what}s are {", ".join(known)}',
                key=key,
            )
    if len(set(value)) != len(value):
        duplicate = next(item for item in value if value.count(item) > 1)
        raise LayoutError(f'"{key}" names the {what} "{duplicate}" twice', key=key)
    return tuple(value)


def _texts(value: object, key: str, known: tuple[str, ...], what: str) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise LayoutError(
            f'"{key}" must be an object of {what} → text, not {_kind(value)}', key=key
        )
    for name, text in value.items():
        if name not in known:
            raise LayoutError(
                f'"{key}" has an unknown {what} "{name}"; the {what}s are {", ".join(known)}',
                key=key,
            )
        _text(text, f"{key}.{name}")
    return MappingProxyType(dict(value))


def _text(value: object, key: str) -> str:
    if not isinstance(value, str):
        raise LayoutError(f'"{key}" must be text, not {_kind(value)}', key=key.split(".")[0])
    if len(value) > TEXT_LIMIT or "\n" in value:
        raise LayoutError(
            f'"{key}" must be one line of at most {TEXT_LIMIT} characters', key=key.split(".")[0]
        )
    return value


def _number(value: object, key: str, limits: tuple[float, float]) -> float:
    low, high = limits
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise LayoutError(
            f'"{key}" must be a number from {low} to {high}, not {value!r}', key=key.split(".")[0]
        )
    return value
