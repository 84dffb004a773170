"""Benchmarks talk to this machine only: every connection and name lookup beyond loopback is refused.

Install it in every process a benchmark runs (the driver and the bots); a process forked afterwards keeps it.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any


def is_loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if host in (None, "", "localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def install_loopback_guard() -> None:
    real_connect, real_connect_ex, real_getaddrinfo = (socket.socket.connect, socket.socket.connect_ex,
                                                       socket.getaddrinfo)

    def address_ok(address: Any) -> bool:
        if isinstance(address, str | bytes):  # AF_UNIX
            return True
        return is_loopback(address[0] if isinstance(address, tuple) else address)

    def connect(self: socket.socket, address: Any) -> Any:
        if not address_ok(address):
            raise RuntimeError(f"benchmark is loopback-only; refused to connect to {address!r}")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if not address_ok(address):
            raise RuntimeError(f"benchmark is loopback-only; refused to connect to {address!r}")
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_loopback(host):
            raise RuntimeError(f"benchmark is loopback-only; refused to resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = getaddrinfo
