"""Where the money is: tariffs, thresholds, the ledger, sales and receipts.

- :class:`Tariff` and :class:`TariffVersion` — a named price (flat, time-of-use, tiered, tiered
  with time-of-use) whose definition changes only by a new version with an ``effective_from``
  (history kept); :class:`TariffAssignment` gives a tariff to a whole site, a
  :class:`MeterGroup` or one meter (一表一价), from a date.
- :class:`BillingSettings` (site defaults) and :class:`MeterThresholds` (per-meter overrides):
  alarm levels, overdraft and close-allowed limits, overload power, friendly (no-trip) hours and
  :class:`Holiday` days, the receipt layout.
- :class:`LedgerEntry` — append-only (model and database triggers); an account's balance is the
  sum of its entries. :class:`AccountBalance` caches that sum under a row lock, with the alarm
  level it puts the account in.
- :class:`Sale` — a document at the sales desk (sale, refund, correction, opening, closing
  settlement) with its receipt number, external id and, in local cost control, the command that
  carries the money to the meter and its delivery state.
- :class:`MeterBilling` — per meter: the last purchase count allocated (local) and the billing
  cursor (remote): registers last priced, energy used in the current tier cycle, the residue.
- :class:`BillingAlarm` — balance level changes, ledger/meter differences, overload.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 14, "decimal_places": 2}
PRICE = {"max_digits": 10, "decimal_places": 4}
ENERGY = {"max_digits": 14, "decimal_places": 2}
EXACT = {"max_digits": 24, "decimal_places": 12}  # unrounded residues


class TariffKind(models.TextChoices):
    FLAT = "flat", _("Flat price")
    TIME_OF_USE = "tou", _("Time of use")
    TIERED = "tiered", _("Tiered")
    TIERED_TIME_OF_USE = "tiered_tou", _("Tiered with time of use")


class Tariff(models.Model):
    site = models.ForeignKey(
        "sites.Site", verbose_name=_("site"), on_delete=models.PROTECT, related_name="tariffs"
    )
    code = models.CharField(_("tariff code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=TariffKind.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        ordering = ["site", "code"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="tariff_code_unique_on_site"),
            models.CheckConstraint(
                condition=Q(kind__in=TariffKind.values), name="tariff_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def audit_site(self):
        return self.site


class TariffVersion(models.Model):
    """A tariff's definition from ``effective_from`` on. Never edited: a price change is a new
    version. ``definition`` is the JSON that ``openprepaid.calc.tariffs.parse_tariff`` accepts for
    the tariff's kind (validated by the service that creates it)."""

    tariff = models.ForeignKey(
        Tariff, verbose_name=_("tariff"), on_delete=models.PROTECT, related_name="versions"
    )
    effective_from = models.DateTimeField(_("effective from"))
    definition = models.JSONField(_("definition"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("tariff version")
        verbose_name_plural = _("tariff versions")
        ordering = ["tariff", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["tariff", "effective_from"], name="tariff_version_unique_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.tariff} from {self.effective_from:%Y-%m-%d %H:%M}"


class MeterGroup(models.Model):
    """A named set of meters on one site that share a tariff (a floor of restaurants, say)."""

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("site"), on_delete=models.PROTECT, related_name="meter_groups"
    )
    name = models.CharField(_("name"), max_length=64)
    meters = models.ManyToManyField(
        "sites.Meter", verbose_name=_("meters"), related_name="billing_groups", blank=True
    )

    class Meta:
        verbose_name = _("meter group")
        verbose_name_plural = _("meter groups")
        ordering = ["site", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="meter_group_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class AssignmentScope(models.TextChoices):
    SITE = "site", _("Whole site")
    GROUP = "group", _("Meter group")
    METER = "meter", _("One meter")


class TariffAssignment(models.Model):
    """``tariff`` applies to the scope from ``effective_from``. For a meter at a moment, the
    most specific scope wins (meter, then group, then site), and within it the latest
    assignment that has started."""

    tariff = models.ForeignKey(
        Tariff, verbose_name=_("tariff"), on_delete=models.PROTECT, related_name="assignments"
    )
    scope = models.CharField(_("applies to"), max_length=8, choices=AssignmentScope.choices)
    site = models.ForeignKey(
        "sites.Site", verbose_name=_("site"), on_delete=models.PROTECT, related_name="+"
    )
    group = models.ForeignKey(
        MeterGroup,
        verbose_name=_("meter group"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assignments",
    )
    meter = models.ForeignKey(
        "sites.Meter",
        verbose_name=_("meter"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tariff_assignments",
    )
    effective_from = models.DateTimeField(_("effective from"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("tariff assignment")
        verbose_name_plural = _("tariff assignments")
        ordering = ["site", "effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(scope="site") & Q(group__isnull=True, meter__isnull=True))
                | (Q(scope="group") & Q(group__isnull=False, meter__isnull=True))
                | (Q(scope="meter") & Q(group__isnull=True, meter__isnull=False)),
                name="tariff_assignment_scope_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tariff} → {self.get_scope_display()}"


class BillingSettings(models.Model):
    """A site's defaults. Amounts in yuan; friendly hours are local wall-clock times in which
    arrears does not trip (start > end spans midnight; equal means none). ``opening_amount`` is
    what the sales desk offers for opening an account (one click for a pre-registered one)."""

    site = models.OneToOneField(
        "sites.Site",
        verbose_name=_("site"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="billing",
    )
    alarm_1 = models.DecimalField(_("alarm level 1 (yuan)"), default=50, **MONEY)
    alarm_2 = models.DecimalField(_("alarm level 2 (yuan)"), default=20, **MONEY)
    overdraft_limit = models.DecimalField(_("overdraft limit (yuan)"), default=0, **MONEY)
    close_allowed_limit = models.DecimalField(_("close-allowed limit (yuan)"), default=0, **MONEY)
    overload_power_kw = models.DecimalField(
        _("overload power (kW)"), null=True, blank=True, max_digits=10, decimal_places=4
    )
    friendly_from = models.TimeField(_("no-trip hours from"), null=True, blank=True)
    friendly_until = models.TimeField(_("no-trip hours until"), null=True, blank=True)
    friendly_weekends = models.BooleanField(_("no trip on weekends"), default=False)
    receipt_prefix = models.CharField(_("receipt number prefix"), max_length=8, blank=True)
    receipt_layout = models.JSONField(_("receipt layout"), default=dict, blank=True)
    opening_amount = models.DecimalField(
        _("default opening amount (yuan)"), default=Decimal("100.00"), **MONEY
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("billing settings")
        verbose_name_plural = _("billing settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(alarm_1__gte=models.F("alarm_2")), name="billing_alarm_1_above_2"
            ),
            models.CheckConstraint(
                condition=Q(overdraft_limit__gte=0), name="billing_overdraft_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(opening_amount__gte=0), name="billing_opening_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"billing settings of {self.site_id}"


class MeterThresholds(models.Model):
    """Per-meter overrides of the site's thresholds; a blank field takes the site's value."""

    meter = models.OneToOneField(
        "sites.Meter",
        verbose_name=_("meter"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="thresholds",
    )
    alarm_1 = models.DecimalField(_("alarm level 1 (yuan)"), null=True, blank=True, **MONEY)
    alarm_2 = models.DecimalField(_("alarm level 2 (yuan)"), null=True, blank=True, **MONEY)
    overdraft_limit = models.DecimalField(
        _("overdraft limit (yuan)"), null=True, blank=True, **MONEY
    )
    close_allowed_limit = models.DecimalField(
        _("close-allowed limit (yuan)"), null=True, blank=True, **MONEY
    )
    overload_power_kw = models.DecimalField(
        _("overload power (kW)"), null=True, blank=True, max_digits=10, decimal_places=4
    )

    class Meta:
        verbose_name = _("meter thresholds")
        verbose_name_plural = _("meter thresholds")

    def __str__(self) -> str:
        return f"thresholds of meter {self.meter_id}"


class Holiday(models.Model):
    """A day on which arrears does not trip (and which time-of-use calendars may treat as a
    holiday when the tariff says so)."""

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("site"), on_delete=models.CASCADE, related_name="holidays"
    )
    day = models.DateField(_("day"))
    name = models.CharField(_("name"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["site", "day"]
        constraints = [models.UniqueConstraint(fields=["site", "day"], name="holiday_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class AlarmLevel(models.TextChoices):
    NORMAL = "normal", _("Normal")
    ALARM_1 = "alarm_1", _("Alarm level 1")
    ALARM_2 = "alarm_2", _("Alarm level 2")
    ARREARS = "arrears", _("Arrears")


class AccountBalance(models.Model):
    """The cached sum of an account's ledger, changed only together with a new entry while this
    row is locked (``select_for_update``), so concurrent sales never lose an update."""

    account = models.OneToOneField(
        "tenants.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="balance",
    )
    balance = models.DecimalField(_("balance (yuan)"), default=0, **MONEY)
    level = models.CharField(
        _("alarm level"), max_length=8, choices=AlarmLevel.choices, default=AlarmLevel.NORMAL
    )
    entries = models.PositiveIntegerField(_("entries"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("account balance")
        verbose_name_plural = _("account balances")
        constraints = [
            models.CheckConstraint(
                condition=Q(level__in=AlarmLevel.values), name="account_balance_level_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.balance}"


class EntryKind(models.TextChoices):
    OPENING = "opening", _("Opening purchase")
    SALE = "sale", _("Sale")
    REFUND = "refund", _("Refund")
    CORRECTION = "correction", _("Correction")
    CONSUMPTION = "consumption", _("Consumption")
    SERVICE_CHARGE = "service_charge", _("Service charge")
    TRANSFER = "transfer", _("Transfer")
    CLOSING = "closing", _("Closing settlement")


class LedgerEntry(models.Model):
    """One signed movement of an account's money. Append-only: never updated or deleted (the
    model refuses, the database triggers refuse); a mistake is undone by a correction entry
    that points at it (``reverses``).

    ``meter`` says which meter's wallet the entry belongs to in local cost control (the meter
    holds the money) and which meter consumed in remote; ``balance_after`` is the account's
    balance once this entry is added. ``external_id`` (receipt number, payment transaction id,
    reading batch key) makes each posting idempotent: the same id never posts twice."""

    account = models.ForeignKey(
        "tenants.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="ledger",
    )
    meter = models.ForeignKey(
        "sites.Meter",
        verbose_name=_("meter"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=EntryKind.choices)
    amount = models.DecimalField(_("amount (yuan)"), **MONEY)
    energy = models.DecimalField(_("energy (kWh)"), null=True, blank=True, **ENERGY)
    balance_after = models.DecimalField(_("balance after (yuan)"), **MONEY)
    external_id = models.CharField(_("external id"), max_length=64)
    sale = models.ForeignKey(
        "Sale",
        verbose_name=_("sale"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
    )
    reverses = models.ForeignKey(
        "self",
        verbose_name=_("reverses"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
    )
    source = models.JSONField(_("source"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    effective_at = models.DateTimeField(_("effective"))

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["account", "id"]
        indexes = [models.Index(fields=["account", "id"], name="ledger_account_id")]
        constraints = [
            models.UniqueConstraint(fields=["external_id"], name="ledger_external_id_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=EntryKind.values), name="ledger_kind_valid"
            ),
            models.CheckConstraint(condition=~Q(external_id=""), name="ledger_external_id_given"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} ({self.account_id})"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise RuntimeError("ledger entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("ledger entries are append-only")


class SaleKind(models.TextChoices):
    OPENING = "opening", _("Opening purchase")
    SALE = "sale", _("Sale")
    REFUND = "refund", _("Refund")
    CORRECTION = "correction", _("Correction")
    CLOSING = "closing", _("Closing settlement")
    SWAP = "swap", _("Meter swap")


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Bank card")
    TRANSFER = "transfer", _("Bank transfer")
    ONLINE = "online", _("Online payment")


class Delivery(models.TextChoices):
    NOT_NEEDED = "not_needed", _("Not needed (remote cost control)")
    PENDING = "pending", _("Waiting for the meter")
    DELIVERED = "delivered", _("On the meter")
    FAILED = "failed", _("Not delivered")


class Sale(models.Model):
    """A document at the sales desk with its receipt number. ``amount`` is what the tenant paid
    (positive) or got back (negative). In local cost control a sale's money goes to the meter
    by ``command`` (open account or recharge with ``purchase_count``); the sale is delivered
    only when the meter reports that purchase count."""

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("site"), on_delete=models.PROTECT, related_name="sales"
    )
    receipt_number = models.CharField(_("receipt number"), max_length=32)
    external_id = models.CharField(_("external id"), max_length=64)
    kind = models.CharField(_("kind"), max_length=12, choices=SaleKind.choices)
    account = models.ForeignKey(
        "tenants.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="sales"
    )
    meter = models.ForeignKey(
        "sites.Meter",
        verbose_name=_("meter"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sales",
    )
    amount = models.DecimalField(_("amount (yuan)"), **MONEY)
    energy = models.DecimalField(_("energy (kWh)"), null=True, blank=True, **ENERGY)
    unit_price = models.DecimalField(_("unit price"), null=True, blank=True, **PRICE)
    payment_method = models.CharField(
        _("payment method"), max_length=10, choices=PaymentMethod.choices
    )
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("corrects"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
    )
    delivery = models.CharField(
        _("delivery"), max_length=10, choices=Delivery.choices, default=Delivery.NOT_NEEDED
    )
    command = models.ForeignKey(
        "metering.Command",
        verbose_name=_("meter command"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sales",
    )
    purchase_count = models.PositiveIntegerField(_("purchase count"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    cashier = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cashier"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sales",
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("sale")
        verbose_name_plural = _("sales")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["cashier", "created_at"], name="sale_cashier_day")]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "receipt_number"], name="sale_receipt_number_unique"
            ),
            models.UniqueConstraint(fields=["external_id"], name="sale_external_id_unique"),
            models.CheckConstraint(condition=Q(kind__in=SaleKind.values), name="sale_kind_valid"),
            models.CheckConstraint(
                condition=Q(payment_method__in=PaymentMethod.values),
                name="sale_payment_method_valid",
            ),
            models.CheckConstraint(
                condition=Q(delivery__in=Delivery.values), name="sale_delivery_valid"
            ),
            models.CheckConstraint(
                condition=~Q(kind="correction") | Q(corrects__isnull=False),
                name="sale_correction_names_its_sale",
            ),
        ]

    def __str__(self) -> str:
        return self.receipt_number

    def audit_site(self):
        return self.site


class ReceiptCounter(models.Model):
    """The last receipt number given on a site on a day; locked while the next is taken."""

    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "day"], name="receipt_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.site_id} {self.day}: {self.last}"


class MeterBilling(models.Model):
    """Billing state of one meter.

    Local cost control: ``purchase_count`` is the last purchase count given to a recharge of
    this meter (the next recharge carries ``purchase_count + 1``).
    Remote cost control: the cursor — the registers as last priced (``read_at`` and the tariff
    registers), the energy counted in the current tier cycle (``cycle_key`` such as
    ``"2026-11"`` or ``"2026"``), the unrounded money not yet debited (``residue``) and the
    last month a service charge was taken (``service_month`` such as ``"2026-11"``)."""

    meter = models.OneToOneField(
        "sites.Meter",
        verbose_name=_("meter"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="billing",
    )
    purchase_count = models.PositiveIntegerField(_("purchase count"), default=0)
    read_at = models.DateTimeField(_("priced up to"), null=True, blank=True)
    energy_total = models.DecimalField(_("total (kWh)"), null=True, blank=True, **ENERGY)
    energy_sharp = models.DecimalField(_("sharp (kWh)"), null=True, blank=True, **ENERGY)
    energy_peak = models.DecimalField(_("peak (kWh)"), null=True, blank=True, **ENERGY)
    energy_flat = models.DecimalField(_("flat (kWh)"), null=True, blank=True, **ENERGY)
    energy_valley = models.DecimalField(_("valley (kWh)"), null=True, blank=True, **ENERGY)
    cycle_key = models.CharField(_("tier cycle"), max_length=8, blank=True)
    cycle_energy = models.DecimalField(_("energy in tier cycle (kWh)"), default=0, **EXACT)
    residue = models.DecimalField(_("residue (yuan)"), default=0, **EXACT)
    service_month = models.CharField(_("service charge taken for"), max_length=7, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("meter billing state")
        verbose_name_plural = _("meter billing states")

    def __str__(self) -> str:
        return f"billing of meter {self.meter_id}"


class BillingAlarmKind(models.TextChoices):
    LEVEL = "level", _("Balance level changed")
    LEDGER_DIFFERENCE = "ledger_difference", _("Ledger differs from the meter")
    OVERLOAD = "overload", _("Overload")
    TAMPER = "tamper", _("Registers went backwards")


class BillingAlarm(models.Model):
    """One record per change: an account's alarm level moving (``level_from`` → ``level_to``),
    a meter whose reported balance differs from the ledger (``difference``), an overload."""

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("site"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=BillingAlarmKind.choices)
    account = models.ForeignKey(
        "tenants.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="alarms",
    )
    meter = models.ForeignKey(
        "sites.Meter",
        verbose_name=_("meter"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="billing_alarms",
    )
    level_from = models.CharField(
        _("from level"), max_length=8, choices=AlarmLevel.choices, blank=True
    )
    level_to = models.CharField(_("to level"), max_length=8, choices=AlarmLevel.choices, blank=True)
    balance = models.DecimalField(_("balance (yuan)"), null=True, blank=True, **MONEY)
    difference = models.DecimalField(_("difference (yuan)"), null=True, blank=True, **MONEY)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    raised_at = models.DateTimeField(_("raised"))
    cleared_at = models.DateTimeField(_("cleared"), null=True, blank=True)

    class Meta:
        verbose_name = _("billing alarm")
        verbose_name_plural = _("billing alarms")
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=BillingAlarmKind.values), name="billing_alarm_kind_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.raised_at:%Y-%m-%d %H:%M}"
