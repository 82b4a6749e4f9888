"""Logins, logouts and failed logins go into the system log too."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db import transaction
from django.dispatch import receiver

from openprepaid.domain.audit.services import record


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs) -> None:
    with transaction.atomic():
        record(acting_user=user, action="operator.login", obj=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs) -> None:
    if user is None:
        return
    with transaction.atomic():
        record(acting_user=user, action="operator.logout", obj=user)


@receiver(user_locked_out)
def _locked_out(sender, request, username, ip_address, **kwargs) -> None:
    with transaction.atomic():
        record(
            acting_user=None,
            actor_name=(username or "?")[:150],
            action="operator.locked_out",
            note=f"login locked after repeated failures from {ip_address}",
        )
