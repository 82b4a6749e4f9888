"""Django settings, read from the environment with a working default for everything.

| variable                    | default                                             |
|-----------------------------|-----------------------------------------------------|
| OPENPREPAID_DATA_DIR        | the platform's user data dir (``~/.local/share/openprepaid``) |
| DATABASE_URL                | ``sqlite:///<data dir>/openprepaid.sqlite3``        |
| OPENPREPAID_SECRET_KEY      | generated once and kept in ``<data dir>/secret_key`` |
| OPENPREPAID_DEBUG           | false                                               |
| OPENPREPAID_ALLOWED_HOSTS   | ``localhost,127.0.0.1,[::1]``                       |
| OPENPREPAID_TIME_ZONE       | ``Asia/Shanghai``                                   |
| OPENPREPAID_LANGUAGE        | ``zh-hans`` (the console's language until an operator switches) |
| OPENPREPAID_LOCKOUT_FAILURES| 5 failed logins (per user name and address)         |
| OPENPREPAID_LOCKOUT_MINUTES | 15                                                  |
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import platformdirs
from environs import Env

env = Env()

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env.path("OPENPREPAID_DATA_DIR", platformdirs.user_data_dir("openprepaid")))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    from_env = env.str("OPENPREPAID_SECRET_KEY", "")
    if from_env:
        return from_env
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("OPENPREPAID_DEBUG", False)
ALLOWED_HOSTS = env.list("OPENPREPAID_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("OPENPREPAID_CSRF_TRUSTED_ORIGINS", [])

DATABASES = {
    "default": env.dj_db_url(
        "DATABASE_URL", f"sqlite:///{DATA_DIR / 'openprepaid.sqlite3'}", conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web and the headend read while the other writes; IMMEDIATE makes a
    # transaction take the write lock when it starts, so two writers queue instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # Tests run the headend and the web server in threads of their own: an in-memory test
    # database (shared cache, table locks) cannot take that, a file in WAL mode can.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-openprepaid.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "openprepaid.domain.audit",
    "openprepaid.domain.operators",
    "openprepaid.domain.sites",
    "openprepaid.domain.tenants",
    "openprepaid.domain.metering",
    "openprepaid.domain.billing",
    "openprepaid.web.console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "openprepaid.web.language.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "openprepaid.domain.audit.middleware.AuditOriginMiddleware",
    # Axes last: it answers a locked-out login attempt before the view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "openprepaid.web.urls"
WSGI_APPLICATION = "openprepaid.web.wsgi.application"
ASGI_APPLICATION = "openprepaid.web.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "openprepaid.web.console.context.console",
            ],
        },
    }
]

AUTH_USER_MODEL = "operators.Operator"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:home"
LOGOUT_REDIRECT_URL = "console:login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("OPENPREPAID_SESSION_SECONDS", 8 * 3600)

# Lockout after repeated failed logins (django-axes).
AXES_FAILURE_LIMIT = env.int("OPENPREPAID_LOCKOUT_FAILURES", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("OPENPREPAID_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "console/locked_out.html"
AXES_VERBOSE = False

# The REST API (openprepaid.web.api): operators' API tokens or the console's session, one error
# handler, decimals in and out as exact numbers, the OpenAPI schema and a local Swagger UI.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "openprepaid.web.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["openprepaid.web.api.parsers.DecimalJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "openprepaid.web.api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "openprepaid.web.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OpenPrepaid API",
    "DESCRIPTION": "Meters and commands of the operator's sites. Authenticate with an operator's"
    " API token: Authorization: Bearer <token> (openprepaid api-token create).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "CommandKindEnum": "openprepaid.domain.metering.models.CommandKindChoice",
        "OperatorCommandKindEnum": "openprepaid.web.api.serializers.OPERATOR_KIND_CHOICES",
        "CommandStateEnum": "openprepaid.domain.metering.models.CommandStateChoice",
        "BoardStateEnum": "openprepaid.web.api.serializers.BOARD_STATE_CHOICES",
        "RelayIntentEnum": "openprepaid.domain.metering.models.DesiredRelayChoice",
    },
}

# The console speaks this language until an operator picks another with the switch.
LANGUAGE_CODE = env.str("OPENPREPAID_LANGUAGE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env.str("OPENPREPAID_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the app folders (no collectstatic step needed for a single-host site).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Largest spreadsheet an operator may upload for quick configuration.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
OPENPREPAID_IMPORT_MAX_ROWS = env.int("OPENPREPAID_IMPORT_MAX_ROWS", 20000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("OPENPREPAID_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
