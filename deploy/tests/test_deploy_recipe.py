"""The deploy recipe on loopback: nginx (deploy/nginx-quota.conf.template) in front of gunicorn
(deploy/gunicorn.conf.py) keeps /healthz answering while clients hold connections open with huge
Content-Length headers and stalled bodies; gunicorn alone does not (which shows the attack is real).

Everything runs as the current user in a temporary folder on 127.0.0.1 free ports (nginx with `-p`,
its pid, logs and temporary files there), with bounded waits, and is stopped at the end. Without the
nginx binary the test is skipped locally; in CI (CI=true) that is a failure: CI installs Debian's nginx.
"""

from __future__ import annotations

import http.client
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
HUGE = 2_000_000_000  # the finding: Content-Length 2 GB, then nothing
UNDER_THE_LIMIT = 40_000_000  # within client_max_body_size: nginx waits for it, gunicorn never sees it
ATTACKERS = 6


def required_binary(name: str, package: str) -> str:
    found = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None)
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} is missing: CI must install Debian's {package}")
    pytest.skip(f"{name} is not installed (apt-get install {package})")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args[0]} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"nothing listens on 127.0.0.1:{port} after {seconds} s:\n{log.read_text()[-3000:]}")


def wait_until_serving(port: int, process: subprocess.Popen, log: Path, seconds: float = 90) -> None:
    """gunicorn listens before its workers have loaded Quota: wait until /healthz answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
            if connection.getresponse().status < 500:
                return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"gunicorn did not answer /healthz after {seconds} s:\n{log.read_text()[-3000:]}")


def warm_up(port: int, seconds: float = 90) -> None:
    """Every worker loads Quota's URLs on its first request: send parallel requests until all answer at once."""
    from concurrent.futures import ThreadPoolExecutor

    def timed_health() -> float:
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
        connection.getresponse().read()
        connection.close()
        return time.monotonic() - started

    deadline = time.monotonic() + seconds
    with ThreadPoolExecutor(max_workers=4) as pool:
        while time.monotonic() < deadline:
            if max(pool.map(lambda _: timed_health(), range(4))) < 0.5:
                return
    pytest.fail(f"gunicorn's workers still answer slowly after {seconds} s")


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def render_site(**values: str) -> str:
    """The site template with its ${QUOTA_...} placeholders filled in (what envsubst does in the README)."""
    template = (DEPLOY / "nginx-quota.conf.template").read_text()
    rendered = re.sub(r"\$\{(QUOTA_[A-Z_]+)\}", lambda match: values[match.group(1)], template)
    assert "${QUOTA_" not in rendered
    return rendered


def main_config(tmp: Path) -> str:
    """What Debian's /etc/nginx/nginx.conf gives the site file, with every path in `tmp` for a non-root run."""
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    mime = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").exists() else "types { text/css css; }"
    return f"""{user}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 256; }}
http {{
    {mime}
    default_type application/octet-stream;
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/quota.conf;
}}
"""


class Stack:
    def __init__(self, tmp: Path, gunicorn_port: int, http_port: int, https_port: int) -> None:
        self.tmp, self.gunicorn_port, self.http_port, self.https_port = tmp, gunicorn_port, http_port, https_port
        self.tls = ssl.create_default_context()
        self.tls.check_hostname = False
        self.tls.verify_mode = ssl.CERT_NONE

    def gunicorn_log(self) -> str:
        return (self.tmp / "gunicorn.log").read_text()

    def request(self, method: str, path: str, *, via: str, timeout: float = 10.0) -> http.client.HTTPResponse:
        if via == "https":
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                "127.0.0.1", self.https_port, timeout=timeout, context=self.tls
            )
        else:
            port = self.http_port if via == "http" else self.gunicorn_port
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        connection.request(method, path, headers={"Host": "127.0.0.1"})
        response = connection.getresponse()
        response.body = response.read()  # type: ignore[attr-defined]
        connection.close()
        return response

    def stalled_upload(self, *, via: str, content_length: int) -> socket.socket:
        """A login POST that announces `content_length` bytes of multipart body, sends a few, then stops.

        It passes every check Django makes before reading a body (HTTPS as nginx would say it, a same-site
        Origin, a CSRF cookie), so Django reads the body to find the CSRF token in it, and waits.
        """
        raw = socket.create_connection(("127.0.0.1", self.https_port if via == "https" else self.gunicorn_port), timeout=5)
        sock = self.tls.wrap_socket(raw) if via == "https" else raw
        sock.sendall(
            (
                "POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "X-Forwarded-Proto: https\r\nOrigin: https://127.0.0.1\r\n"
                f"Cookie: csrftoken={'a' * 32}\r\n"
                "Content-Type: multipart/form-data; boundary=quota\r\n"
                f"Content-Length: {content_length}\r\n\r\n--quota\r\n"
            ).encode()
        )
        return sock


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    nginx = required_binary("nginx", "nginx")
    openssl = required_binary("openssl", "openssl")
    tmp = tmp_path_factory.mktemp("deploy")
    os.chmod(tmp, 0o755)  # nginx's workers (another user when started as root) read the static files
    static = tmp / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "quota.0123456789ab.css").write_text("body { color: #123456; }\n")
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"),
            *("-keyout", str(tmp / "tls.key"), "-out", str(tmp / "tls.crt")),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    ports = {"gunicorn": free_port(), "http": free_port(), "https": free_port()}
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "quota.settings.base",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "false",
        "DATABASE_URL": f"sqlite:///{tmp / 'quota.sqlite3'}",
        "REDIS_URL": "",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
        "TRUSTED_PROXY_COUNT": "1",
        "GUNICORN_BIND": f"127.0.0.1:{ports['gunicorn']}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_TIMEOUT": "30",
        "LOG_LEVEL": "WARNING",
    }
    gunicorn_log = tmp / "gunicorn.log"
    with gunicorn_log.open("w") as log:
        gunicorn = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(DEPLOY / "gunicorn.conf.py")],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    nginx_process = None
    try:
        wait_for_port(ports["gunicorn"], gunicorn, gunicorn_log)
        wait_until_serving(ports["gunicorn"], gunicorn, gunicorn_log)
        warm_up(ports["gunicorn"])
        (tmp / "quota.conf").write_text(
            render_site(
                QUOTA_SERVER_NAME="127.0.0.1 localhost",
                QUOTA_HTTP_LISTEN=f"127.0.0.1:{ports['http']}",
                QUOTA_HTTPS_LISTEN=f"127.0.0.1:{ports['https']}",
                QUOTA_TLS_CERTIFICATE=str(tmp / "tls.crt"),
                QUOTA_TLS_KEY=str(tmp / "tls.key"),
                QUOTA_STATIC_ROOT=str(static),
                QUOTA_UPSTREAM=f"127.0.0.1:{ports['gunicorn']}",
            )
        )
        (tmp / "nginx.conf").write_text(main_config(tmp))
        configtest = subprocess.run(
            [nginx, "-t", "-p", str(tmp), "-e", str(tmp / "error.log"), "-c", str(tmp / "nginx.conf")],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert configtest.returncode == 0, configtest.stderr
        nginx_process = subprocess.Popen(
            [nginx, "-p", str(tmp), "-e", str(tmp / "error.log"), "-c", str(tmp / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(ports["https"], nginx_process, tmp / "error.log", seconds=30)
        yield Stack(tmp, ports["gunicorn"], ports["http"], ports["https"])
    finally:
        if nginx_process is not None:
            stop(nginx_process, signal.SIGQUIT)
        stop(gunicorn)


def test_the_proxy_serves_healthz_static_files_and_sends_http_to_https(stack):
    health = stack.request("GET", "/healthz", via="https")
    assert health.status == 200
    css = stack.request("GET", "/static/css/quota.0123456789ab.css", via="https")
    assert css.status == 200 and "immutable" in css.getheader("Cache-Control", "")
    assert css.getheader("Content-Type") == "text/css"  # from nginx, not gunicorn
    moved = stack.request("GET", "/login/?next=/", via="http")
    assert moved.status == 301 and moved.getheader("Location") == "https://127.0.0.1/login/?next=/"
    assert stack.request("GET", "/healthz", via="http").status == 200  # load balancers may probe over HTTP


def test_django_sees_https_through_the_proxy(stack):
    # SECURE_PROXY_SSL_HEADER trusts nginx's X-Forwarded-Proto: no redirect loop, and HSTS is sent.
    health = stack.request("GET", "/healthz", via="https")
    assert health.status == 200
    assert health.getheader("Strict-Transport-Security") == "max-age=31536000; includeSubDomains"


def test_stalled_huge_uploads_do_not_hold_gunicorn_behind_nginx(stack):
    baseline = stack.request("GET", "/healthz", via="https").status
    huge = [stack.stalled_upload(via="https", content_length=HUGE) for _ in range(ATTACKERS)]
    waiting = [stack.stalled_upload(via="https", content_length=UNDER_THE_LIMIT) for _ in range(ATTACKERS)]
    try:
        for sock in huge:  # refused at once, from the header alone
            sock.settimeout(5)
            assert sock.recv(64).startswith(b"HTTP/1.1 413")
        for _ in range(5):
            started = time.monotonic()
            assert stack.request("GET", "/healthz", via="https", timeout=2.0).status == baseline
            assert time.monotonic() - started < 2.0
    finally:
        for sock in huge + waiting:
            sock.close()
    assert "POST /login/" not in stack.gunicorn_log()  # no attacker's request ever reached a worker


def test_without_nginx_the_same_attack_holds_every_gunicorn_worker(stack):
    """The control: straight to gunicorn (2 sync workers), four stalled uploads leave /healthz unanswered."""
    attackers = [stack.stalled_upload(via="gunicorn", content_length=HUGE) for _ in range(4)]
    try:
        time.sleep(0.5)
        with pytest.raises(TimeoutError):
            stack.request("GET", "/healthz", via="gunicorn", timeout=2.0)
    finally:
        for sock in attackers:
            sock.close()
    deadline = time.monotonic() + 30
    while True:  # the workers come back once the attackers hang up
        try:
            assert stack.request("GET", "/healthz", via="gunicorn", timeout=2.0).status == 200
            break
        except TimeoutError:
            assert time.monotonic() < deadline, "gunicorn did not recover after the attackers left"
