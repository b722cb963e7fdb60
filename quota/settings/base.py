"""Settings for every environment, read from environment variables (see .env.example)."""

import os
from pathlib import Path

import environ
from celery.schedules import crontab
from whitenoise.compress import Compressor

from quota.settings.postgresql import connection_options

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# The development default is only used when DEBUG is on; production must set SECRET_KEY.
SECRET_KEY = env("SECRET_KEY", default="") or ("insecure-development-key-do-not-use-in-production" if DEBUG else "")
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Set SECRET_KEY in the environment (or DEBUG=true for development).")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "rest_framework.authtoken",
    "phonenumber_field",
    "rules",  # the {% has_perm %} template tag; the permissions themselves are quota.core.permissions
    "quota.core",
    "quota.accounts",
    "quota.crm",
    "quota.sales",
    "quota.activities",
    "quota.service",
    "quota.marketing",
    "quota.kpi",
    "quota.dashboards",
    "quota.reports",
    "quota.imports",
    "quota.api",
    "quota.forecasting",
    "quota.webforms",
    "quota.webhooks",
    "quota.notifications",
    "quota.seed",  # the `quota seed` command
    "quota.search",
    # Audit trail (issue #12): django-auditlog's LogEntry table, read by quota.audit.
    "auditlog",
    "quota.audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After authentication: who changed what is read from the request's user when an audit entry is written.
    "quota.audit.middleware.AuditActorMiddleware",
    # Bad input (issue #12): a NUL character anywhere in a request is a 400, before any view or query sees it.
    "quota.core.middleware.RejectNulMiddleware",
]

# Audit trail: changes kept as JSON values (old, new); no client address, since behind a proxy
# X-Forwarded-For is whatever the client sent (the web server's own log has the addresses).
AUDITLOG_STORE_JSON_CHANGES = True
AUDITLOG_DISABLE_REMOTE_ADDR = True

ROOT_URLCONF = "quota.urls"
WSGI_APPLICATION = "quota.wsgi.application"
# Django's form templates, a few read from quota/core/form_templates first (the same HTML, rendered faster).
FORM_RENDERER = "quota.core.form_renderer.FormRenderer"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "quota" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "quota.notifications.context_processors.unread_notifications",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'quota.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a worker or the seed writes.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "timeout": 20,
            # Take the write lock when a transaction starts: a transaction that read first and
            # wrote later would otherwise fail at once with "database is locked" under concurrency.
            "transaction_mode": "IMMEDIATE",
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = connection_options(options.get("options", ""))
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections: a request reuses its worker's connection instead of opening one (a few ms of CPU
# on both sides each time); the health check replaces one the server closed before it is used.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
# Covering indexes (INCLUDE) speed up KPI rollups on PostgreSQL; SQLite builds them without the extra columns.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# Who may do what: Quota's named permissions (quota.core.permissions) first, then Django's model permissions.
AUTHENTICATION_BACKENDS = [
    "quota.core.permissions.RulesBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("pl", "Polski"), ("ru", "Русский"), ("fa", "فارسی")]
LOCALE_PATHS = [BASE_DIR / "quota" / "locale"]
TIME_ZONE = env("QUOTA_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "quota" / "static"]
# Front-end packages come from npm (`make install`), served straight from node_modules: only the files
# the templates load, so collectstatic copies two files rather than whole packages (see core.staticfinders).
NODE_MODULES = BASE_DIR / "node_modules"
NODE_STATIC_FILES = {
    "vendor/htmx/htmx.min.js": "htmx.org/dist/htmx.min.js",
    "vendor/echarts/echarts.min.js": "echarts/dist/echarts.min.js",
}
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "quota.core.staticfinders.NodeModulesFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "quota.core.staticstorage.CompressedManifestStorage"},  # whitenoise's, brotli quicker
}
# Source maps are only fetched by browser developer tools: collectstatic need not compress them.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")
# var/ holds the embedded database, collected static files, media and benchmark results.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"

REDIS_URL = env("REDIS_URL", default="")
# CACHES: see "Outages" below.

# Celery: with REDIS_URL a real broker and worker; without it (embedded default) tasks run inline.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TIMEZONE = TIME_ZONE

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="quota@localhost")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    # Bad input (issue #12): JSON nested too deeply is a 400, not a RecursionError.
    "DEFAULT_PARSER_CLASSES": [
        "quota.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "quota.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"webform": env("WEBFORM_RATE", default="20/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Quota API",
    "DESCRIPTION": "Every Quota record, KPI values and targets. Authenticate with `Authorization: Token <token>` "
    "(`quota api-token USERNAME` prints one). A token sees exactly what its user sees in the pages.",
    "VERSION": "1",
    "PREPROCESSING_HOOKS": ["quota.api.schema.versioned_only"],  # /api/v1/ paths; /api/ is the same routes
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],  # the schema and its docs: signed-in people
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "DealStatusEnum": "quota.crm.choices.DealStatus",
        "LeadStatusEnum": "quota.crm.choices.LeadStatus",
        "CaseStatusEnum": "quota.service.models.CaseStatus",
        "OfferStatusEnum": "quota.sales.models.OfferStatus",
        "OrderStatusEnum": "quota.sales.models.OrderStatus",
        "InvoiceStatusEnum": "quota.sales.models.InvoiceStatus",
        "WebhookEventEnum": "quota.webhooks.models.EVENT_CHOICES",
    },
}

PHONENUMBER_DEFAULT_REGION = env("QUOTA_PHONE_REGION", default=None)

# Webhooks go to public addresses only unless allowed (e.g. an ERP on the LAN).
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", default=False)
# Public web forms: the largest request body, and how many trusted proxies stand in front
# (the client IP is the Nth X-Forwarded-For entry from the right; 0 = use REMOTE_ADDR).
WEBFORMS_MAX_BODY_BYTES = env.int("WEBFORMS_MAX_BODY_BYTES", default=32 * 1024)
WEBFORMS_PROXY_COUNT = env.int("WEBFORMS_PROXY_COUNT", default=0)

# Periodic work, declared in one place (Celery beat in production).
CELERY_BEAT_SCHEDULE = {
    "webhooks-send-overdue": {"task": "quota.webhooks.tasks.send_overdue_webhooks", "schedule": 60.0},
    "reports-run-due": {"task": "quota.reports.tasks.run_due_reports", "schedule": 60.0},
    "notifications-early-warnings": {"task": "quota.notifications.tasks.check_early_warnings", "schedule": 3600.0},
    "notifications-due-work": {"task": "quota.notifications.tasks.check_due_work", "schedule": 3600.0},
    "notifications-daily-digests": {"task": "quota.notifications.tasks.send_daily_digests", "schedule": 3600.0},
    # The learned win probability: retrained on Sunday night, the open deals scored every night (quota.forecasting).
    "forecasting-retrain-win-model": {
        "task": "quota.forecasting.tasks.retrain_win_model",
        "schedule": crontab(minute=30, hour=2, day_of_week=0),
    },
    "forecasting-score-open-deals": {"task": "quota.forecasting.tasks.score_open_deals", "schedule": crontab(minute=30, hour=3)},
    "forecasting-score-changed-deals": {"task": "quota.forecasting.tasks.score_changed_deals", "schedule": 300.0},
    # Once per company day, just after midnight (CELERY_TIMEZONE is the company's); a day missed while down is caught
    # up at the next pass, and a second run the same day records nothing.
    "forecasting-record-calls": {
        "task": "quota.forecasting.call_tasks.record_forecast_calls",
        "schedule": crontab(minute=5, hour=0),
    },
}
# The win-probability model learns only from this many closed deals or more (below, the stages' probabilities
# stand), and from a seeded sample of at most this many (enough for its few coefficients, and memory stays small).
FORECAST_MIN_CLOSED_DEALS = env.int("FORECAST_MIN_CLOSED_DEALS", default=200)
FORECAST_MAX_TRAINING_DEALS = env.int("FORECAST_MAX_TRAINING_DEALS", default=200_000)
# Task modules autodiscovery does not find (it looks for each app's tasks.py).
CELERY_IMPORTS = ["quota.forecasting.call_tasks"]
# Redis gives a task whose worker died to another worker after this many seconds (tasks are acked late).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}

# Imports (bad input, issue #12): the most columns the pages map (each is a field of the mapping form),
# and the most unpacked data an XLSX workbook may hold (a zip bomb is refused, not parsed).
IMPORTS_MAX_COLUMNS = env.int("IMPORTS_MAX_COLUMNS", default=500)
IMPORTS_MAX_UNPACKED_BYTES = env.int("IMPORTS_MAX_UNPACKED_BYTES", default=1024**3)
# ---- Outages: keep working when Redis is down (issue #12, item 9) ------------------------------------------------
# The cache is django-redis, not Django's own RedisCache: it can ignore Redis errors (a miss, a no-op write), so
# a Redis outage makes pages slower, never a 500; short socket timeouts keep a dead or unreachable Redis from
# stalling each request. Without REDIS_URL (the embedded default) it is local memory, as before.
CACHES = {
    "default": (
        {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": env.float("REDIS_CONNECT_TIMEOUT", default=0.5),
                "SOCKET_TIMEOUT": env.float("REDIS_TIMEOUT", default=0.5),
            },
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# KPI values kept this many seconds while nothing they read changes (quota.kpi.cache); every write makes them
# stale at once. Only with a cache every process shares (Redis), so it is off (0) without REDIS_URL.
KPI_CACHE_SECONDS = env.int("KPI_CACHE_SECONDS", default=300 if REDIS_URL else 0)
# Sessions read from the shared cache (written through to the database, which stays the record): one query less
# on every request. Without Redis, the database alone, as before.
if REDIS_URL:
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Whole pages (the dashboards, a KPI page, the board, the deal list) kept this many seconds while nothing they read
# changes (quota.core.pagecache; keyed by the minute as well); every write renews what it touched. Redis only.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=120 if REDIS_URL else 0)
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True  # an outage shows in the logs (and in /healthz)
DJANGO_REDIS_LOGGER = "quota.cache"
# Publishing a task to a dead broker fails fast; quota.core.queue then runs the task in the web process.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("REDIS_CONNECT_TIMEOUT", default=0.5)
CELERY_BROKER_TRANSPORT_OPTIONS["socket_connect_timeout"] = env.float("REDIS_CONNECT_TIMEOUT", default=0.5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5))
# Periodic work that repairs what an outage left behind (beat in production, `quota report scheduler` embedded).
CELERY_BEAT_SCHEDULE.update(
    {
        "core-worker-heartbeat": {"task": "quota.core.tasks.record_worker_heartbeat", "schedule": 60.0},
        "kpi-rebuild-stale-rollups": {"task": "quota.kpi.tasks.rebuild_stale_rollups", "schedule": 300.0},
        "imports-fail-stuck-jobs": {"task": "quota.imports.tasks.fail_stuck_jobs", "schedule": 60.0},
        "api-purge-idempotency-keys": {"task": "quota.api.tasks.purge_idempotency_keys", "schedule": 3600.0},
    }
)
# An import whose worker shows no sign of life for this long while "running", or that no worker picked up for this
# long while "waiting", is marked failed (and may be started again).
IMPORTS_STUCK_RUNNING_SECONDS = env.int("IMPORTS_STUCK_RUNNING_SECONDS", default=600)
IMPORTS_STUCK_WAITING_SECONDS = env.int("IMPORTS_STUCK_WAITING_SECONDS", default=1800)
# How long the API remembers an Idempotency-Key and the response it got.
API_IDEMPOTENCY_SECONDS = env.int("API_IDEMPOTENCY_SECONDS", default=24 * 3600)
# ---- end of Outages ---------------------------------------------------------------------------------------------

# The company currency: every money KPI is reported in it (ISO 4217 code).
QUOTA_CURRENCY = env("QUOTA_CURRENCY", default="EUR")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# ============================================================================ security posture (begin)
# Login lockout, API token throttling, HTTPS, cookies, HSTS and the Content-Security-Policy.
# With DEBUG off every switch defaults to the production-safe value; each one can be turned off by its
# environment variable (a proxy that terminates TLS differently, an intranet on plain HTTP).
# DEBUG on (`make demo`, plain http://127.0.0.1) turns the HTTPS-only ones off.
from datetime import timedelta  # noqa: E402
from typing import cast  # noqa: E402

from csp.constants import NONE, SELF, UNSAFE_INLINE  # noqa: E402

INSTALLED_APPS += ["axes", "csp"]
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware")
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # last, as django-axes asks: it turns a lockout into the lockout page

# How many reverse proxies stand in front (nginx: 1): the client address is then the Nth X-Forwarded-For entry
# from the right, for the login lockout, the API throttles and (unless set apart) the web forms' rate limit.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=WEBFORMS_PROXY_COUNT)
if "WEBFORMS_PROXY_COUNT" not in os.environ:
    WEBFORMS_PROXY_COUNT = TRUSTED_PROXY_COUNT

# Logins (the login page, the admin's, any authenticate(request, ...)): django-axes with its database handler
# (no Redis needed). After AXES_FAILURE_LIMIT failures for a username, or from an address, even the right
# password is refused until AXES_COOLOFF_MINUTES have passed since the last failure, or an administrator
# unlocks it (`quota unlock USERNAME`, or Administration > Axes > Access attempts).
# django-axes checks every sign-in first; the permission backends above keep their order after it.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", *AUTHENTICATION_BACKENDS]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = env.list("AXES_LOCKOUT_PARAMETERS", default=["username", "ip_address"])
# Tries during a lockout are refused without being counted, so the lockout ends when the page says it does.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "quota.accounts.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "quota.accounts.lockout.lockout_response"
cast(dict, LOGGING.setdefault("loggers", {}))["axes.apps"] = {"level": "WARNING"}  # no version banner per command

# API tokens: an address that sent too many bad tokens gets 429 until the window passes (DRF's throttle cache).
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
    "rest_framework.authentication.SessionAuthentication",
    "quota.api.authentication.ThrottledTokenAuthentication",
]
cast(dict, REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])["api_token_failure"] = env("API_TOKEN_FAILURE_RATE", default="10/min")
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT or None

# HTTPS: redirect, secure cookies, HSTS. /healthz stays reachable over plain HTTP for load balancers.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_COOKIES = env.bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Preload is a promise to browser makers that is slow to take back: only on request, and then the deploy
# check's reminder about it (security.W021) is moot.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS.append("security.W021")
# Behind a proxy that terminates TLS: the header it sets to "https" (nginx recipe: X-Forwarded-Proto).
_proxy_ssl_header = env("SECURE_PROXY_SSL_HEADER", default="")
SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https") if _proxy_ssl_header else None

# Content-Security-Policy (django-csp): scripts, styles, fonts and images only from Quota itself; no inline
# script, no eval. Style attributes stay allowed (progress bars' widths, the admin's widgets, ECharts'
# tooltips), <style> elements do not. API docs pages widen it for themselves (quota/api/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
if not env.bool("CSP_ENABLED", default=True):
    CONTENT_SECURITY_POLICY = {}
# ============================================================================ security posture (end)
