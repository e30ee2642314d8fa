"""`companion.offline`: with BOOK_OFFLINE=1, `companion.setup` refuses non-loopback connections.

Each check runs in a fresh interpreter, because the guard patches the `socket` module
for the rest of the process. Nothing here may reach the internet even if the guard is
broken: proxy variables are removed (a proxy on loopback would be allowed through),
the raw-socket checks aim at 192.0.2.1 (TEST-NET-1, RFC 5737: never routed), and
the URL check fails on a DNS lookup here without the guard. So the tests assert on
`NetworkBlockedError` and its BOOK_OFFLINE message, not merely on some failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNROUTABLE = "192.0.2.1"

_OFFLINE_SCRIPT = (
    r"""
import contextlib, http.server, io, json, socket, threading, urllib.request
import companion
from companion.offline import network_blocked

UNROUTABLE = %r
result = {"blocked_before_setup": network_blocked()}
with contextlib.redirect_stdout(io.StringIO()):
    companion.setup(seed=0)
result["blocked"] = network_blocked()


def describe(error):
    # The error and everything it wraps (URLError keeps the cause in .reason).
    chain, seen = [], error
    while isinstance(seen, BaseException) and len(chain) < 10:
        chain.append({"type": type(seen).__name__, "text": str(seen),
                      "blocked": isinstance(seen, companion.NetworkBlockedError)})
        reason = getattr(seen, "reason", None)
        seen = reason if isinstance(reason, BaseException) else (seen.__cause__ or seen.__context__)
    return chain


def attempt(name, action):
    try:
        action()
        result[name] = "no error"
    except Exception as error:
        result[name] = describe(error)


attempt("urlopen", lambda: urllib.request.urlopen("http://example.com", timeout=5))
attempt("create_connection", lambda: socket.create_connection((UNROUTABLE, 80), timeout=5))


def raw(method):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        getattr(s, method)((UNROUTABLE, 80))


attempt("connect", lambda: raw("connect"))
attempt("connect_ex", lambda: raw("connect_ex"))
attempt("getaddrinfo", lambda: socket.getaddrinfo("example.com", 80))


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"hello from loopback")

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Hello)
threading.Thread(target=server.serve_forever, daemon=True).start()
port = server.server_address[1]
for host in ("127.0.0.1", "localhost"):
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/", timeout=5) as response:
            result["loopback " + host] = response.read().decode()
    except Exception as error:
        result["loopback " + host] = describe(error)
server.shutdown()
print(json.dumps(result))
"""
    % UNROUTABLE
)

_PLAIN_SCRIPT = r"""
import contextlib, io, json, socket
import companion
from companion.offline import network_blocked
original = socket.getaddrinfo
with contextlib.redirect_stdout(io.StringIO()):
    companion.setup(seed=0)
same = socket.getaddrinfo is original
print(json.dumps({"blocked": network_blocked(), "same_getaddrinfo": same}))
"""

_PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy"}


def _run(script: str, offline: str | None) -> dict:
    env = {
        k: v for k, v in os.environ.items() if k.lower() not in _PROXY_VARS and k != "BOOK_OFFLINE"
    }
    if offline is not None:
        env["BOOK_OFFLINE"] = offline
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def offline() -> dict:
    return _run(_OFFLINE_SCRIPT, offline="1")


def _refused(chain: object) -> bool:
    """Whether the error chain holds a NetworkBlockedError whose message names BOOK_OFFLINE."""
    assert isinstance(chain, list), f"expected an error, got {chain!r}"
    return any(link["blocked"] and "BOOK_OFFLINE=1" in link["text"] for link in chain)


def test_setup_installs_the_guard(offline: dict) -> None:
    assert offline["blocked_before_setup"] is False
    assert offline["blocked"] is True


def test_urlopen_fails_with_a_message_naming_book_offline(offline: dict) -> None:
    chain = offline["urlopen"]
    assert _refused(chain), chain
    assert "BOOK_OFFLINE" in chain[0]["text"]  # what the reader sees on the outermost error


@pytest.mark.parametrize("attempt", ["create_connection", "connect", "connect_ex", "getaddrinfo"])
def test_non_loopback_connections_raise_network_blocked_error(offline: dict, attempt: str) -> None:
    chain = offline[attempt]
    assert isinstance(chain, list), f"{attempt} did not fail: {chain!r}"
    assert chain[0]["type"] == "NetworkBlockedError", chain
    assert _refused(chain[:1])


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_loopback_server_is_still_reachable(offline: dict, host: str) -> None:
    assert offline["loopback " + host] == "hello from loopback"


@pytest.mark.parametrize("value", [None, "0"])
def test_without_book_offline_the_network_is_left_alone(value: str | None) -> None:
    result = _run(_PLAIN_SCRIPT, offline=value)
    assert result == {"blocked": False, "same_getaddrinfo": True}
