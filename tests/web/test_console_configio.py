"""Quick configuration in the console: templates, upload with a dry run, apply, export."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from openprepaid.domain.audit.models import SystemLog
from openprepaid.domain.sites.models import Unit

UNIT_HEADER = ["site", "building", "floor", "code", "name", "kind", "area"]


def units_csv(*rows: list[str]) -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(UNIT_HEADER)
    writer.writerows(rows)
    return SimpleUploadedFile("units.csv", buffer.getvalue().encode("utf-8"), "text/csv")


GOOD_ROWS = (
    ["MALL", "A座", "1F", "A-105", "新店", "shop", "30"],
    ["MALL", "A座", "3F", "A-301", "", "office", ""],
)


def report_rows(html: str) -> list[tuple[str, str, str]]:
    return re.findall(
        r'data-testid="report-row" data-kind="(\w+)" data-row="(\d+)" data-outcome="(\w+)"', html
    )


def upload(client, file, *, dry_run=True):
    data = {"file": file}
    if dry_run:
        data["dry_run"] = "on"
    return client.post(reverse("console:configio"), data)


def test_page_offers_templates_and_the_upload_form(data, operations, client_for):
    html = client_for(operations).get(reverse("console:configio")).content.decode()
    assert 'data-testid="upload-form"' in html
    assert 'enctype="multipart/form-data"' in html
    # A dry run unless the operator unticks it.
    assert re.search(r'<input type="checkbox" name="dry_run"[^>]* checked>', html)
    assert 'data-testid="template-xlsx"' in html
    for kind in ("gateways", "units", "meters", "tenants"):
        assert f'data-testid="template-csv-{kind}"' in html


@pytest.mark.parametrize("role", ["cashier", "auditor"])
def test_only_configuring_roles_may_import(role, data, make_operator, client_for):
    client = client_for(make_operator(role))
    assert client.get(reverse("console:configio")).status_code == 403
    assert upload(client, units_csv(*GOOD_ROWS), dry_run=False).status_code == 403
    assert client.post(reverse("console:configio_apply"), {"token": "x" * 32}).status_code == 403
    assert client.get(reverse("console:configio_template")).status_code == 403
    assert not Unit.objects.filter(code="A-105").exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.pdf", b"%PDF-1.4 not a spreadsheet"),
        ("broken.xlsx", b"this is not a zip file"),
        ("empty.csv", b""),
        ("old.xls", b"\xd0\xcf\x11\xe0"),
    ],
)
def test_a_bad_file_gets_a_clear_error(name, content, data, admin_client, log):
    counter = log()
    response = upload(admin_client, SimpleUploadedFile(name, content))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="field-error-file"' in html
    if content:  # (an empty upload is refused by the form before the file is read)
        assert re.search(rf'data-testid="field-error-file">[^<]*{re.escape(name)}', html)
    assert 'data-testid="import-report"' not in html
    assert counter.rows() == []


def test_dry_run_reports_and_writes_nothing(data, admin_client, log):
    counter = log()
    response = upload(admin_client, units_csv(*GOOD_ROWS))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="import-report"' in html
    assert 'data-dry-run="true"' in html
    assert report_rows(html) == [("units", "2", "created"), ("units", "3", "created")]
    assert 'data-testid="report-table"' in html
    assert 'data-testid="apply-import"' in html
    assert not Unit.objects.filter(code__in=["A-105", "A-301"]).exists()
    assert counter.rows() == []


def test_apply_after_a_dry_run_writes_the_same_file(data, admin, admin_client, log):
    html = upload(admin_client, units_csv(*GOOD_ROWS)).content.decode()
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    counter = log()
    response = admin_client.post(reverse("console:configio_apply"), {"token": token})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-applied="true"' in html
    assert report_rows(html) == [("units", "2", "created"), ("units", "3", "created")]
    assert set(Unit.objects.filter(site=data.site).values_list("code", flat=True)) == {
        "A-101",
        "A-102",
        "A-105",
        "A-301",
    }
    actions = [r.action for r in counter.rows()]
    assert actions.count("unit.create") == 2
    assert "configuration.import" in actions
    summary = SystemLog.objects.get(action="configuration.import")
    assert summary.actor == admin
    assert summary.origin == "198.51.100.7"
    # The token is used up: a second "apply" is refused with a message.
    again = admin_client.post(reverse("console:configio_apply"), {"token": token}, follow=True)
    assert 'class="alert alert-danger' in again.content.decode()
    assert Unit.objects.filter(code="A-105").count() == 1


def test_a_token_from_another_session_is_refused(data, admin, make_operator, client_for):
    html = upload(client_for(admin), units_csv(*GOOD_ROWS)).content.decode()
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    intruder = client_for(make_operator("operations"))
    response = intruder.post(reverse("console:configio_apply"), {"token": token})
    assert response.status_code == 302
    assert not Unit.objects.filter(code="A-105").exists()


def test_rows_with_errors_name_row_column_and_message(data, admin_client, log):
    counter = log()
    response = upload(
        admin_client,
        units_csv(GOOD_ROWS[0], ["MALL", "A座", "1F", "A-106", "", "castle", "-5"]),
        dry_run=False,
    )
    html = response.content.decode()
    assert ("units", "3", "error") in report_rows(html)
    assert 'data-ok="false"' in html
    assert 'data-testid="report-error"' in html
    errors = re.findall(r'<li data-testid="report-error">([^<]+)</li>', html)
    assert any("3" in e for e in errors)
    assert 'data-testid="apply-import"' not in html
    assert not Unit.objects.filter(code__in=["A-105", "A-106"]).exists()
    assert counter.rows() == []


def test_import_without_dry_run_writes_at_once(data, admin_client):
    html = upload(admin_client, units_csv(*GOOD_ROWS), dry_run=False).content.decode()
    assert 'data-applied="true"' in html
    assert Unit.objects.filter(code="A-105").exists()


def test_template_downloads(data, admin_client):
    response = admin_client.get(reverse("console:configio_template"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert len(workbook.sheetnames) >= 4
    response = admin_client.get(reverse("console:configio_csv", args=["units"]))
    assert response.status_code == 200
    header = response.content.decode("utf-8-sig").splitlines()[0]
    assert "单元编号" in header or "code" in header.lower()
    assert admin_client.get("/configuration/template/castles.csv").status_code == 404


def test_export_of_the_visible_sites(data, other, make_operator, site, client_for):
    client = client_for(make_operator("auditor", sites=[site]))
    page = client.get(reverse("console:export")).content.decode()
    assert 'data-testid="export-form"' in page
    assert "Other Tower" not in page
    response = client.post(reverse("console:export"), {})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    cells = {
        str(cell)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if cell is not None
    }
    assert "A-101" in cells
    assert "B-101" not in cells
    assert "TOWER" not in cells
