"""What the headend learns from the meters and what it is asked to do to them.

- :class:`MeterStatus` — one row per meter: the latest values reported, freshness, lost contact,
  and the *desired* relay state the reconciler works towards.
- :class:`MeterReading` — one row per **full** reading (energy per tariff, balance, power …).
  Status sweeps (relay status and balance, every few seconds) only update :class:`MeterStatus`:
  storing them as rows would add a row per meter every 30 seconds and tell nothing a full
  reading every 30 minutes does not.
- :class:`Command` and :class:`CommandBatch` — commands as rows with a lifecycle; the table of
  legal moves is ``openprepaid.headend.model.TRANSITIONS`` and every change of state goes
  through ``check_transition`` (services and the repository), never through a model method.
- :class:`ContactAlarm` — one row per loss of contact, closed when contact is regained.
- :class:`GatewayHealth` — running request and error counts and round-trip times per gateway.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from openprepaid.headend.model import CommandKind, CommandState, DesiredRelay


class DesiredRelayChoice(models.TextChoices):
    AUTO = DesiredRelay.AUTO.value, _("Automatic")
    CLOSED = DesiredRelay.CLOSED.value, _("Held closed")
    OPEN = DesiredRelay.OPEN.value, _("Held open (tripped)")


class CommandKindChoice(models.TextChoices):
    TRIP = CommandKind.TRIP.value, _("Trip")
    CLOSE = CommandKind.CLOSE.value, _("Close")
    CLOSE_ALLOWED = CommandKind.CLOSE_ALLOWED.value, _("Allow closing")
    KEEP_POWER_ON = CommandKind.KEEP_POWER_ON.value, _("Keep power on")
    KEEP_POWER_OFF = CommandKind.KEEP_POWER_OFF.value, _("Stop keeping power")
    RESUME_PREPAID = CommandKind.RESUME_PREPAID.value, _("Resume prepaid control")
    PUSH_PRICES = CommandKind.PUSH_PRICES.value, _("Push prices")
    PUSH_SETTINGS = CommandKind.PUSH_SETTINGS.value, _("Push settings")
    TIME_SYNC = CommandKind.TIME_SYNC.value, _("Synchronise clock")
    READ_NOW = CommandKind.READ_NOW.value, _("Read now")
    OPEN_ACCOUNT = CommandKind.OPEN_ACCOUNT.value, _("Open account on the meter")
    RECHARGE = CommandKind.RECHARGE.value, _("Recharge the meter")


class CommandStateChoice(models.TextChoices):
    QUEUED = CommandState.QUEUED.value, _("Queued")
    SENDING = CommandState.SENDING.value, _("Sending")
    SENT = CommandState.SENT.value, _("Sent")
    CONFIRMED = CommandState.CONFIRMED.value, _("Confirmed")
    FAILED = CommandState.FAILED.value, _("Failed")
    SUPERSEDED = CommandState.SUPERSEDED.value, _("Superseded")
    EXPIRED = CommandState.EXPIRED.value, _("Expired")


class CommandOrigin(models.TextChoices):
    OPERATOR = "operator", _("Operator")
    RECONCILE = "reconcile", _("Reconciler")
    SCHEDULE = "schedule", _("Schedule")


class ReadingKind(models.TextChoices):
    FULL = "full", _("Full reading")
    STATUS = "status", _("Status sweep")


def _money(verbose_name, **kwargs) -> models.DecimalField:
    return models.DecimalField(
        verbose_name, max_digits=12, decimal_places=2, null=True, blank=True, **kwargs
    )


class MeterStatus(models.Model):
    """The latest that is known of a meter. The headend writes the reported fields; operators'
    commands write the desired ones (``desired_relay``, ``desired_keep_power``)."""

    meter = models.OneToOneField(
        "sites.Meter",
        verbose_name=_("meter"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="live",
    )
    last_seen_at = models.DateTimeField(_("last good reading"), null=True, blank=True)
    last_full_at = models.DateTimeField(_("last full reading"), null=True, blank=True)
    last_failure_at = models.DateTimeField(_("last failed poll"), null=True, blank=True)
    last_failure = models.CharField(_("last failure"), max_length=200, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("failed polls in a row"), default=0)
    lost_contact = models.BooleanField(_("lost contact"), default=False)
    lost_since = models.DateTimeField(_("lost since"), null=True, blank=True)
    relay_open = models.BooleanField(_("relay open"), null=True, blank=True)
    relay_commanded_trip = models.BooleanField(_("tripped by command"), null=True, blank=True)
    keep_power = models.BooleanField(_("keep power"), null=True, blank=True)
    account_opened = models.BooleanField(_("opened on the meter"), null=True, blank=True)
    remaining = _money(_("remaining (yuan)"))
    overdraft = _money(_("overdraft (yuan)"))
    purchase_count = models.PositiveIntegerField(_("purchase count"), null=True, blank=True)
    energy_total = _money(_("total energy (kWh)"))
    power_kw = models.DecimalField(
        _("power (kW)"), max_digits=10, decimal_places=4, null=True, blank=True
    )
    # The meter's own wall-clock time, read as local time in settings.TIME_ZONE.
    meter_time = models.DateTimeField(_("meter clock"), null=True, blank=True)
    desired_relay = models.CharField(
        _("desired relay"),
        max_length=8,
        choices=DesiredRelayChoice.choices,
        default=DesiredRelayChoice.AUTO,
    )
    desired_keep_power = models.BooleanField(_("desired keep power"), default=False)
    # What the account's balance asks of a remotely controlled meter (billing writes it:
    # ``openprepaid.domain.billing.control``); an operator's ``desired_relay`` other than
    # automatic wins over it, keep power and friendly hours hold back its trip.
    account_relay = models.CharField(
        _("relay wanted by the account"),
        max_length=8,
        choices=DesiredRelayChoice.choices,
        default=DesiredRelayChoice.AUTO,
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("meter status")
        verbose_name_plural = _("meter statuses")
        constraints = [
            models.CheckConstraint(
                condition=Q(desired_relay__in=DesiredRelayChoice.values),
                name="meter_status_desired_relay_valid",
            ),
            models.CheckConstraint(
                condition=Q(account_relay__in=DesiredRelayChoice.values),
                name="meter_status_account_relay_valid",
            ),
            models.CheckConstraint(
                condition=Q(lost_contact=False) | Q(lost_since__isnull=False),
                name="meter_status_lost_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"status of meter {self.meter_id}"


class MeterReading(models.Model):
    """A full reading as the meter reported it (energy primary, CT ratio applied). Insert-only;
    ``(meter, read_at)`` is unique so that a batch delivered twice is stored once. The unique
    index also serves "the latest readings of a meter" (scanned backwards)."""

    meter = models.ForeignKey(
        "sites.Meter", verbose_name=_("meter"), on_delete=models.PROTECT, related_name="readings"
    )
    read_at = models.DateTimeField(_("read at"))
    kind = models.CharField(
        _("kind"), max_length=8, choices=ReadingKind.choices, default=ReadingKind.FULL
    )
    energy_total = _money(_("total energy (kWh)"))
    energy_sharp = _money(_("sharp energy (kWh)"))
    energy_peak = _money(_("peak energy (kWh)"))
    energy_flat = _money(_("flat energy (kWh)"))
    energy_valley = _money(_("valley energy (kWh)"))
    remaining = _money(_("remaining (yuan)"))
    overdraft = _money(_("overdraft (yuan)"))
    purchase_count = models.PositiveIntegerField(_("purchase count"), null=True, blank=True)
    relay_open = models.BooleanField(_("relay open"), null=True, blank=True)
    keep_power = models.BooleanField(_("keep power"), null=True, blank=True)
    power_kw = models.DecimalField(
        _("power (kW)"), max_digits=10, decimal_places=4, null=True, blank=True
    )
    voltage = models.JSONField(_("voltage (V)"), default=list, blank=True)  # decimal strings
    current = models.JSONField(_("current (A)"), default=list, blank=True)  # decimal strings
    # The meter's own wall-clock time, read as local time in settings.TIME_ZONE.
    meter_time = models.DateTimeField(_("meter clock"), null=True, blank=True)
    status_word_1 = models.PositiveIntegerField(_("status word 1"), null=True, blank=True)
    status_word_3 = models.PositiveIntegerField(_("status word 3"), null=True, blank=True)

    class Meta:
        verbose_name = _("meter reading")
        verbose_name_plural = _("meter readings")
        constraints = [
            models.UniqueConstraint(fields=["meter", "read_at"], name="reading_once_per_time"),
            models.CheckConstraint(
                condition=Q(kind__in=ReadingKind.values), name="reading_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"meter {self.meter_id} at {self.read_at:%Y-%m-%d %H:%M:%S}"


class CommandBatch(models.Model):
    """One command applied to a selection of meters; each meter has its own :class:`Command`
    with its own outcome."""

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("site"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("command"), max_length=16, choices=CommandKindChoice.choices)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("command batch")
        verbose_name_plural = _("command batches")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=CommandKindChoice.values), name="command_batch_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.description or f"{self.get_kind_display()} #{self.pk}"

    def audit_site(self):
        return self.site


class Command(models.Model):
    meter = models.ForeignKey(
        "sites.Meter", verbose_name=_("meter"), on_delete=models.PROTECT, related_name="commands"
    )
    kind = models.CharField(_("command"), max_length=16, choices=CommandKindChoice.choices)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    state = models.CharField(
        _("state"),
        max_length=12,
        choices=CommandStateChoice.choices,
        default=CommandStateChoice.QUEUED,
    )
    origin = models.CharField(
        _("origin"), max_length=12, choices=CommandOrigin.choices, default=CommandOrigin.OPERATOR
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    batch = models.ForeignKey(
        CommandBatch,
        verbose_name=_("batch"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="commands",
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed by the headend"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("command")
        verbose_name_plural = _("commands")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "meter"], name="command_state_meter")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=CommandKindChoice.values), name="command_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=CommandStateChoice.values), name="command_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(origin__in=CommandOrigin.values), name="command_origin_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_final(self) -> bool:
        return self.state in {
            CommandState.CONFIRMED,
            CommandState.FAILED,
            CommandState.SUPERSEDED,
            CommandState.EXPIRED,
        }


class AlarmKind(models.TextChoices):
    METER_LOST = "meter_lost", _("Meter lost contact")
    GATEWAY_LOST = "gateway_lost", _("Gateway lost contact")


class ContactAlarm(models.Model):
    """A loss of contact with a meter or a whole gateway, from ``lost_at`` until
    ``regained_at``. At most one is open per meter and per gateway."""

    kind = models.CharField(_("kind"), max_length=16, choices=AlarmKind.choices)
    meter = models.ForeignKey(
        "sites.Meter",
        verbose_name=_("meter"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contact_alarms",
    )
    gateway = models.ForeignKey(
        "sites.Gateway",
        verbose_name=_("gateway"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contact_alarms",
    )
    lost_at = models.DateTimeField(_("lost"))
    regained_at = models.DateTimeField(_("regained"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("lost-contact alarm")
        verbose_name_plural = _("lost-contact alarms")
        ordering = ["-lost_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="meter_lost") & Q(meter__isnull=False, gateway__isnull=True))
                | (Q(kind="gateway_lost") & Q(meter__isnull=True, gateway__isnull=False)),
                name="contact_alarm_one_subject",
            ),
            models.CheckConstraint(
                condition=Q(regained_at__isnull=True) | Q(regained_at__gte=models.F("lost_at")),
                name="contact_alarm_regained_after_lost",
            ),
            models.UniqueConstraint(
                fields=["meter"],
                condition=Q(regained_at__isnull=True, meter__isnull=False),
                name="contact_alarm_one_open_per_meter",
            ),
            models.UniqueConstraint(
                fields=["gateway"],
                condition=Q(regained_at__isnull=True, gateway__isnull=False),
                name="contact_alarm_one_open_per_gateway",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.lost_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.regained_at is None


class GatewayHealth(models.Model):
    """Running totals for a gateway line since it was first served."""

    gateway = models.OneToOneField(
        "sites.Gateway",
        verbose_name=_("gateway"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="health",
    )
    connected = models.BooleanField(_("connected"), default=False)
    last_connected_at = models.DateTimeField(_("last connected"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    requests = models.PositiveBigIntegerField(_("requests"), default=0)
    failures = models.PositiveBigIntegerField(_("failures"), default=0)
    round_trip_ms_avg = models.DecimalField(
        _("average round trip (ms)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    round_trip_ms_max = models.DecimalField(
        _("longest round trip (ms)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    updated_at = models.DateTimeField(_("updated"), null=True, blank=True)

    class Meta:
        verbose_name = _("gateway health")
        verbose_name_plural = _("gateway health")

    def __str__(self) -> str:
        return f"health of gateway {self.gateway_id}"
