"""What every bench section gets: the infra's addresses, its own lockcache, a time budget."""

import os
from dataclasses import dataclass, field

from devstack.ports import PortPool


@dataclass
class Context:
    # DATABASE_URL, REDIS_URL, REDLOCK_URLS, NEO4J_* of the bench infra; SEMANTIC_LINKS=off
    env: dict[str, str]
    lockcache_addr: str  # host:port of the lockcache process the bench started
    seconds: float  # how long each measurement runs
    spare_ports: range
    _free_port: PortPool = field(init=False)

    def __post_init__(self) -> None:
        self._free_port = PortPool(self.spare_ports)

    @property
    def redlock_urls(self) -> list[str]:
        return [u for u in self.env["REDLOCK_URLS"].split(",") if u]

    def port(self) -> int:
        """A free port from the bench's spare range."""
        return self._free_port()

    @staticmethod
    def workers(default: int = 64) -> int:
        return int(os.environ.get("BENCH_CLIENTS", default))
