"""Quick configuration (快速配置): templates, spreadsheet import with a dry run, and export.

An upload is first checked as a dry run (the default). When that run finds no error, the file's
bytes are kept in ``DATA_DIR/imports/<token>`` and the token in the operator's session; "Apply
this import" sends the token back and the very same file is imported for real.
"""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import FormView

from openprepaid.domain.configio.export import export_configuration
from openprepaid.domain.configio.readers import ImportFileError, read_upload
from openprepaid.domain.configio.report import Outcome
from openprepaid.domain.configio.services import import_configuration
from openprepaid.domain.configio.spec import KIND_ORDER, TABLES
from openprepaid.domain.configio.template import build_csv_template, build_template
from openprepaid.domain.errors import ServiceError
from openprepaid.domain.operators.roles import Capability
from openprepaid.web.console.forms import ExportForm, ImportForm
from openprepaid.web.console.views.base import ConsoleMixin, service_error

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SESSION_KEY = "console_imports"
KEEP_SECONDS = 24 * 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def attachment(data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# ----------------------------------------------------------------- uploads kept for "apply"


def _imports_dir() -> Path:
    path = Path(settings.DATA_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def keep_upload(request, filename: str, data: bytes) -> str:
    """Keep a checked upload for the operator's session; returns its token."""
    folder = _imports_dir()
    cutoff = time.time() - KEEP_SECONDS
    for old in folder.glob("*.upload"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    (folder / f"{token}.upload").write_bytes(data)
    kept = request.session.get(SESSION_KEY, {})
    kept[token] = filename
    request.session[SESSION_KEY] = kept
    return token


def take_upload(request, token: str) -> tuple[str, bytes] | None:
    """The upload kept under ``token`` for this session, removed from the keep."""
    kept = request.session.get(SESSION_KEY, {})
    if not _TOKEN.match(token or "") or token not in kept:
        return None
    path = _imports_dir() / f"{token}.upload"
    filename = kept.pop(token)
    request.session[SESSION_KEY] = kept
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    path.unlink(missing_ok=True)
    return filename, data


# ---------------------------------------------------------------------------------- views


class _ImportPage(ConsoleMixin):
    template_name = "console/configio.html"
    title = _("Quick configuration")
    capability = Capability.CONFIGURE

    def page(self, form, report=None, apply_token=None, status=200):
        tables = [TABLES[kind] for kind in KIND_ORDER]
        context = {
            "title": self.title,
            "form": form,
            "report": report,
            "apply_token": apply_token,
            "tables": tables,
            "table_titles": {str(t.kind): t.title() for t in tables},
            "outcomes": Outcome.choices,
            "outcome_labels": dict(Outcome.choices),
            "can_export": self.can(Capability.EXPORT),
        }
        if report is not None:
            context["counts"] = [
                (str(t.kind), t.title(), report.counts.get(str(t.kind), {})) for t in tables
            ]
        return render(self.request, self.template_name, context, status=status)

    def run(self, form, filename: str, data: bytes, *, dry_run: bool):
        """Read and import. A file that cannot be read becomes an error on the form; any other
        refusal is mapped in the one place (403, or a message)."""
        try:
            tables = read_upload(filename, data)
            report = import_configuration(
                acting_user=self.request.user, tables=tables, dry_run=dry_run, filename=filename
            )
        except ImportFileError as error:
            for problem in error.problems:
                if form.is_bound:
                    form.add_error("file", problem)
                else:
                    messages.error(self.request, problem)
            return None
        except ServiceError as error:
            service_error(self.request, error)
            return None
        return report


class ImportView(_ImportPage, FormView):
    form_class = ImportForm

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "operator": self.request.user}

    def get(self, request, *args, **kwargs):
        return self.page(self.get_form())

    def form_invalid(self, form):
        return self.page(form)

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        dry_run = form.cleaned_data["dry_run"]
        data = upload.read()
        report = self.run(form, upload.name, data, dry_run=dry_run)
        if report is None:
            return self.page(form)
        token = keep_upload(self.request, upload.name, data) if dry_run and report.ok else None
        return self.page(ImportForm(operator=self.request.user), report, token)


class ApplyImportView(_ImportPage, View):
    http_method_names = ["post", "options"]

    def post(self, request, *args, **kwargs):
        kept = take_upload(request, request.POST.get("token", ""))
        if kept is None:
            messages.error(request, _("That checked upload is no longer available: upload again."))
            return HttpResponseRedirect(reverse("console:configio"))
        filename, data = kept
        form = ImportForm(operator=request.user)
        report = self.run(form, filename, data, dry_run=False)
        if report is not None and report.applied:
            messages.success(request, _("The import was applied."))
        return self.page(form, report)


class TemplateDownloadView(ConsoleMixin, View):
    capability = Capability.CONFIGURE

    def get(self, request, *args, **kwargs):
        language = get_language() or settings.LANGUAGE_CODE
        suffix = "zh" if language.startswith("zh") else "en"
        return attachment(
            build_template(language), f"openprepaid-configuration-{suffix}.xlsx", XLSX
        )


class CsvTemplateDownloadView(ConsoleMixin, View):
    capability = Capability.CONFIGURE

    def get(self, request, kind: str, *args, **kwargs):
        if kind not in {k.value for k in KIND_ORDER}:
            raise Http404
        return attachment(build_csv_template(kind), f"{kind}.csv", "text/csv; charset=utf-8")


class ExportView(ConsoleMixin, FormView):
    """The current configuration of the sites the operator may see, as a workbook."""

    template_name = "console/export.html"
    title = _("Configuration export")
    capability = Capability.EXPORT
    form_class = ExportForm

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "operator": self.request.user}

    def form_valid(self, form):
        sites = list(form.cleaned_data["sites"]) or None
        data = export_configuration(acting_user=self.request.user, sites=sites)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return attachment(data, f"openprepaid-configuration-{stamp}.xlsx", XLSX)
