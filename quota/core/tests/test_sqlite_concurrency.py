"""The embedded SQLite default takes concurrent writers: they wait for each other, none fails."""

import os
import subprocess
import sys
import textwrap

import pytest

WRITER = textwrap.dedent(
    """
    import django
    django.setup()
    from quota.crm.models import LeadSource
    from quota.crm.services import deal_create, lead_create
    source = LeadSource.objects.get(key="website")
    for i in range(60):
        deal_create(by=None, title=f"deal {i}")  # reads the pipeline first, then writes
        lead_create(by=None, title=f"lead {i}", source=source)
    """
)


@pytest.mark.slow
def test_concurrent_writers_on_sqlite_do_not_fail(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "quota.settings.base",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'concurrent.sqlite3'}",
        "SECRET_KEY": "test",
    }
    subprocess.run([sys.executable, "-m", "quota.cli", "migrate", "-v", "0"], env=env, check=True, timeout=300)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER], env=env, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    failures = [w.communicate(timeout=300)[1] for w in writers if w.wait(timeout=300) != 0]
    assert failures == []
