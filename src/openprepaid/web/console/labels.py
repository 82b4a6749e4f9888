"""How stored codes read on a page: system-log actions and the colours of status badges."""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from openprepaid.domain.metering.models import CommandKindChoice, CommandStateChoice

ACTIONS = {
    "site.create": _("Create site"),
    "site.update": _("Change site"),
    "building.create": _("Add building"),
    "floor.create": _("Add floor"),
    "unit.create": _("Create unit"),
    "unit.update": _("Change unit"),
    "unit.retire": _("Retire unit"),
    "gateway.create": _("Create gateway"),
    "gateway.update": _("Change gateway"),
    "gateway.retire": _("Retire gateway"),
    "meter.create": _("Create meter"),
    "meter.update": _("Change meter"),
    "meter.retire": _("Retire meter"),
    "tenant.create": _("Create tenant"),
    "tenant.update": _("Change tenant"),
    "tenant.archive": _("Archive tenant"),
    "account.register": _("Register account"),
    "account.attach_meters": _("Attach meters to account"),
    "operator.create": _("Create operator"),
    "operator.update": _("Change operator"),
    "operator.set_sites": _("Set operator's sites"),
    "operator.set_password": _("Set password"),
    "operator.unlock": _("Unlock login"),
    "operator.login": _("Log in"),
    "operator.logout": _("Log out"),
    "operator.locked_out": _("Login locked"),
    "configuration.import": _("Import configuration"),
    "configuration.export": _("Export configuration"),
    "account.open": _("Open account"),
    "account.close": _("Close account"),
    "sale.sell": _("Sale"),
    "sale.refund": _("Refund"),
    "sale.correct": _("Correction"),
    "sale.redeliver": _("Write a sale to the meter again"),
    "meter.swap": _("Swap meter"),
    "tariff.create": _("Create tariff"),
    "tariff.add_version": _("New tariff version"),
    "tariff.assign": _("Assign tariff"),
    "meter_group.create": _("Create meter group"),
    "meter_group.set_meters": _("Set the meters of a group"),
    "billing_settings.update": _("Change billing settings"),
    "meter_thresholds.set": _("Set meter thresholds"),
    "holiday.add": _("Add holiday"),
    "holiday.remove": _("Remove holiday"),
    "api_token.create": _("Create API token"),
    "api_token.revoke": _("Revoke API token"),
}

#: How a command's parameters read on a page (money, purchase count, prices, thresholds).
PARAM_LABELS = {
    "amount": _("amount"),
    "purchase_count": _("purchase count"),
    "customer": _("customer number"),
    "prices": _("prices"),
    "alarm_1": _("alarm level 1"),
    "alarm_2": _("alarm level 2"),
    "overdraft_limit": _("overdraft limit"),
    "close_allowed_limit": _("close-allowed limit"),
    "overload_power_kw": _("overload power (kW)"),
    "hoarding_limit": _("hoarding limit"),
}
_MONEY_PARAMS = {"amount", "alarm_1", "alarm_2", "overdraft_limit", "close_allowed_limit"}

VERBS = {
    "create": pgettext_lazy("log action", "create"),
    "update": pgettext_lazy("log action", "change"),
    "retire": pgettext_lazy("log action", "retire"),
    "archive": pgettext_lazy("log action", "archive"),
}

# Subjects of actions that are not a model.
SUBJECTS = {"configuration": _("configuration")}


def model_label(model_name: str) -> str:
    for model in apps.get_models():
        if model._meta.model_name == model_name:
            return str(model._meta.verbose_name)
    return str(SUBJECTS.get(model_name, model_name))


def action_label(action: str) -> str:
    """``unit.create`` → "Create unit" (translated). An action not listed reads as verb and
    subject; unknown parts are shown as they are."""
    if action in ACTIONS:
        return str(ACTIONS[action])
    subject, _sep, verb = action.partition(".")
    if not verb:
        return action
    if subject == "command" and verb in COMMAND_KINDS:
        return str(COMMAND_KINDS[verb])
    if subject == "command_batch" and verb in COMMAND_KINDS:
        return _("Batch command: %(kind)s") % {"kind": COMMAND_KINDS[verb]}
    return _("%(verb)s %(subject)s") % {
        "verb": VERBS.get(verb, verb.replace("_", " ")),
        "subject": model_label(subject),
    }


def field_label(model_name: str, field: str) -> str:
    for model in apps.get_models():
        if model._meta.model_name == model_name:
            try:
                return str(model._meta.get_field(field).verbose_name)
            except FieldDoesNotExist:  # a field that no longer exists shows its name
                return field
    return field


#: Readable names of the meter model profiles (the protocol registry's names are English only).
PROFILE_LABELS = {
    "dlt645-prepaid-1p": _(
        "DL/T 645-2007 prepaid meter, single-phase (2013 cost-control additions)"
    ),
    "dlt645-prepaid-3p": _(
        "DL/T 645-2007 prepaid meter, three-phase (2013 cost-control additions)"
    ),
    "acrel-ddsy1352": _("Acrel DDSY1352-NK single-phase prepaid meter, Modbus-RTU"),
    "acrel-dtsy1352": _("Acrel DTSY1352-NK three-phase prepaid meter, Modbus-RTU"),
}


def profile_label(code: str) -> str:
    from openprepaid.protocol.profiles import PROFILES

    if code in PROFILE_LABELS:
        return str(PROFILE_LABELS[code])
    profile = PROFILES.get(code)
    return profile.name if profile is not None else code


#: Bootstrap colour of the badge for a status value (units, gateways, meters, tenants, accounts).
BADGE_COLOURS = {
    "active": "success",
    "retired": "secondary",
    "archived": "secondary",
    "not_opened": "light",
    "opened": "success",
    "registered": "info",
    "open": "success",
    "closed": "secondary",
    "created": "success",
    "updated": "primary",
    "unchanged": "light",
    "error": "danger",
}

#: The live states of the meter board (``MeterLive.state``), in legend order.
METER_STATES = {
    "not_opened": _("Not opened"),
    "opened": _("Opened, balance normal"),
    "alarm_1": _("Below alarm level 1"),
    "alarm_2": _("Below alarm level 2"),
    "arrears": _("Arrears"),
    "lost": _("Lost contact"),
}

#: Commands (``CommandKind`` values) and where they are (``CommandState`` values).
#: "Close" alone reads as closing a dialog (关闭) in Chinese; a meter's relay closes (合闸).
COMMAND_KINDS = dict(CommandKindChoice.choices) | {
    "close": pgettext_lazy("meter command", "Close"),
}
COMMAND_STATES = dict(CommandStateChoice.choices)

BADGE_COLOURS.update(
    {
        "queued": "light",
        "sending": "info",
        "sent": "primary",
        "confirmed": "success",
        "failed": "danger",
        "superseded": "secondary",
        "expired": "warning",
    }
)


def meter_state_label(code: str) -> str:
    return str(METER_STATES.get(code, code))


def command_params_text(params) -> str:
    """``{"amount": "47.00", "purchase_count": 1}`` → "amount ¥47.00 · purchase count 1"."""
    if not isinstance(params, dict) or not params:
        return ""
    parts = []
    for key, value in params.items():
        label = PARAM_LABELS.get(key, key)
        if key in _MONEY_PARAMS:
            shown = f"¥{value}"
        elif isinstance(value, list):
            shown = " / ".join(str(v) for v in value)
        else:
            shown = str(value)
        parts.append(f"{label} {shown}")
    return " · ".join(parts)


def command_kind_label(code: str) -> str:
    return str(COMMAND_KINDS.get(str(code), code))


def command_state_label(code: str) -> str:
    return str(COMMAND_STATES.get(str(code), code))
