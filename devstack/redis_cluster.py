"""A local Redis Cluster: three masters with one replica each, as `redis-cli --cluster
create` builds it. For the tests of lockcache's cache on a cluster (one per test session)."""

# ruff: noqa: S603 -- running redis-cli from a fixed argv list (no shell) is the job here

import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from devstack.probes import HOST
from devstack.process import StartError
from devstack.redis import RedisServer, _binary

MASTERS = 3
FORM_TIMEOUT_S = 30.0
BUS_PORT_OFFSET = 10_000  # Redis's default cluster bus port is the node's port + 10000
MAX_PORT_WITH_DEFAULT_BUS = 65_535 - BUS_PORT_OFFSET


class RedisCluster:
    """Six redis-servers (`ports`: three masters, then their replicas) joined into one
    cluster. `url` is REDIS_URL's cluster form, naming every node."""

    def __init__(
        self,
        datadir: Path,
        ports: Sequence[int],
        *,
        bus_ports: Sequence[int] | None = None,
        node_timeout_ms: int = 2000,
    ):
        """`bus_ports`: the nodes' cluster bus ports. Redis's default, port + 10000, exists only
        for ports up to 55535, so callers handing out higher ports must give them."""
        if len(ports) != 2 * MASTERS:
            raise ValueError(f"{MASTERS} masters and their replicas need {2 * MASTERS} ports")
        if bus_ports is None:
            if max(ports) > MAX_PORT_WITH_DEFAULT_BUS:
                raise ValueError(
                    f"port {max(ports)} has no default cluster bus port (port + 10000): "
                    "give bus_ports"
                )
            bus_ports = [port + BUS_PORT_OFFSET for port in ports]
        if len(bus_ports) != len(ports):
            raise ValueError(f"{len(ports)} nodes need {len(ports)} bus ports")
        self.nodes = [
            RedisServer(
                datadir / f"node-{port}",
                port,
                maxmemory_policy="allkeys-lru",
                maxmemory="64mb",
                extra_conf={
                    "cluster-enabled": "yes",
                    "cluster-config-file": "nodes.conf",
                    "cluster-port": bus_port,
                    "cluster-node-timeout": node_timeout_ms,
                    # A master whose replica was promoted while it was away rejoins as a
                    # replica; the cluster answers while any slot is served.
                    "cluster-require-full-coverage": "no",
                    # A cache: a replica takes over however stale it is.
                    "cluster-replica-validity-factor": 0,
                },
                name=f"redis-cluster-{port}",
            )
            for port, bus_port in zip(ports, bus_ports, strict=True)
        ]

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"{HOST}:{n.port}" for n in self.nodes)

    def start(self) -> None:
        for node in self.nodes:
            (node.datadir / "nodes.conf").unlink(missing_ok=True)
            node.start()
        self.form()

    def form(self) -> None:
        """Joins the started nodes (empty, never in a cluster) into one."""
        addresses = [f"{HOST}:{n.port}" for n in self.nodes]
        subprocess.run(
            [_binary("redis-cli"), "--cluster", "create", *addresses,
             "--cluster-replicas", "1", "--cluster-yes"],
            capture_output=True, text=True, check=True, timeout=FORM_TIMEOUT_S,
        )  # fmt: skip
        self.wait_until_ok()

    def info(self, node: RedisServer, section: str) -> dict[str, str]:
        out = subprocess.run(
            [_binary("redis-cli"), "-h", HOST, "-p", str(node.port), *section.split()],
            capture_output=True, text=True, check=False, timeout=5,
        ).stdout  # fmt: skip
        return dict(line.split(":", 1) for line in out.splitlines() if ":" in line)

    def master_of(self, slot: int) -> RedisServer:
        """The node serving `slot` now, from CLUSTER NODES ("<id> <ip:port@bus> <flags> ...
        <first-last> ..." per node)."""
        asking = next(n for n in self.nodes if n.running())
        out = subprocess.run(
            [_binary("redis-cli"), "-h", HOST, "-p", str(asking.port), "CLUSTER", "NODES"],
            capture_output=True, text=True, check=True, timeout=5,
        ).stdout  # fmt: skip
        for line in out.splitlines():
            fields = line.split()
            if "master" not in fields[2].split(",") or "fail" in fields[2]:
                continue
            port = int(fields[1].split("@")[0].rsplit(":", 1)[1])
            for span in fields[8:]:
                first, _, last = span.partition("-")
                if first.isdigit() and int(first) <= slot <= int(last or first):
                    return next(n for n in self.nodes if n.port == port)
        raise StartError(f"no master serves slot {slot} of {self.url}")

    def masters(self) -> list[RedisServer]:
        """The nodes that are masters now (a failover changes which)."""
        running = [n for n in self.nodes if n.running()]
        return [n for n in running if self.info(n, "INFO replication").get("role") == "master"]

    def wait_until_ok(self, timeout: float = FORM_TIMEOUT_S) -> None:
        """Until every running node says cluster_state:ok, three masters serve slots and
        every replica finished its sync (one killed mid-sync could not take over)."""
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            running = [n for n in self.nodes if n.running()]
            states = [self.info(n, "CLUSTER INFO").get("cluster_state") for n in running]
            replication = [self.info(n, "INFO replication") for n in running]
            synced = all(
                r.get("master_link_status") == "up" for r in replication if r.get("role") == "slave"
            )
            if all(s == "ok" for s in states) and synced and len(self.masters()) == MASTERS:
                return
            time.sleep(0.2)
        raise StartError(f"redis cluster on {self.url} not ok within {timeout:.0f} s")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
