"""What every bench section gets: the infra's addresses, its own lockcache, a time budget."""

import os
import socket
from dataclasses import dataclass, field


@dataclass
class Context:
    env: dict[str, str]  # DATABASE_URL, REDIS_URL, REDLOCK_URLS, NEO4J_* of the bench infra
    lockcache_addr: str  # host:port of the lockcache process the bench started
    seconds: float  # how long each measurement runs
    spare_ports: range
    _used: set[int] = field(default_factory=set)

    @property
    def redlock_urls(self) -> list[str]:
        return [u for u in self.env["REDLOCK_URLS"].split(",") if u]

    def port(self) -> int:
        """A free port from the bench's spare range."""
        for port in self.spare_ports:
            if port in self._used:
                continue
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
            self._used.add(port)
            return port
        raise RuntimeError(f"no free port in {self.spare_ports}")

    @staticmethod
    def workers(default: int = 64) -> int:
        return int(os.environ.get("BENCH_CLIENTS", default))
