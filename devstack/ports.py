"""Which ports a profile uses, spare ones handed out in turn, and keeping the kernel from
lending them to client sockets."""

import contextlib
import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

RESERVED_PORTS = Path("/proc/sys/net/ipv4/ip_local_reserved_ports")

DEFAULT_TEST_PORT_BASE = 54400
TEST_PORT_BASE_VAR = "KUSHIM_TEST_PORT_BASE"


@dataclass(frozen=True)
class Ports:
    postgres: int
    cache_redis: int
    lock_redis: tuple[int, int, int]
    neo4j: int
    spare: range = range(0)  # free for tests that start their own servers

    @classmethod
    def run(cls) -> "Ports":
        return cls(postgres=54320, cache_redis=63790, lock_redis=(63791, 63792, 63793), neo4j=17687)

    @classmethod
    def test(cls, base: int) -> "Ports":
        return cls(
            postgres=base,
            cache_redis=base + 10,
            lock_redis=(base + 11, base + 12, base + 13),
            neo4j=base + 30,
            spare=range(base + 40, base + 100),
        )

    def ranges(self) -> list[tuple[int, int]]:
        ports = [self.postgres, self.cache_redis, *self.lock_redis, self.neo4j]
        ranges = [(port, port) for port in ports]
        if self.spare:
            ranges.append((self.spare.start, self.spare.stop - 1))
        return ranges


def test_port_base(environ: Mapping[str, str] = os.environ) -> int:
    raw = environ.get(TEST_PORT_BASE_VAR, str(DEFAULT_TEST_PORT_BASE))
    try:
        base = int(raw)
    except ValueError:
        raise ValueError(f"{TEST_PORT_BASE_VAR} must be a port number, got {raw!r}") from None
    if not 1024 <= base <= 65535 - 100:
        raise ValueError(f"{TEST_PORT_BASE_VAR} must be between 1024 and 65435, got {base}")
    return base


test_port_base.__test__ = False  # a test-profile helper, not a test: pytest must not collect it


def reserve_ports(ranges: list[tuple[int, int]]) -> None:
    """Add ranges to the kernel's ip_local_reserved_ports, when we may (root, writable /proc).

    Most of our ports lie in Linux's ephemeral range (32768-60999), so any client connection on
    the machine (a test's Redis client, say) can be given one as its source port, and a server
    started later fails to bind it ("Address already in use"; Neo4j's Bolt does, Redis and
    PostgreSQL set SO_REUSEADDR and mostly escape). Reserved ports are still bindable explicitly;
    the kernel only stops handing them out. The setting is per network namespace and lasts until
    reboot. Without permission this is skipped: collisions are then merely rare."""
    if os.geteuid() != 0:
        return
    with contextlib.suppress(OSError, ValueError):
        current = _parse_ranges(RESERVED_PORTS.read_text())
        wanted = _merge(current + ranges)
        if wanted != _merge(current):
            RESERVED_PORTS.write_text(_format_ranges(wanted) + "\n")
            log.debug("reserved ports %s", _format_ranges(ranges))


def _parse_ranges(text: str) -> list[tuple[int, int]]:
    ranges = []
    for part in text.strip().split(","):
        if part.strip():
            low, _, high = part.strip().partition("-")
            ranges.append((int(low), int(high or low)))
    return ranges


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def _format_ranges(ranges: list[tuple[int, int]]) -> str:
    return ",".join(str(low) if low == high else f"{low}-{high}" for low, high in ranges)


def free_ports(count: int, candidates: range) -> list[int]:
    """`count` ports of `candidates` that nothing is bound to right now. Probed with
    SO_REUSEADDR, as servers bind, so TIME_WAIT leftovers don't count as taken."""
    found: list[int] = []
    for port in candidates:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == count:
            return found
    raise RuntimeError(f"fewer than {count} free ports in {candidates.start}-{candidates.stop - 1}")


class PortPool:
    """Hands out ports of `candidates` that nothing is bound to, round and round (a killed
    service's replacement gets a fresh one while the old one lingers in TIME_WAIT)."""

    def __init__(self, candidates: range) -> None:
        self.candidates = candidates
        self._next = 0

    def __call__(self) -> int:
        turn = self._next % len(self.candidates)
        for part in (self.candidates[turn:], self.candidates[:turn]):
            with contextlib.suppress(RuntimeError):  # none free in this part
                (port,) = free_ports(1, part)
                self._next = self.candidates.index(port) + 1
                return port
        raise RuntimeError(f"no free port in {self.candidates}")
