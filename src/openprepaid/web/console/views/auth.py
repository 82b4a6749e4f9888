"""Logging in and out. Repeated failures lock the user name for a while (django-axes renders
``console/locked_out.html``); logins, logouts and lockouts are written to the system log."""

from __future__ import annotations

from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, LogoutView

from openprepaid.web.console.formbase import ConsoleFormMixin


class LoginForm(ConsoleFormMixin, AuthenticationForm):
    def setup(self) -> None:
        self.fields["username"].widget.attrs.update(
            {"autocomplete": "username", "data-testid": "login-username"}
        )
        self.fields["password"].widget.attrs.update(
            {"autocomplete": "current-password", "data-testid": "login-password"}
        )


class ConsoleLoginView(LoginView):
    template_name = "console/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class ConsoleLogoutView(LogoutView):
    http_method_names = ["post", "options"]
