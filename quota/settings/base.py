"""Settings for every environment, read from environment variables (see .env.example)."""

from pathlib import Path

import environ

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
]

ROOT_URLCONF = "quota.urls"
WSGI_APPLICATION = "quota.wsgi.application"

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
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Covering indexes (INCLUDE) speed up KPI rollups on PostgreSQL; SQLite builds them without the extra columns.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
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
# Front-end packages come from npm (`make install`), served straight from node_modules.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "quota" / "static",
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
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
    "SERVE_INCLUDE_SCHEMA": False,
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
}
# Redis gives a task whose worker died to another worker after this many seconds (tasks are acked late).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}

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

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
    CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
