"""Helpers for the sales desk tests: submit a form as the browser would (every field the page
rendered, with its hidden external id), open an account through the service, a flat tariff."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from openprepaid.domain.billing import services
from openprepaid.domain.billing.services import tariffs

FORM_ID = re.compile(r'name="external_id" value="([0-9a-f]{32})"')


def external_id_of(html: str) -> str:
    match = FORM_ID.search(html)
    assert match, "the form carries no external id"
    return match.group(1)


class _FormFields(HTMLParser):
    """The values a browser would send for each form with a method of POST."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self.fields: dict[str, str] = {}
        self.in_form = False
        self.select: str | None = None
        self.select_first: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self.in_form = True
            self.fields = {}
            self.forms.append(self.fields)
        if not self.in_form:
            return
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = (a.get("type") or "text").lower()
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.fields[name] = a.get("value", "on")
            elif kind not in ("submit", "button"):
                self.fields[name] = a.get("value") or ""
        elif tag == "select" and name:
            self.select, self.select_first = name, None
        elif tag == "option" and self.select:
            value = a.get("value", "")
            if self.select_first is None:
                self.select_first = value
                self.fields.setdefault(self.select, value)
            if "selected" in a:
                self.fields[self.select] = value
        elif tag == "textarea" and name:
            self.textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False
        if tag == "select":
            self.select = None
        if tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.fields[self.textarea] += data


def form_fields(html: str) -> dict[str, str]:
    """The fields of the page's money form (the one with an external id; else the last form:
    the first is the log-out button of the top bar)."""
    parser = _FormFields()
    parser.feed(html)
    forms = parser.forms
    return next((f for f in forms if "external_id" in f), forms[-1] if forms else {})


def post_form(client, url: str, html: str, **values):
    """POST the page's form to ``url`` as rendered, with ``values`` changed."""
    data = form_fields(html) | {k: v for k, v in values.items() if v is not None}
    return client.post(url, data)


def open_account(account, user, *, amount: str = "100.00", meter=None):
    """Open ``account`` with its first purchase, as the desk does; returns the opening sale."""
    return services.open_account(
        acting_user=user,
        account=account,
        amount=amount,
        payment_method="cash",
        external_id=uuid.uuid4().hex,
        meter=meter,
    )


@pytest.fixture
def flat_tariff(data):
    """0.8500 yuan/kWh for the whole site, since yesterday."""
    tariff = tariffs.create_tariff(
        acting_user=None,
        site=data.site,
        code="FLAT",
        name="一般工商业",
        kind="flat",
        definition={"price": "0.8500"},
        effective_from=timezone.now() - dt.timedelta(days=1),
    )
    tariffs.assign_tariff(
        acting_user=None,
        tariff=tariff,
        scope="site",
        effective_from=timezone.now() - dt.timedelta(days=1),
    )
    return tariff
