"""The sales desk (售电): find an account, sell, print the receipt, and the cashier's cash-up of
a day. Opening, refunding, closing, swapping a meter and correcting a sale are in
:mod:`openprepaid.web.console.views.accounts_desk`, on the mixins and the form view here.

- :class:`SalesDeskView` — one search box (unit, tenant, meter address, mobile, account number);
  htmx swaps the results while typing, Enter on a single match goes straight to the account.
- :class:`AccountView` — the account at the desk: tenant, meters with their live state, balance
  and alarm level, the actions, the account's sales (a partial that polls itself while a sale is
  on its way to a meter) and the statement (ledger entries with the balance after).
- :class:`MoneyFormView` — a form of the desk on an account; :class:`SellView` sells with it:
  the valid input goes to the billing service, a refused one comes back as form errors. Each
  money form carries a hidden external id made when the form is rendered: submitting it twice
  returns the sale already recorded.
- :class:`SaleView` — after a sale: receipt number, amount, amount in words, print / back / next.
- :class:`ReceiptPdfView` — the three-part receipt as a PDF.
- :class:`CashUpView` — a cashier's day: counts and sums by kind and payment method, receipts.

Who: the sales desk is for roles that sell (cashier, administrator); the auditor reads it
(accounts, statements, receipts, cash-ups) without the actions; other roles do not see it.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView, TemplateView

from openprepaid.calc.money import ZERO
from openprepaid.domain.billing import selectors as billing
from openprepaid.domain.billing import selectors_desk as desk
from openprepaid.domain.billing import services
from openprepaid.domain.billing.models import Delivery, PaymentMethod, SaleKind
from openprepaid.domain.errors import ServiceError
from openprepaid.domain.operators.permissions import can
from openprepaid.domain.operators.roles import Capability
from openprepaid.domain.tenants.models import AccountStatus
from openprepaid.web.console import forms_sales as forms
from openprepaid.web.console.views.base import ConsoleMixin, is_partial, service_error
from openprepaid.web.receipts import ReceiptData, parse_layout, render_receipt

#: Who may open the sales desk pages: those who sell, and those who audit (read only).
READ_CAPABILITIES = (Capability.SELL, Capability.VIEW_SYSTEM_LOG)
STATEMENT_ROWS = 25
SALES_ROWS = 20
SEARCH_ROWS = 30
DELIVERY_POLL_SECONDS = 2
#: The amounts one click puts in the sell form (yuan).
QUICK_AMOUNTS = ("50.00", "100.00", "200.00", "500.00", "1000.00")
ALREADY_RECORDED = _(
    "This was already recorded: the same form was sent twice, and nothing new was recorded."
)


def may_read(operator, site_id: int | None = None) -> bool:
    return any(can(operator, capability, site_id) for capability in READ_CAPABILITIES)


def account_url(account) -> str:
    return reverse("console:sales_account", args=[account.pk])


def sale_url(sale) -> str:
    return reverse("console:sales_sale", args=[sale.pk])


class SalesMixin(ConsoleMixin):
    """The sales desk: readable by sellers and auditors (403 for everyone else)."""

    def may_open(self, operator) -> bool:
        return may_read(operator)

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not self.may_open(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class AccountMixin(SalesMixin):
    """The account of the URL, among those the operator may see (else 404)."""

    #: the capability the page needs in the account's site (``None``: reading is enough)
    account_capability: Capability | None = None

    def get_account(self):
        if not hasattr(self, "account"):
            self.account = get_object_or_404(
                desk.accounts_for(self.request.user), pk=self.kwargs["pk"]
            )
        return self.account

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and self.may_open(request.user):
            account = self.get_account()
            if self.account_capability is not None and not can(
                request.user, self.account_capability, account.site_id
            ):
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        kwargs.setdefault("account", self.get_account())
        kwargs.setdefault("account_url", account_url(self.get_account()))
        return super().get_context_data(**kwargs)


# --------------------------------------------------------------------------------- search


class SalesDeskView(SalesMixin, TemplateView):
    template_name = "console/sales/desk.html"
    results_template = "console/sales/_results.html"
    title = _("Sales desk")

    def get(self, request, *args, **kwargs):
        self.form = forms.SearchForm(request.GET or None)
        query = self.form.query() if self.form.is_bound else ""
        self.results = desk.search_results(request.user, query, limit=SEARCH_ROWS) if query else []
        if query and len(self.results) == 1 and not is_partial(request) and "go" in request.GET:
            # Enter on the search box with one match: straight to the account.
            return HttpResponseRedirect(account_url(self.results[0].account))
        response = super().get(request, *args, **kwargs)
        patch_vary_headers(response, ["HX-Request"])
        return response

    def get_template_names(self) -> list[str]:
        return [self.results_template] if is_partial(self.request) else [self.template_name]

    def get_context_data(self, **kwargs):
        kwargs.update(
            form=self.form,
            query=self.form.query() if self.form.is_bound else "",
            results=self.results,
            search_rows=SEARCH_ROWS,
        )
        return super().get_context_data(**kwargs)


# -------------------------------------------------------------------------------- account


def sales_context(account, *, limit: int = SALES_ROWS) -> dict:
    """What ``console/sales/_sales.html`` shows: the account's latest sales and whether a sale
    is still on its way to a meter (then the partial polls itself)."""
    sales = list(desk.account_sales(account)[:limit])
    return {
        "sales": sales,
        "sales_polling": any(s.delivery == Delivery.PENDING for s in sales),
        "poll_seconds": DELIVERY_POLL_SECONDS,
    }


class AccountView(AccountMixin, TemplateView):
    template_name = "console/sales/account.html"

    def get_title(self):
        return _("Account %(number)s") % {"number": self.get_account().number}

    def get_context_data(self, **kwargs):
        account = self.get_account()
        summary = billing.account_summary(account)
        can_sell = can(self.request.user, Capability.SELL, account.site_id)
        status = account.status
        paginator = Paginator(billing.statement(account).reverse(), STATEMENT_ROWS)
        can_open = can_sell and status == AccountStatus.REGISTERED
        if can_open:
            # One click opens a pre-registered account with the site's default amount, in cash
            # (the open form's fields, with an external id made now: a second click replays).
            kwargs["quick_open"] = {
                "amount": str(desk.default_opening_amount(account)),
                "payment_method": PaymentMethod.CASH.value,
                "external_id": forms.new_external_id(),
            }
        kwargs.update(
            summary=summary,
            can_sell=can_sell,
            can_open=can_open,
            can_trade=can_sell and status == AccountStatus.OPEN,
            can_swap=status == AccountStatus.OPEN
            and can(self.request.user, Capability.CONFIGURE, account.site_id),
            statement_page=paginator.get_page(self.request.GET.get("page")),
            **sales_context(account),
        )
        return super().get_context_data(**kwargs)


class AccountSalesView(AccountMixin, TemplateView):
    """The account's sales as a partial (polled while a delivery is pending)."""

    template_name = "console/sales/_sales.html"

    def get_context_data(self, **kwargs):
        account = self.get_account()
        kwargs.update(
            can_sell=can(self.request.user, Capability.SELL, account.site_id),
            **sales_context(account),
        )
        return super().get_context_data(**kwargs)


class StatementView(AccountMixin, TemplateView):
    """The statement of the account, one page (the account page swaps it in with htmx)."""

    template_name = "console/sales/statement.html"
    partial_template = "console/sales/_statement.html"

    def get_title(self):
        return _("Statement of account %(number)s") % {"number": self.get_account().number}

    def get_template_names(self) -> list[str]:
        return [self.partial_template] if is_partial(self.request) else [self.template_name]

    def get_context_data(self, **kwargs):
        paginator = Paginator(billing.statement(self.get_account()).reverse(), STATEMENT_ROWS)
        kwargs["statement_page"] = paginator.get_page(self.request.GET.get("page"))
        return super().get_context_data(**kwargs)

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        patch_vary_headers(response, ["HX-Request"])
        return response


# ------------------------------------------------------------------------------ the forms


class MoneyFormView(AccountMixin, FormView, ABC):
    """A form of the sales desk: ``perform(form)`` calls the service and returns the sale (or
    whatever it changed); a refused call comes back as errors on the form."""

    account_capability = Capability.SELL
    template_name = "console/sales/form.html"
    submit_label = _("Confirm")
    submit_style = "primary"
    icon = "check-lg"
    intro = ""
    form_testid = "sales-form"

    def get_meters(self):
        return desk.account_meters(self.get_account())

    def get_form_kwargs(self) -> dict:
        kwargs = super().get_form_kwargs()
        kwargs.update(
            operator=self.request.user, account=self.get_account(), meters=self.get_meters()
        )
        return kwargs

    @abstractmethod
    def perform(self, form): ...

    def form_valid(self, form) -> HttpResponse:
        # The same form sent again (double click, back and submit): the service returns what it
        # recorded the first time; say so instead of "sold".
        already = desk.recorded(form.cleaned_data["external_id"]) is not None
        try:
            result = self.perform(form)
        except ServiceError as error:
            service_error(self.request, error, form)
            return self.form_invalid(form)
        if already:
            messages.info(self.request, ALREADY_RECORDED)
        else:
            messages.success(self.request, self.success_message(result))
        return HttpResponseRedirect(self.get_success_url(result))

    def success_message(self, result) -> str:
        return _("Recorded.")

    def get_success_url(self, result=None) -> str:
        return sale_url(result)

    def get_context_data(self, **kwargs):
        kwargs.update(
            summary=billing.account_summary(self.get_account()),
            submit_label=self.submit_label,
            submit_style=self.submit_style,
            icon=self.icon,
            intro=self.intro,
            form_testid=self.form_testid,
        )
        return super().get_context_data(**kwargs)


class SellView(MoneyFormView):
    """Sell by amount, or by energy: the first submit of an energy sale shows the amount it
    comes to, the second (with ``confirm``) records it."""

    form_class = forms.SellForm
    title = _("Sell electricity")
    submit_label = _("Sell")
    icon = "cash-coin"
    form_testid = "sell-form"
    template_name = "console/sales/sell.html"

    def form_valid(self, form) -> HttpResponse:
        values = form.service_values()
        # An energy sale is recorded once the amount was shown for this very energy.
        quoted = self.request.POST.get("confirm") == str(values["energy"])
        if values["energy"] is not None and not quoted:
            try:
                quote = desk.quote_energy(
                    self.get_account(), energy=values["energy"], meter=values["meter"]
                )
            except ServiceError as error:
                service_error(self.request, error, form)
                return self.form_invalid(form)
            return self.render_to_response(self.get_context_data(form=form, quote=quote))
        return super().form_valid(form)

    def get_context_data(self, **kwargs):
        kwargs.setdefault("quick_amounts", QUICK_AMOUNTS)
        return super().get_context_data(**kwargs)

    def perform(self, form):
        return services.sell(
            acting_user=self.request.user, account=self.get_account(), **form.service_values()
        )

    def success_message(self, result) -> str:
        return _("Sold: receipt %(number)s.") % {"number": result.receipt_number}


# ----------------------------------------------------------------------------- a sale


class SaleMixin(SalesMixin):
    def get_sale(self):
        if not hasattr(self, "sale"):
            self.sale = get_object_or_404(desk.sales_for(self.request.user), pk=self.kwargs["pk"])
        return self.sale


class SaleView(SaleMixin, TemplateView):
    """A sale's page (where a sale lands): receipt number, amount and amount in words, its
    delivery, and print / back to the account / next customer."""

    template_name = "console/sales/sale.html"
    partial_template = "console/sales/_delivery.html"

    def get_template_names(self) -> list[str]:
        return [self.partial_template] if is_partial(self.request) else [self.template_name]

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        patch_vary_headers(response, ["HX-Request"])
        return response

    def get_title(self):
        return _("Receipt %(number)s") % {"number": self.get_sale().receipt_number}

    def get_context_data(self, **kwargs):
        sale = self.get_sale()
        can_sell = can(self.request.user, Capability.SELL, sale.site_id)
        kwargs.update(
            sale=sale,
            receipt=billing.receipt_data(sale),
            account=sale.account,
            account_url=account_url(sale.account),
            can_correct=can_sell and desk.may_correct(sale),
            poll_seconds=DELIVERY_POLL_SECONDS,
        )
        return super().get_context_data(**kwargs)


def receipt_from(data: dict) -> ReceiptData:
    """The receipt renderer's record from :func:`billing.selectors.receipt_data`."""
    return ReceiptData(
        site_name=data["site_name"],
        receipt_number=data["receipt_number"],
        created_at=data["time"],
        kind=data["kind_display"],
        tenant_name=data["tenant_name"],
        tenant_code=data["tenant_code"],
        unit_code=data["unit"],
        account_number=data["account_number"],
        meter_address=data["meter_address"],
        amount=data["amount"],
        amount_in_words=data["amount_in_words"],
        payment_method=data["payment_method_display"],
        energy=data["energy"],
        unit_price=data["unit_price"],
        balance_after=data["balance_after"],
        purchase_count=data["purchase_count"],
        cashier=data["cashier"],
        note=data["note"],
        corrects_receipt=data["corrects"] or None,
        printed_at=timezone.localtime(),
    )


class ReceiptPdfView(SaleMixin, TemplateView):
    """The sale's three-part receipt (存根 / 客户 / 财务) as a PDF, shown inline."""

    def get(self, request, *args, **kwargs) -> HttpResponse:
        sale = self.get_sale()
        layout = parse_layout(desk.receipt_layout(sale.site))
        pdf = render_receipt(
            receipt_from(billing.receipt_data(sale)), layout, language=get_language()
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="receipt-{sale.receipt_number}.pdf"'
        response["Cache-Control"] = "private, no-store"
        return response


# ----------------------------------------------------------------------------- cash-up


def cash_up_tables(data: dict) -> dict:
    """:func:`billing.selectors.cash_up` as the page's tables: by payment method and by kind
    (count and sum each), the net, the cash, the receipts."""
    methods = dict(PaymentMethod.choices)
    kinds = dict(SaleKind.choices)
    by_method: dict[str, dict] = {}
    by_kind: dict[str, dict] = {}
    for row in data["rows"]:
        for table, key, names in (
            (by_method, row["payment_method"], methods),
            (by_kind, row["kind"], kinds),
        ):
            line = table.setdefault(
                key, {"key": key, "label": names.get(key, key), "count": 0, "amount": ZERO}
            )
            line["count"] += row["count"]
            line["amount"] += row["total"]

    def ordered(table: dict, names: dict) -> list[dict]:
        order = list(names)
        return sorted(
            table.values(),
            key=lambda line: (
                line["key"] not in names,
                order.index(line["key"]) if line["key"] in names else 0,
                line["key"],
            ),
        )

    return {
        "by_method": ordered(by_method, methods),
        "by_kind": ordered(by_kind, kinds),
        "net": data["net"],
        "count": data["count"],
        "cash": data["by_method"].get(PaymentMethod.CASH, ZERO),
        "sales": data["receipts"],
    }


class CashUpView(SalesMixin, TemplateView):
    """A cashier's day. A cashier sees their own; who may see everyone's (administrator,
    auditor) chooses the cashier."""

    template_name = "console/sales/cashup.html"
    title = _("Cash-up")

    def chooses_cashier(self) -> bool:
        return self.can(Capability.VIEW_SYSTEM_LOG)

    def get_context_data(self, **kwargs):
        user = self.request.user
        today = timezone.localdate()
        cashiers = list(desk.cashiers_for(user)) if self.chooses_cashier() else None
        form = forms.CashUpForm(self.request.GET or None, cashiers=cashiers)
        day = today
        cashier = user
        if form.is_bound and form.is_valid():
            day = form.cleaned_data.get("day") or today
            chosen = form.cleaned_data.get("cashier")
            if cashiers is not None and chosen is not None:
                cashier = next((c for c in cashiers if c.pk == chosen), user)
        if not form.is_bound:
            form = forms.CashUpForm(initial={"day": day, "cashier": cashier.pk}, cashiers=cashiers)
        kwargs.update(
            form=form,
            day=day,
            cashier=cashier,
            cash_up=cash_up_tables(billing.cash_up(cashier, day)),
            previous_day=day - dt.timedelta(days=1),
            next_day=day + dt.timedelta(days=1) if day < today else None,
        )
        return super().get_context_data(**kwargs)
