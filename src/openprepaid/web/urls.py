from django.urls import include, path
from django.views.i18n import set_language

from openprepaid.web import health

urlpatterns = [
    path("i18n/setlang/", set_language, name="set_language"),
    path("health/headend", health.headend_health, name="health_headend"),
    path("api/v1/", include("openprepaid.web.api.urls")),
    path("", include("openprepaid.web.console.urls")),
]

handler403 = "openprepaid.web.console.views.errors.permission_denied"
handler404 = "openprepaid.web.console.views.errors.page_not_found"
