from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("openprepaid.web.console.urls")),
]

handler403 = "openprepaid.web.console.views.errors.permission_denied"
handler404 = "openprepaid.web.console.views.errors.page_not_found"
