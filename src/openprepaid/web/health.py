"""``GET /health/headend``: is the headend alive? For load balancers and monitoring.

No login: the answer carries only counts and times (gateways connected, meters fresh or lost,
commands waiting, open alarms), never names, addresses or balances. ``200`` when some gateway
line reported within :data:`ALIVE_WITHIN` (the headend writes each line's statistics every few
seconds while it runs), ``503`` otherwise.
"""

from __future__ import annotations

import datetime as dt

from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from openprepaid.domain.metering import selectors

ALIVE_WITHIN = dt.timedelta(minutes=2)


@never_cache
@require_GET
def headend_health(request) -> JsonResponse:
    now = timezone.now()
    summary = selectors.health_summary(now=now)
    last = selectors.last_gateway_report()
    alive = last is not None and now - last <= ALIVE_WITHIN
    summary["headend"] = {
        "alive": alive,
        "last_gateway_report": last.isoformat() if last else None,
        "alive_within_seconds": int(ALIVE_WITHIN.total_seconds()),
    }
    summary["status"] = "ok" if alive else "down"
    return JsonResponse(summary, status=200 if alive else 503)
