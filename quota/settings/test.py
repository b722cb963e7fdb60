"""Test settings: fast hashing, inline tasks, in-memory e-mail and cache."""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key")
os.environ.setdefault("REDIS_URL", "")
# Tests run as production does (Django's test runner turns DEBUG off too, but only after the settings and the
# URLs are read): the DEBUG=true that `make demo` writes to .env must not change what they see.
os.environ["DEBUG"] = "false"

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The login lockout stays on in tests (the pages' logins go through it); only request-less logins
# (`client.login`, a bare `authenticate`) skip it, see quota.testing.auth. The HTTPS-only switches are
# off: the test client and the browser tests' live server speak plain HTTP.
AUTHENTICATION_BACKENDS = [
    "quota.testing.auth.RequestOptionalAxesBackend",
    "quota.core.permissions.RulesBackend",
    "django.contrib.auth.backends.ModelBackend",
]
SECURE_SSL_REDIRECT = False
SECURE_COOKIES = SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0

# The forecast's slip of the period before is cached for an hour in production; tests build their own worlds.
FORECAST_SLIP_SECONDS = 0
