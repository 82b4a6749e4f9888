"""The sales desk's changes to an account beyond a sale: open it (开户), refund (退电), close it
with its settlement (销户), swap a meter (换表) and correct a sale (冲正).

- :class:`OpenView`, :class:`RefundView`, :class:`CloseView`, :class:`SwapView` — one form
  each on the account (:class:`~openprepaid.web.console.views.sales.MoneyFormView`): the valid
  input goes to the billing service, a refused one comes back as form errors, and a form sent
  twice returns what was recorded the first time.
- :class:`CorrectView` — a sale's reversal, from the sale's page.

Who: as the rest of the desk (:mod:`openprepaid.web.console.views.sales`); a swap is also open
to operations (it needs CONFIGURE), a correction needs SELL in the sale's site.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView

from openprepaid.domain.billing import selectors as billing
from openprepaid.domain.billing import selectors_desk as desk
from openprepaid.domain.billing import services
from openprepaid.domain.errors import ServiceError
from openprepaid.domain.operators.permissions import can
from openprepaid.domain.operators.roles import Capability
from openprepaid.web.console import forms_sales as forms
from openprepaid.web.console.views.base import service_error
from openprepaid.web.console.views.sales import (
    ALREADY_RECORDED,
    MoneyFormView,
    SaleMixin,
    account_url,
    may_read,
    sale_url,
)


class OpenView(MoneyFormView):
    """Open a registered account with its first purchase (the amount starts at the site's
    default opening amount; the account page's one-click button posts here with that amount in
    cash)."""

    form_class = forms.OpenForm
    title = _("Open the account")
    submit_label = _("Open and sell")
    icon = "door-open"
    form_testid = "open-form"
    intro = _("The first purchase opens the account; local meters are opened on the meter.")

    def get_initial(self) -> dict:
        initial = super().get_initial()
        initial["amount"] = desk.default_opening_amount(self.get_account())
        return initial

    def perform(self, form):
        return services.open_account(
            acting_user=self.request.user, account=self.get_account(), **form.service_values()
        )

    def success_message(self, result) -> str:
        return _("The account is open: receipt %(number)s.") % {"number": result.receipt_number}


class RefundView(MoneyFormView):
    form_class = forms.RefundForm
    title = _("Refund")
    submit_label = _("Refund")
    submit_style = "warning"
    icon = "arrow-return-left"
    form_testid = "refund-form"
    intro = _("Money paid back to the tenant is taken from the account's balance.")

    def perform(self, form):
        return services.refund(
            acting_user=self.request.user, account=self.get_account(), **form.service_values()
        )

    def success_message(self, result) -> str:
        return _("Refunded: receipt %(number)s.") % {"number": result.receipt_number}


class CloseView(MoneyFormView):
    """Close the account (销户): the settlement shown first, then confirmed with a reason."""

    form_class = forms.CloseForm
    title = _("Close the account")
    submit_label = _("Close the account")
    submit_style = "danger"
    icon = "door-closed"
    form_testid = "close-form"
    template_name = "console/sales/close.html"

    def get_form_kwargs(self) -> dict:
        kwargs = super().get_form_kwargs()
        kwargs["meters"] = ()
        return kwargs

    def get_context_data(self, **kwargs):
        kwargs["settlement"] = desk.settlement(self.get_account())
        return super().get_context_data(**kwargs)

    def perform(self, form):
        return services.close_account(
            acting_user=self.request.user, account=self.get_account(), **form.service_values()
        )

    def success_message(self, result) -> str:
        return _("The account is closed: settlement receipt %(number)s.") % {
            "number": result.receipt_number
        }


class SwapView(MoneyFormView):
    """Swap a meter (换表): the old meter's final reading and balance carry into the new one."""

    form_class = forms.SwapForm
    title = _("Swap a meter")
    submit_label = _("Swap the meter")
    submit_style = "warning"
    icon = "arrow-left-right"
    form_testid = "swap-form"
    account_capability = Capability.CONFIGURE
    intro = _(
        "The old meter leaves the account with its final reading; its balance carries into the "
        "new meter, which must belong to no account."
    )

    def may_open(self, operator) -> bool:
        # Operations swap meters too (the service asks for CONFIGURE), without the desk's pages.
        return may_read(operator) or can(operator, Capability.CONFIGURE)

    def get_form_kwargs(self) -> dict:
        kwargs = super().get_form_kwargs()
        kwargs["new_meters"] = desk.swap_candidates(self.get_account())
        return kwargs

    def perform(self, form):
        return services.swap_meter(acting_user=self.request.user, **form.service_values())

    def success_message(self, result) -> str:
        return _("The meter was swapped.")

    def get_success_url(self, result=None) -> str:
        return account_url(self.get_account())


class CorrectView(SaleMixin, FormView):
    """Correct (冲正) a sale: a linked reversing entry, after a confirmation and a reason."""

    form_class = forms.CorrectForm
    template_name = "console/sales/correct.html"
    title = _("Correct a sale")

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if (
            user.is_authenticated
            and may_read(user)
            and not can(user, Capability.SELL, self.get_sale().site_id)
        ):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict:
        kwargs = super().get_form_kwargs()
        kwargs.update(operator=self.request.user, account=self.get_sale().account)
        return kwargs

    def get_context_data(self, **kwargs):
        sale = self.get_sale()
        kwargs.update(
            sale=sale,
            account=sale.account,
            account_url=account_url(sale.account),
            summary=billing.account_summary(sale.account),
        )
        return super().get_context_data(**kwargs)

    def form_valid(self, form) -> HttpResponse:
        already = desk.recorded(form.cleaned_data["external_id"]) is not None
        try:
            correction = services.correct(
                acting_user=self.request.user, sale=self.get_sale(), **form.service_values()
            )
        except ServiceError as error:
            service_error(self.request, error, form)
            return self.form_invalid(form)
        if already:
            messages.info(self.request, ALREADY_RECORDED)
        else:
            messages.success(
                self.request,
                _("Sale %(sale)s was reversed: correction receipt %(number)s.")
                % {"sale": self.get_sale().receipt_number, "number": correction.receipt_number},
            )
        return HttpResponseRedirect(sale_url(correction))
