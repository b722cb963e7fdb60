import pytest

from quota.testing.factories import UserFactory, lead_source
from quota.webforms import services


@pytest.fixture
def rep():
    return UserFactory()


@pytest.fixture
def lead_form(rep):
    return services.webform_create(
        by=None,
        name="Website contact",
        target="lead",
        source=lead_source("website"),
        owner=rep,
        asked_fields=[
            {"name": "name", "required": True},
            {"name": "email", "required": True},
            {"name": "company", "required": False},
            {"name": "message", "required": False},
        ],
        thank_you_message="Thanks! We will call you back within a day.",
        allowed_origins=["https://www.example.com"],
    )


@pytest.fixture
def case_form(rep):
    return services.webform_create(
        by=None,
        name="Support request",
        target="case",
        case_priority="high",
        owner=rep,
        asked_fields=[{"name": "email", "required": True}, {"name": "message", "required": True}],
    )
