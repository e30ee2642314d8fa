"""The offline guard: with ``BOOK_OFFLINE=1`` the book may not touch the network.

The book ships its data and must never download at run time; the tests and the book
build run with ``BOOK_OFFLINE=1`` so that a stray download fails loudly, with a
message saying why, instead of passing on a machine that happens to be online.
`block_network` patches the `socket` module for the rest of the process; connections
to loopback (a local Jupyter kernel, a test server) stay allowed.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

OFFLINE_ENV_VAR = "BOOK_OFFLINE"

_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex
_original_getaddrinfo = socket.getaddrinfo


class NetworkBlockedError(OSError):
    """A non-loopback connection was attempted while BOOK_OFFLINE=1."""


def offline_requested() -> bool:
    """Whether the environment asks for the guard (``BOOK_OFFLINE=1``)."""
    return os.environ.get(OFFLINE_ENV_VAR) == "1"


def _is_loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    if host.lower() in ("localhost", "localhost.localdomain", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        # A host name other than localhost.
        return False


def _refuse(address: Any) -> NetworkBlockedError:
    return NetworkBlockedError(
        f"{OFFLINE_ENV_VAR}=1: refused a network connection to {address!r}. "
        "The book must not download anything at run time: ship the data with the book "
        "or take it from an installed package."
    )


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
        raise _refuse(address)
    return _original_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
        raise _refuse(address)
    return _original_connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host is not None and not _is_loopback(host):
        raise _refuse(host)
    return _original_getaddrinfo(host, *args, **kwargs)


def block_network() -> None:
    """Refuse every non-loopback connection and name lookup in this process, with a clear error."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _guarded_getaddrinfo


def network_blocked() -> bool:
    """Whether `block_network` is in force in this process."""
    return socket.getaddrinfo is _guarded_getaddrinfo
