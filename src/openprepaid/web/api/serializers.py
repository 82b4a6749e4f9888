"""What the API reads and writes. Output serializers describe rows the selectors return; input
serializers only check the shape and the references (which must lie in the operator's sites) —
the business rules are the services'."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from openprepaid.domain.metering import selectors as metering
from openprepaid.domain.metering.models import (
    Command,
    CommandBatch,
    CommandKindChoice,
    CommandStateChoice,
    MeterReading,
    MeterStatus,
)
from openprepaid.domain.metering.selectors import BoardState
from openprepaid.domain.sites import selectors as site_selectors
from openprepaid.domain.sites.models import (
    Building,
    CostControl,
    Floor,
    Gateway,
    Lifecycle,
    Meter,
    Site,
    Unit,
)
from openprepaid.headend.model import MONEY_KINDS

MONEY_KIND_VALUES = frozenset(k.value for k in MONEY_KINDS)
#: The commands an operator may request (money reaches a meter only through a sale).
OPERATOR_KIND_CHOICES = [
    (value, label) for value, label in CommandKindChoice.choices if value not in MONEY_KIND_VALUES
]
BOARD_STATE_CHOICES = [(s.value, s.value) for s in BoardState]


def _operator(serializer: serializers.Field):
    return serializer.context["request"].user


class VisibleRowField(serializers.PrimaryKeyRelatedField):
    """A row by id among those the requesting operator may see (``selector(operator)``);
    another site's row is "not found", like a row that does not exist."""

    def __init__(self, selector, **kwargs):
        self.selector = selector
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.selector(_operator(self))


# ------------------------------------------------------------------------------- meters


class SiteRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Site
        fields = ["id", "code", "name"]


class BuildingRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Building
        fields = ["id", "name"]


class FloorRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Floor
        fields = ["id", "name", "level"]


class UnitRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "code", "name"]


class GatewayRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Gateway
        fields = ["id", "name"]


class BoardSerializer(serializers.Serializer):
    """The meter's live state as the meter board shows it."""

    state = serializers.ChoiceField(choices=BOARD_STATE_CHOICES)
    relay_open = serializers.BooleanField(allow_null=True)
    keep_power = serializers.BooleanField(allow_null=True)
    last_seen_at = serializers.DateTimeField(allow_null=True)
    remaining = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    overdraft = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    fresh = serializers.BooleanField(help_text=_("Read within the last two minutes."))


class MeterSerializer(serializers.ModelSerializer):
    site = SiteRefSerializer(source="gateway.site")
    gateway = GatewayRefSerializer()
    building = BuildingRefSerializer(source="unit.floor.building")
    floor = FloorRefSerializer(source="unit.floor")
    unit = UnitRefSerializer()
    board = BoardSerializer(source="board_state", allow_null=True)

    class Meta:
        model = Meter
        fields = [
            "id",
            "address",
            "protocol",
            "profile",
            "phases",
            "ct_ratio",
            "cost_control",
            "lifecycle",
            "site",
            "building",
            "floor",
            "unit",
            "gateway",
            "board",
        ]


class MeterStatusSerializer(serializers.ModelSerializer):
    class Meta:
        model = MeterStatus
        exclude = ["meter"]


class MeterReadingSerializer(serializers.ModelSerializer):
    voltage = serializers.ListField(child=serializers.CharField())
    current = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = MeterReading
        exclude = ["meter", "id"]


class MeterDetailSerializer(MeterSerializer):
    status = MeterStatusSerializer(source="status_row", allow_null=True)
    latest_reading = MeterReadingSerializer(source="latest_reading_row", allow_null=True)

    class Meta(MeterSerializer.Meta):
        fields = [*MeterSerializer.Meta.fields, "status", "latest_reading"]


class MeterFilterSerializer(serializers.Serializer):
    site = serializers.IntegerField(required=False, min_value=1)
    building = serializers.IntegerField(required=False, min_value=1)
    floor = serializers.IntegerField(required=False, min_value=1)
    gateway = serializers.IntegerField(required=False, min_value=1)
    state = serializers.ChoiceField(choices=BOARD_STATE_CHOICES, required=False)
    cost_control = serializers.ChoiceField(choices=CostControl.choices, required=False)
    lifecycle = serializers.ChoiceField(
        choices=Lifecycle.choices,
        required=False,
        help_text=_("Without it, the meters in service (retired ones left out)."),
    )
    q = serializers.CharField(
        required=False, help_text=_("Part of the address or the unit's code or name.")
    )


# ------------------------------------------------------------------------------ commands


def params_field() -> serializers.DictField:
    return serializers.DictField(
        required=False,
        default=dict,
        help_text=_(
            'push_prices: {"prices": ["1.2000", …]} (one to four, yuan/kWh); push_settings:'
            ' {"alarm_1": "50.00", …}; the other commands take none. Numbers may be given as'
            " JSON numbers or decimal strings."
        ),
    )


class CommandKindField(serializers.ChoiceField):
    """A command an operator may request. A money kind passes, so that the service refuses it
    with its own code (``money_command``) and message."""

    def __init__(self, **kwargs):
        super().__init__(choices=OPERATOR_KIND_CHOICES, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and data in MONEY_KIND_VALUES:
            return data
        return super().to_internal_value(data)


class CommandSerializer(serializers.ModelSerializer):
    meter_address = serializers.CharField(source="meter.address", read_only=True)
    requested_by = serializers.CharField(
        source="requested_by.username", allow_null=True, read_only=True
    )
    params = serializers.DictField()
    final = serializers.BooleanField(source="is_final", read_only=True)

    class Meta:
        model = Command
        fields = [
            "id",
            "meter",
            "meter_address",
            "kind",
            "params",
            "state",
            "final",
            "origin",
            "requested_by",
            "batch",
            "attempts",
            "detail",
            "created_at",
            "updated_at",
            "expires_at",
            "claimed_at",
            "sent_at",
            "finished_at",
        ]
        read_only_fields = fields


class CommandRequestSerializer(serializers.Serializer):
    meter = VisibleRowField(
        site_selectors.meters_for,
        queryset=Meter.objects.none(),  # the model, for the schema
        error_messages={"does_not_exist": _("There is no meter {pk_value} in your sites.")},
    )
    kind = CommandKindField()
    params = params_field()


class CommandFilterSerializer(serializers.Serializer):
    meter = serializers.IntegerField(required=False, min_value=1)
    batch = serializers.IntegerField(required=False, min_value=1)
    state = serializers.ChoiceField(choices=CommandStateChoice.choices, required=False)
    kind = serializers.ChoiceField(choices=CommandKindChoice.choices, required=False)


# ----------------------------------------------------------------------- command batches


class SelectionSerializer(serializers.Serializer):
    """Meters in service of one site, narrowed like the meter board."""

    site = VisibleRowField(site_selectors.sites_for, queryset=Site.objects.none())
    building = VisibleRowField(
        site_selectors.buildings_for,
        queryset=Building.objects.none(),
        required=False,
        allow_null=True,
    )
    floor = VisibleRowField(
        site_selectors.floors_for, queryset=Floor.objects.none(), required=False, allow_null=True
    )
    state = serializers.ChoiceField(choices=BOARD_STATE_CHOICES, required=False, allow_blank=True)

    def validate(self, attrs):
        site, building, floor = attrs["site"], attrs.get("building"), attrs.get("floor")
        errors = {}
        if building is not None and building.site_id != site.pk:
            errors["building"] = [_("This building is not on the chosen site.")]
        if floor is not None and floor.building.site_id != site.pk:
            errors["floor"] = [_("This floor is not on the chosen site.")]
        elif floor is not None and building is not None and floor.building_id != building.pk:
            errors["floor"] = [_("This floor is not in the chosen building.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class BatchRequestSerializer(serializers.Serializer):
    kind = CommandKindField()
    params = params_field()
    selection = SelectionSerializer(required=False)
    meters = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        allow_empty=False,
        max_length=20000,
        help_text=_("Meter ids, instead of a selection."),
    )
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=200, default=""
    )

    def validate(self, attrs):
        if ("selection" in attrs) == ("meters" in attrs):
            raise serializers.ValidationError(
                _("Give either a selection or a list of meters, not both.")
                if "selection" in attrs
                else _("Give a selection or a list of meters.")
            )
        operator = _operator(self)
        if "selection" in attrs:
            chosen = dict(attrs["selection"])
            attrs["meter_rows"] = metering.select_meters(
                operator,
                site=chosen["site"],
                building=chosen.get("building"),
                floor=chosen.get("floor"),
                state=chosen.get("state") or None,
            )
        else:
            ids = list(dict.fromkeys(attrs["meters"]))
            found = {m.pk: m for m in site_selectors.meters_for(operator).filter(pk__in=ids)}
            missing = [str(pk) for pk in ids if pk not in found]
            if missing:
                raise serializers.ValidationError(
                    {
                        "meters": [
                            _("There is no meter %(ids)s in your sites.")
                            % {"ids": ", ".join(missing)}
                        ]
                    }
                )
            attrs["meter_rows"] = [found[pk] for pk in ids]
        return attrs


class BatchCommandSerializer(serializers.ModelSerializer):
    meter_address = serializers.CharField(source="meter.address")
    unit_code = serializers.CharField(source="meter.unit.code")
    final = serializers.BooleanField(source="is_final")

    class Meta:
        model = Command
        fields = [
            "id",
            "meter",
            "meter_address",
            "unit_code",
            "state",
            "final",
            "attempts",
            "detail",
            "sent_at",
            "finished_at",
        ]
        read_only_fields = fields


class BatchSummarySerializer(serializers.ModelSerializer):
    site = SiteRefSerializer()
    requested_by = serializers.CharField(source="requested_by.username", allow_null=True)
    params = serializers.DictField()

    class Meta:
        model = CommandBatch
        fields = ["id", "site", "kind", "params", "description", "requested_by", "created_at"]
        read_only_fields = fields


class BatchSerializer(BatchSummarySerializer):
    total = serializers.IntegerField()
    progress = serializers.DictField(
        child=serializers.IntegerField(),
        help_text=_("How many of the batch's commands are in each state."),
    )
    finished = serializers.BooleanField(help_text=_("Every command has reached a final state."))
    commands = BatchCommandSerializer(many=True, source="command_rows")

    class Meta(BatchSummarySerializer.Meta):
        fields = [*BatchSummarySerializer.Meta.fields, "total", "progress", "finished", "commands"]
        read_only_fields = fields
