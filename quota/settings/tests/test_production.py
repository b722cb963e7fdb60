"""Production posture: with DEBUG off the settings are safe by default and each switch can be turned off;
DEBUG on keeps plain HTTP working; `quota check --deploy` passes with the README's production environment.

Settings are read in a fresh process (quota.settings.base, as `quota` reads them) for each environment.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
QUOTA = Path(sys.executable).parent / "quota"
NAMES = [
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_REDIRECT_EXEMPT",
    "CONTENT_SECURITY_POLICY",
    "AUTHENTICATION_BACKENDS",
    "AXES_FAILURE_LIMIT",
    "AXES_COOLOFF_TIME",
    "AXES_LOCKOUT_PARAMETERS",
    "TRUSTED_PROXY_COUNT",
    "WEBFORMS_PROXY_COUNT",
    "REST_FRAMEWORK",
    "MIDDLEWARE",
    "DATABASES",
]
READ_SETTINGS = f"""
import json
from quota.settings import base
print(json.dumps({{name: getattr(base, name) for name in {NAMES!r}}}, default=str))
"""


def environment(**values: str) -> dict[str, str]:
    """A clean environment: the variables given and nothing from the test run (its settings module, its DEBUG)."""
    keep = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    return {**keep, "DJANGO_SETTINGS_MODULE": "quota.settings.base", "SECRET_KEY": secrets.token_urlsafe(50), **values}


def settings_with(**values: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", READ_SETTINGS], env=environment(**values), cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def readme_production_environment() -> dict[str, str]:
    """The variables of the README's production `.env` block (the one marked production-env)."""
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"<!-- production-env.*?-->\s*```sh\n(.*?)```", readme, re.DOTALL)
    assert found, "README.md lost its production-env block"
    values = {}
    for line in found.group(1).splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def deploy_check(**values: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(QUOTA), "check", "--deploy", "--fail-level", "WARNING"],
        env=environment(**values),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_without_debug_every_switch_is_production_safe():
    values = settings_with(DEBUG="false")
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is False
    assert values["SECURE_PROXY_SSL_HEADER"] is None  # only when told: a header anyone could send otherwise
    assert values["SECURE_REDIRECT_EXEMPT"] == [r"^healthz$"]
    policy = values["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]
    assert policy["script-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert values["AUTHENTICATION_BACKENDS"][0] == "axes.backends.AxesStandaloneBackend"
    assert values["MIDDLEWARE"][-1] == "axes.middleware.AxesMiddleware"
    assert "csp.middleware.CSPMiddleware" in values["MIDDLEWARE"]
    assert values["AXES_FAILURE_LIMIT"] == 10 and values["AXES_COOLOFF_TIME"] == "0:15:00"
    assert values["AXES_LOCKOUT_PARAMETERS"] == ["username", "ip_address"]
    assert values["REST_FRAMEWORK"]["DEFAULT_THROTTLE_RATES"]["api_token_failure"] == "10/min"


def test_each_switch_can_be_turned_off_behind_another_kind_of_proxy():
    values = settings_with(DEBUG="false", SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0", SECURE_COOKIES="false")
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SESSION_COOKIE_SECURE"] is False and values["CSRF_COOKIE_SECURE"] is False
    assert settings_with(DEBUG="false", CSP_ENABLED="false")["CONTENT_SECURITY_POLICY"] == {}


def test_debug_keeps_plain_http_working():
    values = settings_with(DEBUG="true")
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is False and values["CSRF_COOKIE_SECURE"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0


def test_proxy_and_lockout_variables():
    values = settings_with(
        DEBUG="false",
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
        TRUSTED_PROXY_COUNT="1",
        AXES_FAILURE_LIMIT="5",
        AXES_COOLOFF_MINUTES="30",
        AXES_LOCKOUT_PARAMETERS="username",
        API_TOKEN_FAILURE_RATE="20/hour",
        SECURE_HSTS_PRELOAD="true",
    )
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["TRUSTED_PROXY_COUNT"] == 1 and values["WEBFORMS_PROXY_COUNT"] == 1
    assert values["REST_FRAMEWORK"]["NUM_PROXIES"] == 1
    assert values["AXES_FAILURE_LIMIT"] == 5 and values["AXES_COOLOFF_TIME"] == "0:30:00"
    assert values["AXES_LOCKOUT_PARAMETERS"] == ["username"]
    assert values["REST_FRAMEWORK"]["DEFAULT_THROTTLE_RATES"]["api_token_failure"] == "20/hour"
    assert values["SECURE_HSTS_PRELOAD"] is True
    assert settings_with(TRUSTED_PROXY_COUNT="1", WEBFORMS_PROXY_COUNT="2")["WEBFORMS_PROXY_COUNT"] == 2


@pytest.mark.slow
def test_database_connections_persist_and_are_checked_unless_told_otherwise():
    default = settings_with(DATABASE_URL="postgres://quota@db.invalid:5432/quota")["DATABASES"]["default"]
    assert default["CONN_MAX_AGE"] == 600 and default["CONN_HEALTH_CHECKS"] is True
    told = settings_with(CONN_MAX_AGE="0", CONN_HEALTH_CHECKS="false")["DATABASES"]["default"]
    assert told["CONN_MAX_AGE"] == 0 and told["CONN_HEALTH_CHECKS"] is False


def test_the_deploy_check_passes_with_the_readme_production_environment():
    values = readme_production_environment()
    assert values["DEBUG"] == "false" and "SECRET_KEY" in values
    values["SECRET_KEY"] = secrets.token_urlsafe(50)  # the README says to make a new one
    result = deploy_check(**values)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.slow
def test_the_deploy_check_fails_when_the_switches_are_off():
    """The check the previous test passes is a real one: with the switches off it names each gap."""
    values = {**readme_production_environment(), "SECRET_KEY": secrets.token_urlsafe(50)}
    result = deploy_check(**values, SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0", SECURE_COOKIES="false")
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


@pytest.mark.slow
def test_postgresql_queries_start_no_parallel_workers_unless_told_to():
    url = "postgres://quota@db.invalid:5432/quota"
    default = settings_with(DATABASE_URL=url)["DATABASES"]["default"]
    assert default["OPTIONS"]["options"] == "-c max_parallel_workers_per_gather=0"
    told = settings_with(DATABASE_URL=url, PG_PARALLEL_WORKERS="2")["DATABASES"]["default"]
    assert told["OPTIONS"]["options"] == "-c max_parallel_workers_per_gather=2"
    assert "options" not in settings_with()["DATABASES"]["default"].get("OPTIONS", {})  # SQLite has no such thing
