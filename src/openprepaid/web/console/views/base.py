"""The building blocks every console page is made of.

- :class:`ConsoleMixin`: login required; ``capability`` needed to open the page at all.
- :class:`ObjectMixin`: the object of the URL, looked up among what the operator may see
  (anything else is a 404), and the capability checked in the object's site (403).
- :class:`ConsoleListView`: filters + table + pagination; an htmx request gets the table only.
- :class:`ServiceFormView`: a form whose valid input goes to a domain service.
- :class:`ConfirmView`: a POST-with-confirmation action (retire, archive, unlock).

Service errors are mapped in one place (:func:`service_error`): permission → 403, conflict →
a message, anything else → errors on the form.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView, ListView, TemplateView

from openprepaid.domain.errors import ConflictError, PermissionDeniedError, ServiceError
from openprepaid.domain.operators.permissions import can
from openprepaid.domain.operators.roles import Capability


def is_partial(request) -> bool:
    """An htmx request that swaps part of the page (not a history restore after a cache miss,
    which needs the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and not htmx.boosted


class ConsoleMixin(LoginRequiredMixin):
    capability: Capability | None = None
    title: Any = ""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.capability is not None and not can(request.user, self.capability):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def can(self, capability: Capability, site_id: int | None = None) -> bool:
        return can(self.request.user, capability, site_id)

    def get_title(self) -> Any:
        return self.title

    def get_context_data(self, **kwargs):
        kwargs.setdefault("title", self.get_title())
        return super().get_context_data(**kwargs)


class ObjectMixin(ABC):
    """``get_queryset()`` must return only what the operator may see."""

    pk_url_kwarg = "pk"
    #: lookup path from the object to its site id, for the capability check
    site_attr: str | None = "site_id"

    @abstractmethod
    def get_queryset(self) -> QuerySet: ...

    def get_object(self) -> Model:
        if not hasattr(self, "object"):
            self.object = get_object_or_404(self.get_queryset(), pk=self.kwargs[self.pk_url_kwarg])
        return self.object

    def object_site_id(self, obj) -> int | None:
        value = obj
        for part in (self.site_attr or "").split("."):
            value = getattr(value, part) if part else None
        return value

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and self.capability is not None:
            obj = self.get_object()
            if not can(request.user, self.capability, self.object_site_id(obj)):
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        kwargs.setdefault("object", self.get_object())
        return super().get_context_data(**kwargs)


def service_error(request, error: ServiceError, form=None) -> None:
    """The one mapping of a refused service call: raise 403, or show the reason."""
    if isinstance(error, PermissionDeniedError) and not error.field_errors:
        raise PermissionDenied(error.message)
    if isinstance(error, ConflictError) or form is None:
        messages.error(request, error.message)
    else:
        form.apply_service_error(error)


class ConsoleListView(ConsoleMixin, ListView, ABC):
    template_name = "console/list.html"
    table_template: str = ""
    filter_class = None
    paginate_by = 50
    testid = ""
    create_url_name: str | None = None
    create_capability: Capability | None = None
    create_label = _("New")
    #: the capability that shows the edit/retire actions of each row
    row_capability: Capability | None = None

    @abstractmethod
    def select(self, **filters) -> QuerySet: ...

    def get_queryset(self) -> QuerySet:
        self.filter_form = self.filter_class(self.request.GET, operator=self.request.user)
        return self.select(**self.filter_form.values())

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_template_names(self) -> list[str]:
        return [self.table_template] if is_partial(self.request) else [self.template_name]

    def get_context_data(self, **kwargs):
        show_create = self.create_url_name and (
            self.create_capability is None or self.can(self.create_capability)
        )
        kwargs.update(
            filter_form=self.filter_form,
            table_template=self.table_template,
            testid=self.testid,
            create_url_name=self.create_url_name if show_create else None,
            create_label=self.create_label,
            partial=is_partial(self.request),
            can_change=self.row_capability is not None and self.can(self.row_capability),
        )
        context = super().get_context_data(**kwargs)
        if context.get("page_obj") is not None:
            context["page_range"] = context["paginator"].get_elided_page_range(
                context["page_obj"].number, on_each_side=2, on_ends=1
            )
        return context

    def render_to_response(self, context, **kwargs) -> HttpResponse:
        response = super().render_to_response(context, **kwargs)
        patch_vary_headers(response, ["HX-Request"])
        return response


class ServiceFormView(ConsoleMixin, FormView, ABC):
    """``perform(form)`` calls the service and returns the object it made or changed."""

    template_name = "console/form.html"
    submit_label = _("Save")
    success_message = _("Saved.")
    form_testid = "object-form"
    back_url: str | None = None

    def get_form_kwargs(self) -> dict:
        kwargs = super().get_form_kwargs()
        kwargs["operator"] = self.request.user
        return kwargs

    @abstractmethod
    def perform(self, form) -> Model | None: ...

    @abstractmethod
    def get_success_url(self, result=None) -> str: ...

    def form_valid(self, form) -> HttpResponse:
        try:
            result = self.perform(form)
        except ServiceError as error:
            service_error(self.request, error, form)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message)
        return HttpResponseRedirect(self.get_success_url(result))

    def get_context_data(self, **kwargs):
        kwargs.update(
            submit_label=self.submit_label,
            form_testid=self.form_testid,
            back_url=self.get_back_url(),
        )
        return super().get_context_data(**kwargs)

    def get_back_url(self) -> str | None:
        return self.back_url


class ObjectFormView(ObjectMixin, ServiceFormView):
    """Edit an object: the form starts from the object's current values."""

    def get_form_kwargs(self) -> dict:
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = self.get_object()
        return kwargs


class ConfirmView(ObjectMixin, ConsoleMixin, TemplateView):
    """GET asks, POST does. ``perform(obj)`` calls the service."""

    template_name = "console/confirm.html"
    question: Any = ""
    explanation: Any = ""
    confirm_label: Any = _("Confirm")
    success_message: Any = _("Done.")
    danger = True

    @abstractmethod
    def perform(self, obj) -> None: ...

    @abstractmethod
    def get_success_url(self) -> str: ...

    def get_cancel_url(self) -> str:
        return self.get_success_url()

    def get_context_data(self, **kwargs):
        kwargs.update(
            question=self.question,
            explanation=self.explanation,
            confirm_label=self.confirm_label,
            danger=self.danger,
            cancel_url=self.get_cancel_url(),
        )
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs) -> HttpResponse:
        try:
            self.perform(self.get_object())
        except ServiceError as error:
            service_error(request, error)
            return HttpResponseRedirect(self.get_cancel_url())
        messages.success(request, self.success_message)
        return HttpResponseRedirect(self.get_success_url())
