from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "openprepaid.domain.audit"
    label = "audit"
    verbose_name = _("System log")

    def ready(self) -> None:
        from openprepaid.domain.audit import signals  # noqa: F401  (login/logout rows)
