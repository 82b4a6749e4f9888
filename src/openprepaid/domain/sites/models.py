"""The physical site: sites, buildings, floors, units, gateways and meters.

Integrity lives in the database: every rule that can be a constraint is one, so a bad row is
refused whichever way it arrives (console, import, API, a hand-typed query).
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from openprepaid.domain.validation import OneQueryChecks
from openprepaid.protocol.profiles import PROFILES, Protocol

BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400)


class Status(models.TextChoices):
    ACTIVE = "active", _("In service")
    RETIRED = "retired", _("Retired")


class Site(models.Model):
    """A customer's property (a mall, an office tower, a market). An installation may hold
    several; operators can be limited to some of them."""

    code = models.CharField(
        _("code"),
        max_length=32,
        unique=True,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
                _("Use letters, digits, '-' and '_' (starting with a letter or digit)."),
            )
        ],
    )
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    full_reading_minutes = models.PositiveSmallIntegerField(
        _("full reading every (minutes)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(1440)],
        help_text=_("How often the headend reads every meter in full; gateways may override."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def audit_site(self) -> Site:
        return self


class Building(models.Model):
    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="buildings"
    )
    name = models.CharField(_("name"), max_length=64)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["site", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="building_name_unique_on_site")
        ]

    def __str__(self) -> str:
        return self.name

    def audit_site(self) -> Site:
        return self.site


class Floor(models.Model):
    """A floor of a building. ``level`` orders floors: B2 = -2, B1 = -1, 1F = 1 …"""

    building = models.ForeignKey(
        Building, verbose_name=_("building"), on_delete=models.PROTECT, related_name="floors"
    )
    name = models.CharField(_("name"), max_length=32)
    level = models.SmallIntegerField(_("level"), default=0)

    class Meta:
        verbose_name = _("floor")
        verbose_name_plural = _("floors")
        ordering = ["building", "level", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["building", "name"], name="floor_name_unique_in_building"
            )
        ]

    def __str__(self) -> str:
        return f"{self.building.name} {self.name}"

    def audit_site(self) -> Site:
        return self.building.site


class UnitKind(models.TextChoices):
    SHOP = "shop", _("Shop")
    OFFICE = "office", _("Office")
    STALL = "stall", _("Stall")
    RESTAURANT = "restaurant", _("Restaurant")
    PUBLIC = "public", _("Public area")
    OTHER = "other", _("Other")


class Unit(OneQueryChecks):
    """A rentable space (shop, office, stall) or a public area with its own meter."""

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="units"
    )
    floor = models.ForeignKey(
        Floor, verbose_name=_("floor"), on_delete=models.PROTECT, related_name="units"
    )
    code = models.CharField(_("unit number"), max_length=32)
    name = models.CharField(_("name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=UnitKind.choices)
    area = models.DecimalField(
        _("area (m²)"),
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE
    )

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["site", "code"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="unit_code_unique_on_site"),
            models.CheckConstraint(condition=Q(kind__in=UnitKind.values), name="unit_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="unit_status_valid"),
            models.CheckConstraint(
                condition=Q(area__isnull=True) | Q(area__gte=0), name="unit_area_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}".strip()

    def audit_site(self) -> Site:
        return self.site


class Transport(models.TextChoices):
    TRANSPARENT_TCP = "transparent_tcp", _("Transparent TCP (raw RS-485)")
    MODBUS_TCP = "modbus_tcp", _("Modbus-TCP gateway")
    SERIAL = "serial", _("Local serial port")


class Parity(models.TextChoices):
    NONE = "N", _("None")
    EVEN = "E", _("Even")
    ODD = "O", _("Odd")


TCP_TRANSPORTS = (Transport.TRANSPARENT_TCP, Transport.MODBUS_TCP)


class Gateway(OneQueryChecks):
    """A gateway (通讯管理机) forwarding one RS-485 bus, or a serial port of this server.

    ``baud_rate`` and ``parity`` are the bus's line settings: for a serial port they configure
    the port; for a TCP gateway they are what the gateway is set to and what bus timing uses.
    """

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="gateways"
    )
    name = models.CharField(_("name"), max_length=64)
    transport = models.CharField(_("transport"), max_length=16, choices=Transport.choices)
    host = models.CharField(_("host"), max_length=253, blank=True)
    port = models.PositiveIntegerField(
        _("port"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(65535)],
    )
    serial_device = models.CharField(_("serial device"), max_length=128, blank=True)
    baud_rate = models.PositiveIntegerField(
        _("baud rate"), choices=[(b, str(b)) for b in BAUD_RATES], default=2400
    )
    parity = models.CharField(
        _("parity"), max_length=1, choices=Parity.choices, default=Parity.EVEN
    )
    location = models.CharField(_("location"), max_length=200, blank=True)
    full_reading_minutes = models.PositiveSmallIntegerField(
        _("full reading every (minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(1440)],
        help_text=_("Leave empty for the site's interval."),
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("gateway")
        verbose_name_plural = _("gateways")
        ordering = ["site", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "name"],
                condition=Q(status="active"),
                name="gateway_name_unique_on_site",
            ),
            models.UniqueConstraint(
                fields=["host", "port"],
                condition=Q(status="active") & ~Q(transport="serial"),
                name="gateway_endpoint_unique",
            ),
            models.UniqueConstraint(
                fields=["serial_device"],
                condition=Q(status="active", transport="serial"),
                name="gateway_serial_device_unique",
            ),
            models.CheckConstraint(
                condition=(
                    Q(transport__in=[t.value for t in TCP_TRANSPORTS])
                    & ~Q(host="")
                    & Q(port__isnull=False, port__gte=1, port__lte=65535)
                    & Q(serial_device="")
                )
                | (
                    Q(transport=Transport.SERIAL)
                    & ~Q(serial_device="")
                    & Q(host="")
                    & Q(port__isnull=True)
                ),
                name="gateway_transport_endpoint",
                violation_error_message=_(
                    "A TCP gateway needs a host and a port (1-65535) and no serial device; "
                    "a serial gateway needs a device and no host or port."
                ),
            ),
            models.CheckConstraint(
                condition=Q(baud_rate__in=BAUD_RATES), name="gateway_baud_rate_valid"
            ),
            models.CheckConstraint(
                condition=Q(parity__in=Parity.values), name="gateway_parity_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="gateway_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def endpoint(self) -> str:
        if self.transport == Transport.SERIAL:
            return f"{self.serial_device} {self.baud_rate} 8{self.parity}1"
        return f"{self.host}:{self.port}"

    def audit_site(self) -> Site:
        return self.site


class CostControl(models.TextChoices):
    LOCAL = "local", _("Local (meter holds the wallet)")
    REMOTE = "remote", _("Remote (server bills and switches)")


class Lifecycle(models.TextChoices):
    NOT_OPENED = "not_opened", _("Not opened")
    OPENED = "opened", _("Opened")
    RETIRED = "retired", _("Retired")


DLT645_ADDRESS = r"^[0-9]{12}$"
MODBUS_UNIT_ID = r"^([1-9]|[1-9][0-9]|1[0-9][0-9]|2[0-3][0-9]|24[0-7])$"


class Meter(OneQueryChecks):
    """A prepaid meter on a gateway's bus, serving one unit."""

    gateway = models.ForeignKey(
        Gateway, verbose_name=_("gateway"), on_delete=models.PROTECT, related_name="meters"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="meters"
    )
    address = models.CharField(
        _("address"),
        max_length=12,
        help_text=_("Nameplate address (12 digits, DL/T 645) or unit id 1-247 (Modbus)."),
    )
    protocol = models.CharField(
        _("protocol"),
        max_length=16,
        choices=[
            (Protocol.DLT645_2007.value, "DL/T 645-2007"),
            (Protocol.MODBUS_RTU.value, "Modbus-RTU"),
        ],
    )
    profile = models.CharField(
        _("model profile"),
        max_length=32,
        choices=[(p.code, p.name) for p in PROFILES.values()],
    )
    phases = models.PositiveSmallIntegerField(
        _("phases"), choices=[(1, _("Single-phase")), (3, _("Three-phase"))], default=1
    )
    ct_ratio = models.PositiveIntegerField(
        _("CT ratio"), default=1, validators=[MinValueValidator(1), MaxValueValidator(9999)]
    )
    cost_control = models.CharField(
        _("cost control"), max_length=8, choices=CostControl.choices, default=CostControl.REMOTE
    )
    lifecycle = models.CharField(
        _("lifecycle"), max_length=12, choices=Lifecycle.choices, default=Lifecycle.NOT_OPENED
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)

    class Meta:
        verbose_name = _("meter")
        verbose_name_plural = _("meters")
        ordering = ["gateway", "address"]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "address"],
                condition=~Q(lifecycle="retired"),
                name="meter_address_unique_on_gateway",
                violation_error_message=_("Another meter on this gateway has this address."),
            ),
            models.CheckConstraint(
                condition=(
                    Q(protocol=Protocol.DLT645_2007.value) & Q(address__regex=DLT645_ADDRESS)
                )
                | (Q(protocol=Protocol.MODBUS_RTU.value) & Q(address__regex=MODBUS_UNIT_ID)),
                name="meter_address_fits_protocol",
                violation_error_message=_(
                    "A DL/T 645 address has 12 digits; a Modbus unit id is 1 to 247."
                ),
            ),
            models.CheckConstraint(condition=Q(phases__in=[1, 3]), name="meter_phases_valid"),
            models.CheckConstraint(
                condition=Q(ct_ratio__gte=1, ct_ratio__lte=9999), name="meter_ct_ratio_range"
            ),
            models.CheckConstraint(
                condition=Q(cost_control__in=CostControl.values),
                name="meter_cost_control_valid",
            ),
            models.CheckConstraint(
                condition=(Q(lifecycle="retired") & Q(retired_at__isnull=False))
                | (Q(lifecycle__in=["not_opened", "opened"]) & Q(retired_at__isnull=True)),
                name="meter_retired_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.unit.code})"

    def audit_site(self) -> Site:
        return self.gateway.site
