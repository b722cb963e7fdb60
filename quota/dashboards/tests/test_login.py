import pytest
from django.urls import reverse

from quota.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_user_is_sent_to_the_login_page(client):
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_login_with_the_right_password_lands_on_the_dashboard(client):
    UserFactory(username="director", role="director")
    response = client.post(reverse("login"), {"username": "director", "password": "pw"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert b"Sales director" in response.content


def test_wrong_password_shows_an_error_and_keeps_the_username(client):
    UserFactory(username="rep1")
    response = client.post(reverse("login"), {"username": "rep1", "password": "nope"})
    assert response.status_code == 200
    assert b'role="alert"' in response.content and b'value="rep1"' in response.content


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("pl", "ltr"), ("ru", "ltr"), ("fa", "rtl")])
def test_login_page_follows_the_language(client, language, direction):
    client.post(reverse("set_language"), {"language": language, "next": "/login/"})
    content = client.get(reverse("login")).content.decode()
    assert f'lang="{language}" dir="{direction}"' in content


def test_health_check(client):
    assert client.get("/healthz").json()["status"] == "ok"  # details: quota/core/tests/test_health.py
