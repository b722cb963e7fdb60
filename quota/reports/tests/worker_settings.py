"""Settings of the Celery worker that test_worker.py starts: production settings, plus what the test controls.

The test passes the database, Redis and a queue of its own in the environment. Redis hands a task
whose worker died to another worker once `visibility_timeout` has passed (production default: an
hour); here it is seconds, and the sweep that looks for such tasks runs every second.
"""

import os

from quota.settings.base import *  # noqa: F403

CELERY_TASK_DEFAULT_QUEUE = os.environ["QUOTA_TEST_QUEUE"]
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": float(os.environ["QUOTA_TEST_VISIBILITY_TIMEOUT"]),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
REPORTS_DELIVERY_LEASE_SECONDS = float(os.environ["QUOTA_TEST_LEASE_SECONDS"])
MEDIA_ROOT = os.environ["QUOTA_TEST_MEDIA_ROOT"]
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["QUOTA_TEST_MAIL_DIR"]
