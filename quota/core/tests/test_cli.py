"""The `quota` command: help for every command, a one-line reason and non-zero exit on failure."""

import os
import subprocess
import sys

import pytest

from quota.cli import main


def run(*args: str) -> subprocess.CompletedProcess:
    # Its own throwaway database: the command-line behaviour does not depend on which server the suite runs on.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "quota.settings.test", "DATABASE_URL": "sqlite://:memory:"}
    return subprocess.run([sys.executable, "-m", "quota.cli", *args], capture_output=True, text=True, env=env, timeout=120)


def test_help_lists_commands():
    result = run("help")
    assert result.returncode == 0 and "migrate" in result.stdout


def test_serve_is_runserver():
    result = run("serve", "--help")
    assert result.returncode == 0 and "addrport" in result.stdout


def test_unknown_command_fails_with_a_reason():
    result = run("no-such-command")
    assert result.returncode != 0 and "Unknown command" in result.stderr


def test_bad_arguments_fail_with_a_one_line_reason():
    result = run("migrate", "no_such_app")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "no_such_app" in result.stderr


def test_missing_secret_key_is_a_configuration_error():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "quota.settings.base", "SECRET_KEY": "", "DEBUG": "false"}
    result = subprocess.run([sys.executable, "-m", "quota.cli", "check"], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2 and "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("argv", [["quota", "version"]])
def test_main_returns_exit_code(argv):
    assert main(argv) == 0
