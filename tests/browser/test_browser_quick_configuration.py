"""An operator logs in, downloads the template from the console, fills it in, uploads it (dry run,
then apply) and finds the imported meters on the meters page: once in Chinese, once in English."""

from __future__ import annotations

import openpyxl
import pytest
from django.utils import translation
from tests.conftest import PASSWORD

from openprepaid.domain.audit.models import SystemLog
from openprepaid.domain.configio.spec import TABLES
from openprepaid.domain.sites.models import Meter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = {
    "gateways": [
        {"site": "MALL", "name": "A-1F-GW1", "transport": "transparent_tcp",
         "host": "127.0.0.1", "port": "10001", "baud_rate": "2400", "parity": "E"},
        {"site": "MALL", "name": "A-2F-GW1", "transport": "modbus_tcp",
         "host": "127.0.0.1", "port": "10002", "baud_rate": "9600", "parity": "N"},
    ],
    "units": [
        {"site": "MALL", "building": "A座", "floor": "1F", "code": "A-101", "name": "川味小馆",
         "kind": "restaurant", "area": "86.50"},
        {"site": "MALL", "building": "A座", "floor": "2F", "code": "A-201", "name": "优品服饰",
         "kind": "shop", "area": "40"},
    ],
    "meters": [
        {"site": "MALL", "gateway": "A-1F-GW1", "address": "202601010001",
         "protocol": "dlt645_2007", "profile": "dlt645-prepaid-1p", "phases": "1",
         "ct_ratio": "1", "cost_control": "remote", "unit": "A-101"},
        {"site": "MALL", "gateway": "A-2F-GW1", "address": "17", "protocol": "modbus_rtu",
         "profile": "acrel-ddsy1352", "phases": "1", "ct_ratio": "1",
         "cost_control": "local", "unit": "A-201"},
    ],
    "tenants": [
        {"site": "MALL", "code": "T0001", "name": "成都川味餐饮有限公司", "kind": "company",
         "contact_name": "王伟", "mobile": "13800138000", "units": "A-101;A-201"},
    ],
}  # fmt: skip

# What the console must show in each language: a navigation label, the meters sheet's name
# and its address column in the downloaded template.
LANGUAGES = {
    "zh-hans": {"nav_meters": "电表", "sheet": "电表", "address": "表地址"},
    "en": {"nav_meters": "Meters", "sheet": "Meters", "address": "Meter address"},
}


def fill_template(path, language: str) -> None:
    """Write ROWS under the template's own header row, matching columns by their titles."""
    workbook = openpyxl.load_workbook(path)
    with translation.override(language):
        for kind, rows in ROWS.items():
            table = TABLES[kind]
            sheet = workbook[table.title()]
            headers = [str(c.value or "").rstrip("*").strip() for c in sheet[1]]
            column_of = {col.key: headers.index(col.title()) + 1 for col in table.columns}
            for offset, row in enumerate(rows, start=2):
                for key, value in row.items():
                    sheet.cell(row=offset, column=column_of[key], value=value)
    workbook.save(path)


def log_in(page) -> None:
    page.goto("/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_selector("[data-testid=sidebar]")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_import_the_template_and_find_the_meters(page, site, admin, tmp_path, language):
    expected = LANGUAGES[language]
    log_in(page)
    if language == "en":
        page.click("[data-testid=language-switch][value=en]")
        page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang").lower() == language
    assert page.locator("#nav-meters").inner_text().strip() == expected["nav_meters"]

    page.click("#nav-configio")
    with page.expect_download() as download_info:
        page.click("[data-testid=template-xlsx]")
    template = tmp_path / "template.xlsx"
    download_info.value.save_as(template)
    sheet = openpyxl.load_workbook(template)[expected["sheet"]]
    assert expected["address"] in [str(c.value or "").rstrip("*").strip() for c in sheet[1]]
    fill_template(template, language)

    # Dry run (the default): a report of what would happen, nothing written.
    page.set_input_files("#upload-form input[type=file]", str(template))
    page.click("[data-testid=upload-submit]")
    report = page.locator("[data-testid=import-report]")
    assert report.get_attribute("data-dry-run") == "true"
    assert report.get_attribute("data-ok") == "true"
    assert page.locator("[data-testid=report-row][data-outcome=created]").count() == 7
    assert not Meter.objects.exists()

    # Apply it.
    page.click("[data-testid=apply-import]")
    assert page.locator("[data-testid=import-report]").get_attribute("data-applied") == "true"
    assert Meter.objects.count() == 2
    assert SystemLog.objects.filter(action="configuration.import", actor=admin).count() == 1

    # The meters page lists them; the search finds one by its address.
    page.click("#nav-meters")
    table = page.locator("[data-testid=meter-table]")
    assert table.locator("[data-testid=meter-link]").all_inner_texts() == ["202601010001", "17"]
    assert "川味小馆" in table.inner_text()
    page.fill("#filter-form input[name=q]", "202601010001")
    page.press("#filter-form input[name=q]", "Enter")
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=meter-table] [data-testid=row]').length === 1"
    )
    assert page.locator("[data-testid=meter-link]").all_inner_texts() == ["202601010001"]
