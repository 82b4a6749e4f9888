"""Commands to meters: a meter's command buttons and history, and batch commands.

- :class:`MeterCommandsView` — GET is the command history of a meter (a partial that polls
  itself while a command is on its way); POST asks for a command (``services.request_command``)
  and answers with the updated history.
- :class:`BatchListView`, :class:`BatchCreateView`, :class:`BatchDetailView` — choose meters by
  site, building, floor and board state, preview how many, confirm, and follow each meter's
  outcome.

The headend carries the commands out; these pages only write the request and show the rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from openprepaid.domain.errors import PermissionDeniedError, ServiceError
from openprepaid.domain.metering import selectors as metering
from openprepaid.domain.metering import services
from openprepaid.domain.operators.permissions import can
from openprepaid.domain.operators.roles import Capability
from openprepaid.domain.sites import selectors as site_selectors
from openprepaid.headend.model import FINAL_STATES, CommandKind
from openprepaid.web.console.forms import BatchCommandForm, command_params_form
from openprepaid.web.console.labels import command_kind_label
from openprepaid.web.console.views.base import ConsoleMixin, is_partial

if TYPE_CHECKING:
    from openprepaid.domain.metering.models import CommandBatch

COMMAND_ROWS = 20
POLL_SECONDS = 2
BATCH_POLL_SECONDS = 2
RECENT_BATCHES = 50

#: The command buttons of a meter's page, in the order shown; the last two open a small form.
BUTTON_KINDS = (
    (CommandKind.TRIP, "power", "danger"),
    (CommandKind.CLOSE, "plug", "success"),
    (CommandKind.CLOSE_ALLOWED, "toggle-on", "outline-success"),
    (CommandKind.KEEP_POWER_ON, "shield-lock-fill", "outline-primary"),
    (CommandKind.KEEP_POWER_OFF, "shield-slash", "outline-secondary"),
    (CommandKind.RESUME_PREPAID, "arrow-repeat", "outline-secondary"),
    (CommandKind.READ_NOW, "arrow-down-circle", "outline-primary"),
    (CommandKind.TIME_SYNC, "clock", "outline-secondary"),
)
FORM_KINDS = (CommandKind.PUSH_PRICES, CommandKind.PUSH_SETTINGS)


def in_progress(commands) -> bool:
    return any(c.state not in FINAL_STATES for c in commands)


def meter_commands_context(operator, meter) -> dict:
    """What ``console/meter_commands.html`` shows: the history and whether to keep polling."""
    commands = list(metering.commands_for(meter, limit=COMMAND_ROWS))
    return {
        "meter": meter,
        "commands": commands,
        "commands_polling": in_progress(commands),
        "command_poll_seconds": POLL_SECONDS,
    }


def command_buttons(operator, meter) -> dict:
    """The buttons and small forms of a meter's page (none without CONTROL_METERS there)."""
    if not can(operator, Capability.CONTROL_METERS, meter.gateway.site_id):
        return {"command_buttons": [], "command_forms": []}
    return {
        "command_buttons": [
            (kind.value, command_kind_label(kind), icon, style)
            for kind, icon, style in BUTTON_KINDS
        ],
        "command_forms": [
            (kind.value, command_kind_label(kind), command_params_form(kind, prefix=kind.value))
            for kind in FORM_KINDS
        ],
    }


class MeterCommandsView(ConsoleMixin, TemplateView):
    template_name = "console/meter_commands.html"

    def get_meter(self):
        if not hasattr(self, "meter"):
            self.meter = get_object_or_404(
                site_selectors.meters_for(self.request.user), pk=self.kwargs["pk"]
            )
        return self.meter

    def get_context_data(self, **kwargs):
        kwargs.update(meter_commands_context(self.request.user, self.get_meter()))
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        meter = self.get_meter()
        if not self.can(Capability.CONTROL_METERS, meter.gateway.site_id):
            raise PermissionDenied
        raw_kind = request.POST.get("kind", "")
        try:
            kind = CommandKind(raw_kind)
        except ValueError:
            raise Http404 from None
        error = None
        params = None
        if kind in FORM_KINDS:
            form = command_params_form(kind, data=request.POST, prefix=kind.value)
            if form.is_valid():
                params = form.params()
            else:
                error = form.error_text()
        if error is None:
            try:
                services.request_command(
                    acting_user=request.user, meter=meter, kind=kind, params=params
                )
            except PermissionDeniedError as refused:
                raise PermissionDenied(refused.message) from refused
            except ServiceError as refused:
                error = refused.message
        if is_partial(request):
            context = self.get_context_data(command_error=error, requested=None if error else kind)
            response = TemplateResponse(request, self.template_name, context)
        else:  # without scripts: back to the meter's page, with the outcome as a message
            if error:
                messages.error(request, error)
            else:
                messages.success(request, _("The command was queued."))
            response = HttpResponseRedirect(reverse("console:meter_detail", args=[meter.pk]))
        patch_vary_headers(response, ["HX-Request"])
        return response


# ------------------------------------------------------------------------------- batches


class BatchListView(ConsoleMixin, TemplateView):
    template_name = "console/batch_list.html"
    title = _("Batch commands")

    def get_context_data(self, **kwargs):
        kwargs.update(
            batches=metering.recent_batches(self.request.user, limit=RECENT_BATCHES),
            can_control=self.can(Capability.CONTROL_METERS),
        )
        return super().get_context_data(**kwargs)


class BatchCreateView(ConsoleMixin, TemplateView):
    """GET: the form; with ``preview`` in the query, how many meters it selects. POST (from
    the preview): create the batch and go to its page."""

    template_name = "console/batch_form.html"
    title = _("New batch command")
    capability = Capability.CONTROL_METERS

    def form(self, data, initial=None):
        return BatchCommandForm(data, initial=initial, operator=self.request.user)

    def get_context_data(self, **kwargs):
        form = kwargs.pop("form", None)
        if form is None and "preview" in self.request.GET:
            form = self.form(self.request.GET)
        elif form is None:
            # From the board: its filter is where the form starts, without errors yet.
            form = self.form(None, initial=self.request.GET.dict())
        meters = None
        if form.is_bound and form.is_valid():
            meters = form.selected_meters()
        kwargs.update(
            form=form,
            preview=meters,
            preview_sample=meters[:30] if meters else [],
            confirm_data=form.data.items() if meters else (),
        )
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        form = self.form(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        meters = form.selected_meters()
        try:
            batch = services.request_batch(
                acting_user=request.user,
                meters=meters,
                kind=form.kind(),
                params=form.params(),
                description=form.cleaned_data.get("description", ""),
            )
        except PermissionDeniedError as refused:
            raise PermissionDenied(refused.message) from refused
        except ServiceError as refused:
            form.apply_service_error(refused)
            return self.render_to_response(self.get_context_data(form=form))
        return HttpResponseRedirect(reverse("console:batch_detail", args=[batch.pk]))


class BatchDetailView(ConsoleMixin, TemplateView):
    template_name = "console/batch_detail.html"
    partial_template = "console/batch_progress.html"

    def get_batch(self) -> CommandBatch:
        if not hasattr(self, "batch"):
            self.batch = get_object_or_404(
                metering.batches_for(self.request.user), pk=self.kwargs["pk"]
            )
        return self.batch

    def get_title(self):
        batch = self.get_batch()
        return _("Batch command #%(number)s") % {"number": batch.pk}

    def get_template_names(self) -> list[str]:
        return [self.partial_template] if is_partial(self.request) else [self.template_name]

    def get_context_data(self, **kwargs):
        batch = self.get_batch()
        progress = metering.batch_progress(batch)
        commands = metering.batch_commands(batch)
        kwargs.update(
            batch=batch,
            progress=sorted(progress.items()),
            total=sum(progress.values()),
            commands=commands,
            polling=in_progress(commands),
            poll_seconds=BATCH_POLL_SECONDS,
        )
        return super().get_context_data(**kwargs)

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        patch_vary_headers(response, ["HX-Request"])
        return response
