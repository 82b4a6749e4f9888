"""Tariff pages of the console: each kind made through the form (the stored definition is what
the form built), refusals under the field they name, versions kept as history, assignments at
each scope, and who may change what."""

from __future__ import annotations

import datetime as dt
import html as html_module
import re
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from openprepaid.domain.billing.models import Tariff, TariffAssignment, TariffVersion
from openprepaid.domain.billing.services import tariffs as tariff_services

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = [
    ("workday", "00:00", "valley"),
    ("workday", "08:00", "flat"),
    ("workday", "10:00", "peak"),
    ("workday", "18:00", "sharp"),
    ("workday", "21:00", "flat"),
    ("workday", "23:00", "valley"),
    ("holiday", "00:00", "valley"),
    ("holiday", "08:00", "flat"),
]


def rows(prefix: str, items: list[dict], initial: int = 0) -> dict:
    data = {f"{prefix}-TOTAL_FORMS": str(len(items)), f"{prefix}-INITIAL_FORMS": str(initial)}
    for index, item in enumerate(items):
        data.update({f"{prefix}-{index}-{key}": value for key, value in item.items()})
    return data


def day_rows(entries=DAY) -> dict:
    return rows("day", [{"table": t, "start": s, "period": p} for t, s, p in entries])


def tariff_post(site, kind: str, **fields) -> dict:
    data = {
        "site": site.pk,
        "code": fields.pop("code", "T1"),
        "name": fields.pop("name", "商铺电价"),
        "kind": kind,
        "effective_from": fields.pop("effective_from", "2026-12-01T00:00"),
        "cycle": "month",
    }
    data.update(rows("day", []))
    data.update(rows("season", []))
    data.update(rows("tier", []))
    data.update(fields)
    return data


TOU_PRICES = {
    "price_sharp": "1.3",
    "price_peak": "1.1",
    "price_flat": "0.75",
    "price_valley": "0.3500",
}


def create(client, data):
    return client.post(reverse("console:tariff_create"), data)


def only_version(code="T1") -> TariffVersion:
    return TariffVersion.objects.get(tariff__code=code)


# ---------------------------------------------------------------------------- each kind


def test_flat_tariff_with_service_charge(data, admin_client, log):
    counter = log()
    response = create(
        admin_client,
        tariff_post(data.site, "flat", price="0.8", monthly_service_charge="20"),
    )
    assert response.status_code == 302
    tariff = Tariff.objects.get(code="T1")
    assert response["Location"] == reverse("console:tariff_detail", args=[tariff.pk])
    assert (tariff.site, tariff.kind, tariff.name) == (data.site, "flat", "商铺电价")
    version = only_version()
    assert version.definition == {"price": "0.8000", "monthly_service_charge": "20.00"}
    assert version.effective_from == dt.datetime(2026, 12, 1, tzinfo=SHANGHAI)
    assert [row.action for row in counter.rows()] == ["tariff.create"]


def test_time_of_use_tariff_with_two_tables_holidays_and_seasons(data, admin_client):
    post = tariff_post(
        data.site,
        "tou",
        **TOU_PRICES,
        holidays="2026-10-01 2026-10-02\n2027-01-01",
        weekends_are_holidays="on",
    )
    post.update(day_rows())
    post.update(
        rows(
            "season",
            [
                {"start": "01-01", "workday": "workday", "holiday": "holiday"},
                {"start": "07-01", "workday": "workday", "holiday": "workday"},
            ],
        )
    )
    response = create(admin_client, post)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert only_version().definition == {
        "prices": {"sharp": "1.3000", "peak": "1.1000", "flat": "0.7500", "valley": "0.3500"},
        "day_tables": {
            "workday": [
                ["00:00", "valley"],
                ["08:00", "flat"],
                ["10:00", "peak"],
                ["18:00", "sharp"],
                ["21:00", "flat"],
                ["23:00", "valley"],
            ],
            "holiday": [["00:00", "valley"], ["08:00", "flat"]],
        },
        "seasons": [
            {"from": "01-01", "workday": "workday", "holiday": "holiday"},
            {"from": "07-01", "workday": "workday", "holiday": "workday"},
        ],
        "holidays": ["2026-10-01", "2026-10-02", "2027-01-01"],
        "weekends_are_holidays": True,
    }


def test_time_of_use_rows_in_any_order_and_no_seasons(data, admin_client):
    """Rows are sorted by start within their table; without seasons the first table applies
    all year and the second on holidays."""
    post = tariff_post(data.site, "tou", **TOU_PRICES)
    post.update(day_rows([DAY[2], DAY[0], DAY[7], DAY[1], DAY[6]]))
    assert create(admin_client, post).status_code == 302
    assert only_version().definition == {
        "prices": {"sharp": "1.3000", "peak": "1.1000", "flat": "0.7500", "valley": "0.3500"},
        "day_tables": {
            "workday": [["00:00", "valley"], ["08:00", "flat"], ["10:00", "peak"]],
            "holiday": [["00:00", "valley"], ["08:00", "flat"]],
        },
        "seasons": [{"from": "01-01", "workday": "workday", "holiday": "holiday"}],
    }


def test_tiered_tariff_yearly(data, admin_client):
    post = tariff_post(data.site, "tiered", cycle="year")
    post.update(
        rows(
            "tier",
            [
                {"up_to": "2160", "price": "0.5283"},
                {"up_to": "4200", "price": "0.5783"},
                {"up_to": "", "price": "0.8283"},
                {"up_to": "", "price": ""},  # an empty row is no row
            ],
        )
    )
    assert create(admin_client, post).status_code == 302
    assert only_version().definition == {
        "cycle": "year",
        "tiers": [
            {"up_to": "2160.00", "price": "0.5283"},
            {"up_to": "4200.00", "price": "0.5783"},
            {"up_to": None, "price": "0.8283"},
        ],
    }


def test_tiered_time_of_use_tariff(data, admin_client):
    post = tariff_post(data.site, "tiered_tou", **TOU_PRICES, monthly_service_charge="5.5")
    post.update(day_rows(DAY[:6]))
    post.update(rows("tier", [{"up_to": "200", "price": "0"}, {"up_to": "", "price": "0.1"}]))
    assert create(admin_client, post).status_code == 302
    assert only_version().definition == {
        "prices": {"sharp": "1.3000", "peak": "1.1000", "flat": "0.7500", "valley": "0.3500"},
        "day_tables": {
            "workday": [
                ["00:00", "valley"],
                ["08:00", "flat"],
                ["10:00", "peak"],
                ["18:00", "sharp"],
                ["21:00", "flat"],
                ["23:00", "valley"],
            ]
        },
        # stored in the normal form: the holiday table is named even when it is the same
        "seasons": [{"from": "01-01", "workday": "workday", "holiday": "workday"}],
        "cycle": "month",
        "tiers": [{"up_to": "200.00", "adder": "0.0000"}, {"up_to": None, "adder": "0.1000"}],
        "monthly_service_charge": "5.50",
    }


# ------------------------------------------------------------------------------ refusals


def field_error(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{re.escape(testid)}">([^<]*)<', html)
    assert match, f"no {testid} in the page"
    return html_module.unescape(match.group(1))


def test_flat_without_price_names_the_price(data, admin_client, log):
    counter = log()
    response = create(admin_client, tariff_post(data.site, "flat"))
    html = response.content.decode()
    assert response.status_code == 200
    assert field_error(html, "field-error-price")
    assert not Tariff.objects.exists()
    assert counter.rows() == []


def test_tier_limits_must_rise_error_on_the_row(data, admin_client):
    post = tariff_post(data.site, "tiered")
    post.update(
        rows(
            "tier",
            [
                {"up_to": "300", "price": "0.5"},
                {"up_to": "200", "price": "0.6"},
                {"up_to": "", "price": "0.9"},
            ],
        )
    )
    html = create(admin_client, post).content.decode()
    assert "300.00" in field_error(html, "row-error-tier-1-up_to")
    assert 'data-testid="form-errors"' in html
    assert not TariffVersion.objects.exists()


def test_open_ended_tier_must_be_last(data, admin_client):
    post = tariff_post(data.site, "tiered")
    post.update(rows("tier", [{"up_to": "", "price": "0.5"}, {"up_to": "", "price": "0.6"}]))
    html = create(admin_client, post).content.decode()
    assert field_error(html, "row-error-tier-0-up_to")
    assert not Tariff.objects.exists()


def test_day_table_must_start_at_midnight(data, admin_client):
    post = tariff_post(data.site, "tou", **TOU_PRICES)
    post.update(day_rows([("workday", "06:00", "flat"), ("workday", "22:00", "valley")]))
    html = create(admin_client, post).content.decode()
    assert "00:00" in field_error(html, "row-error-day-0-start")
    assert not Tariff.objects.exists()


def test_half_filled_row_and_missing_period_price(data, admin_client):
    post = tariff_post(data.site, "tou", **{**TOU_PRICES, "price_peak": ""})
    post.update(day_rows([("workday", "00:00", "valley"), ("workday", "", "peak")]))
    html = create(admin_client, post).content.decode()
    assert field_error(html, "row-error-day-1-start")
    # The rows are corrected first; the price is named once the rows are right.
    post.update(day_rows([("workday", "00:00", "valley"), ("workday", "08:00", "peak")]))
    html = create(admin_client, post).content.decode()
    assert field_error(html, "field-error-price_peak")
    assert not Tariff.objects.exists()


def test_season_naming_an_unknown_table(data, admin_client):
    post = tariff_post(data.site, "tou", **TOU_PRICES)
    post.update(day_rows(DAY[:2]))
    post.update(rows("season", [{"start": "01-01", "workday": "summer", "holiday": ""}]))
    html = create(admin_client, post).content.decode()
    assert "summer" in field_error(html, "row-error-season-0-workday")


def test_bad_holiday_date(data, admin_client):
    post = tariff_post(data.site, "tou", **TOU_PRICES, holidays="2026-13-01")
    post.update(day_rows(DAY[:2]))
    html = create(admin_client, post).content.decode()
    assert "2026-13-01" in field_error(html, "field-error-holidays")


def test_duplicate_code_is_refused(data, admin_client):
    assert create(admin_client, tariff_post(data.site, "flat", price="0.8")).status_code == 302
    response = create(admin_client, tariff_post(data.site, "flat", price="0.9"))
    assert response.status_code == 200
    assert 'class="alert alert-danger' in response.content.decode()
    assert TariffVersion.objects.count() == 1


# ------------------------------------------------------------------------------ versions


@pytest.fixture
def flat_tariff(data):
    return tariff_services.create_tariff(
        acting_user=None,
        site=data.site,
        code="F1",
        name="Flat shops",
        kind="flat",
        definition={"price": "0.8000"},
        effective_from=dt.datetime(2026, 1, 1, tzinfo=SHANGHAI),
    )


def test_new_version_is_prefilled_and_keeps_history(flat_tariff, admin_client, log):
    url = reverse("console:tariff_version", args=[flat_tariff.pk])
    page = admin_client.get(url).content.decode()
    assert 'value="0.8000"' in page
    assert 'name="kind"' not in page  # the kind of a tariff never changes
    counter = log()
    response = admin_client.post(
        url,
        {
            "effective_from": "2027-01-01T00:00",
            "price": "0.85",
            **rows("day", []),
            **rows("season", []),
            **rows("tier", []),
        },
    )
    assert response.status_code == 302
    versions = list(flat_tariff.versions.order_by("effective_from"))
    assert [v.definition for v in versions] == [{"price": "0.8000"}, {"price": "0.8500"}]
    assert versions[1].effective_from == dt.datetime(2027, 1, 1, tzinfo=SHANGHAI)
    assert [row.action for row in counter.rows()] == ["tariff.add_version"]
    detail = admin_client.get(reverse("console:tariff_detail", args=[flat_tariff.pk]))
    html = detail.content.decode()
    assert html.count('data-testid="version"') == 2
    assert "2027-01-01 00:00" in html
    assert "2026-01-01 00:00" in html


def test_new_version_must_start_after_the_latest(flat_tariff, admin_client):
    response = admin_client.post(
        reverse("console:tariff_version", args=[flat_tariff.pk]),
        {
            "effective_from": "2025-06-01T00:00",
            "price": "0.9",
            **rows("day", []),
            **rows("season", []),
            **rows("tier", []),
        },
    )
    assert response.status_code == 200
    assert flat_tariff.versions.count() == 1


def test_detail_shows_price_table_and_day_bar(data, admin_client):
    tariff = tariff_services.create_tariff(
        acting_user=None,
        site=data.site,
        code="TOU",
        name="TOU",
        kind="tiered_tou",
        definition={
            "prices": {"sharp": "1.3", "peak": "1.1", "flat": "0.75", "valley": "0.35"},
            "day_tables": {"d": [["00:00", "valley"], ["06:00", "flat"], ["18:00", "peak"]]},
            "seasons": [{"from": "01-01", "workday": "d"}],
            "cycle": "month",
            "tiers": [{"up_to": "200", "adder": "0"}, {"up_to": None, "adder": "0.1"}],
        },
    )
    html = admin_client.get(reverse("console:tariff_detail", args=[tariff.pk])).content.decode()
    assert 'data-testid="price-table"' in html
    assert "1.4000" in html  # peak 1.1000 + tier adder 0.1000, as Decimals
    assert html.count('class="op-daybar-seg"') == 3
    assert 'style="left: 25.000%; width: 50.000%; background: #2b8a3e"' in html


# --------------------------------------------------------------------------- assignments


def assign(client, tariff, **data):
    post = {f"assign-{key}": value for key, value in data.items()}
    return client.post(reverse("console:tariff_assign", args=[tariff.pk]), post)


def test_assign_to_site_group_and_meter(flat_tariff, data, admin_client):
    group = tariff_services.create_meter_group(
        acting_user=None, site=data.site, name="Restaurants", meters=[data.spare_meter]
    )
    assert (
        assign(
            admin_client, flat_tariff, scope="site", effective_from="2026-02-01T00:00"
        ).status_code
        == 302
    )
    assert (
        assign(
            admin_client,
            flat_tariff,
            scope="group",
            group=group.pk,
            effective_from="2026-03-01T00:00",
        ).status_code
        == 302
    )
    assert (
        assign(
            admin_client,
            flat_tariff,
            scope="meter",
            meter=data.meter.pk,
            effective_from="2026-04-01T08:30",
        ).status_code
        == 302
    )
    found = list(
        TariffAssignment.objects.order_by("effective_from").values_list(
            "scope", "group_id", "meter_id", "effective_from"
        )
    )
    assert found == [
        ("site", None, None, dt.datetime(2026, 2, 1, tzinfo=SHANGHAI)),
        ("group", group.pk, None, dt.datetime(2026, 3, 1, tzinfo=SHANGHAI)),
        ("meter", None, data.meter.pk, dt.datetime(2026, 4, 1, 8, 30, tzinfo=SHANGHAI)),
    ]
    html = admin_client.get(reverse("console:tariff_detail", args=[flat_tariff.pk])).content
    assert html.decode().count('data-testid="assignment"') == 3


def test_group_scope_needs_a_group(flat_tariff, admin_client):
    response = assign(admin_client, flat_tariff, scope="group", effective_from="2026-02-01T00:00")
    assert response.status_code == 200
    assert 'data-testid="field-error-group"' in response.content.decode()
    assert not TariffAssignment.objects.exists()


def test_meter_page_shows_the_effective_tariff(flat_tariff, data, admin_client):
    tariff_services.assign_tariff(
        acting_user=None,
        tariff=flat_tariff,
        scope="site",
        effective_from=dt.datetime(2026, 1, 1, tzinfo=SHANGHAI),
    )
    html = admin_client.get(reverse("console:meter_detail", args=[data.meter.pk])).content
    html = html.decode()
    assert 'data-testid="meter-tariff-link"' in html
    assert "F1 Flat shops" in html
    assert "0.8000" in html
    spare = admin_client.get(reverse("console:meter_detail", args=[data.spare_meter.pk]))
    assert "F1 Flat shops" in spare.content.decode()


def test_meter_without_tariff(data, admin_client):
    html = admin_client.get(reverse("console:meter_detail", args=[data.meter.pk])).content
    assert 'data-testid="meter-no-tariff"' in html.decode()


# ----------------------------------------------------------------------------- who may


def test_cashier_reads_but_cannot_change_tariffs(flat_tariff, data, cashier, client_for):
    client = client_for(cashier)
    assert client.get(reverse("console:tariff_list")).status_code == 200
    detail = client.get(reverse("console:tariff_detail", args=[flat_tariff.pk]))
    assert detail.status_code == 200
    assert 'data-testid="assign-form"' not in detail.content.decode()
    assert 'data-testid="new-version"' not in detail.content.decode()
    assert client.get(reverse("console:tariff_create")).status_code == 403
    assert create(client, tariff_post(data.site, "flat", price="1")).status_code == 403
    version_url = reverse("console:tariff_version", args=[flat_tariff.pk])
    assert client.post(version_url, {"price": "1"}).status_code == 403
    assert (
        assign(client, flat_tariff, scope="site", effective_from="2026-02-01T00:00").status_code
        == 403
    )
    assert Tariff.objects.count() == 1
    assert not TariffAssignment.objects.exists()


def test_operations_may_create(data, operations, client_for):
    client = client_for(operations)
    response = create(client, tariff_post(data.site, "flat", code="OPS", price="0.6"))
    assert response.status_code == 302
    assert only_version("OPS").definition == {"price": "0.6000"}


def test_other_sites_tariffs_are_not_found(flat_tariff, other, make_operator, client_for):
    outsider = make_operator("operations", sites=[other.site])
    client = client_for(outsider)
    assert client.get(reverse("console:tariff_detail", args=[flat_tariff.pk])).status_code == 404
    listing = client.get(reverse("console:tariff_list")).content.decode()
    assert f'data-id="{flat_tariff.pk}"' not in listing


def test_list_filters_by_site_and_kind(flat_tariff, other, admin_client):
    tariff_services.create_tariff(
        acting_user=None,
        site=other.site,
        code="B1",
        name="Tower",
        kind="tiered",
        definition={"cycle": "month", "tiers": [{"up_to": None, "price": "0.7"}]},
    )
    url = reverse("console:tariff_list")
    ids = re.findall(
        r'<tr data-testid="row" data-id="(\d+)"', admin_client.get(url).content.decode()
    )
    assert len(ids) == 2
    by_kind = admin_client.get(url + "?kind=tiered").content.decode()
    assert re.findall(r'<tr data-testid="row" data-id="(\d+)"', by_kind) == [
        str(Tariff.objects.get(code="B1").pk)
    ]
    by_site = admin_client.get(url + f"?site={flat_tariff.site_id}").content.decode()
    assert re.findall(r'<tr data-testid="row" data-id="(\d+)"', by_site) == [str(flat_tariff.pk)]


def test_new_tariff_form_renders_every_section(data, admin_client):
    html = admin_client.get(reverse("console:tariff_create")).content.decode()
    for testid in ("section-tou", "section-tiers", "rows-day", "rows-season", "rows-tier"):
        assert f'data-testid="{testid}"' in html
    assert 'data-show-if="kind=flat"' in html
    assert 'value="workday"' in html  # an example day table to start from


def test_meter_page_lists_a_tariff_that_starts_later(flat_tariff, data, admin_client):
    tariff_services.assign_tariff(
        acting_user=None,
        tariff=flat_tariff,
        scope="meter",
        meter=data.meter,
        effective_from=dt.datetime(2100, 1, 1, tzinfo=SHANGHAI),
    )
    html = admin_client.get(reverse("console:meter_detail", args=[data.meter.pk])).content
    html = html.decode()
    assert 'data-testid="meter-no-tariff"' in html
    assert 'data-testid="meter-tariff-upcoming"' in html
    assert "2100-01-01 00:00" in html


def test_tariff_pages_in_english(flat_tariff, admin_client, settings):
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = admin_client.get(reverse("console:tariff_detail", args=[flat_tariff.pk]))
    assert response["Content-Language"] == "en"
    html = response.content.decode()
    assert "Versions" in html
    assert "Flat price" in html  # the kind, from the model's choices
