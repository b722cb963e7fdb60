import hashlib
import hmac

from quota.webhooks import signing


def test_the_signature_is_an_hmac_sha256_of_timestamp_dot_body():
    body = b'{"id":"1","event":"deal.won"}'
    headers = signing.signed_headers(secret="s3cret", event="deal.won", delivery_id="d-1", body=body, now=1_700_000_000)
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert headers["X-Quota-Timestamp"] == "1700000000"
    assert headers["X-Quota-Signature"] == f"sha256={expected}"
    assert headers["X-Quota-Event"] == "deal.won" and headers["X-Quota-Delivery"] == "d-1"


def test_another_secret_or_body_gives_another_signature():
    one = signing.signature(secret="a", timestamp="1", body=b"x")
    assert one != signing.signature(secret="b", timestamp="1", body=b"x")
    assert one != signing.signature(secret="a", timestamp="1", body=b"y")
    assert one != signing.signature(secret="a", timestamp="2", body=b"x")
