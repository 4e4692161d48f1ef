"""Readiness probes: does something really answer on a port? Each returns a bool and never
raises, so callers can poll them against a deadline."""

import socket
import ssl
import urllib.error
import urllib.request

HOST = "127.0.0.1"


def tcp_accepts(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _resp_command(*args: str) -> bytes:
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _read_line(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(256)
        if not chunk:
            break
        data += chunk
    return data.strip()


def redis_ping(
    port: int,
    *,
    password: str | None = None,
    tls_context: ssl.SSLContext | None = None,
    host: str = HOST,
    timeout: float = 1.0,
) -> bool:
    """True when a Redis (or Sentinel) answers PING with PONG. Speaks just enough RESP for
    AUTH and PING; a server still loading its dataset answers -LOADING, which is not ready."""
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            # The TLS socket is closed on its own: closing `raw` leaves it open.
            tls_context.wrap_socket(raw, server_hostname=host) if tls_context else raw as sock,
        ):
            if password is not None:
                sock.sendall(_resp_command("AUTH", password))
                if _read_line(sock) != b"+OK":
                    return False
            sock.sendall(_resp_command("PING"))
            return _read_line(sock) == b"+PONG"
    except OSError:
        return False


def http_ok(url: str, timeout: float = 1.0) -> bool:
    """True when GET url answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback URL we build)
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False
