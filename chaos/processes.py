"""What starting Kushim service processes needs: their environment, readiness probes and a
buffer that keeps what they print."""

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

REPO = Path(__file__).resolve().parents[1]
PYTHONPATH = os.pathsep.join(
    str(REPO / p) for p in ("gen", "services/api", "services/lockcache", "services/graph",
                            "services/common", "cli")
)


class LogBuffer:
    """A TextIO stand-in that keeps the lines a ServiceProcess relays."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._lines.extend(line for line in text.splitlines() if line.strip())
        return len(text)

    def flush(self) -> None:
        return None

    def lines(self) -> list[str]:
        with self._lock:
            return list(self._lines)


def base_env(**extra: str) -> dict[str, str]:
    """Services started together share one Redis, and so the gateways' per-address counters
    (every client comes from 127.0.0.1): those limits are lifted unless a caller sets them."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": PYTHONPATH,
        "BIND_HOST": "127.0.0.1",
        "METRICS_PORT": "0",
        "LOGIN_RATE_LIMIT_PER_IP": "1000000",
        "REGISTER_RATE_LIMIT_PER_IP": "1000000",
        **extra,
    }


def grpc_serving(addr: str) -> bool:
    try:
        with grpc.insecure_channel(addr) as channel:
            answer = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=1
            )
            return answer.status == health_pb2.HealthCheckResponse.SERVING
    except grpc.RpcError:
        return False


LAST_READINESS: dict[int, str] = {}


def http_ready(port: int) -> bool:
    """The api's readinessProbe: GET /health/ready answers 200."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.settimeout(5)
            sock.sendall(b"GET /health/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
    except OSError as exc:
        LAST_READINESS[port] = repr(exc)
        return False
    LAST_READINESS[port] = answer.decode(errors="replace")
    status_line = answer.split(b"\r\n", 1)[0].split()
    return len(status_line) > 1 and status_line[1] == b"200"


def migrate(database_url: str) -> None:
    subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "kushim_graph.migrate"],
        env=base_env(DATABASE_URL=database_url), check=True, cwd=REPO,
        capture_output=True, timeout=120,
    )
