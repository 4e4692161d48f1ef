"""devstack on real servers: a whole Stack of its own (one per module, on free ports of the
suite's spare range KUSHIM_TEST_PORT_BASE+40..99, data under var/devstack-test-<base>/), plus a
lone Redis for the signals chaos tests use. The clean-stop test runs last: it stops the Stack."""

# ruff: noqa: S603, S607 -- running the servers' own client tools is what these tests do

import os
import signal
import socket
import struct
import subprocess
import uuid

import pytest

from devstack.ports import Ports, free_ports, test_port_base
from devstack.probes import redis_ping, tcp_accepts
from devstack.process import StartError
from devstack.profilelock import AlreadyRunning, process_start_time
from devstack.redis import RedisServer
from devstack.stack import Stack

BASE = test_port_base(os.environ)
SPARE = range(BASE + 40, BASE + 100)
PROFILE = f"devstack-test-{BASE}"


@pytest.fixture(scope="module")
def stack():
    postgres, cache, lock1, lock2, lock3, neo4j = free_ports(6, SPARE)
    ports = Ports(
        postgres=postgres, cache_redis=cache, lock_redis=(lock1, lock2, lock3), neo4j=neo4j
    )
    stack = Stack(PROFILE, ports=ports)
    stack.start()
    yield stack
    stack.stop()


def redis_config(port: int, name: str) -> str:
    result = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", str(port), "CONFIG", "GET", name],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.split()[1]


def bolt_version(port: int) -> tuple[int, int]:
    """Bolt handshake: magic, four proposed versions (5.0..5.4 as one range), agreed version."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"\x60\x60\xb0\x17" + struct.pack(">IIII", 0x00040405, 0, 0, 0))
        agreed = sock.recv(4)
    return agreed[3], agreed[2]


def test_postgres_answers_with_the_application_role(stack):
    psql = stack.postgres.bin_dir / "psql"
    result = subprocess.run(
        [
            str(psql),
            "-X",
            "-A",
            "-t",
            "-d",
            stack.env()["DATABASE_URL"],
            "-c",
            "select current_user",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "kushim"
    isready = subprocess.run(
        [
            str(stack.postgres.bin_dir / "pg_isready"),
            "-h",
            "127.0.0.1",
            "-p",
            str(stack.postgres.port),
        ],
        check=False,
    )
    assert isready.returncode == 0


def test_postgres_makes_extra_databases(stack):
    name = f"devstack_{uuid.uuid4().hex[:12]}"
    url = stack.postgres.create_database(name)
    try:
        psql = stack.postgres.bin_dir / "psql"
        result = subprocess.run(
            [str(psql), "-X", "-A", "-t", "-d", url, "-c", "select current_database()"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert result.stdout.strip() == name
    finally:
        stack.postgres.drop_database(name)


def test_cache_evicts_and_lock_masters_never_do(stack):
    assert redis_ping(stack.cache_redis.port)
    assert redis_config(stack.cache_redis.port, "maxmemory-policy") == "allkeys-lru"
    assert redis_config(stack.cache_redis.port, "maxmemory") == str(256 * 1024 * 1024)
    for master in stack.lock_redis:
        assert redis_ping(master.port)
        assert redis_config(master.port, "maxmemory-policy") == "noeviction"


def test_neo4j_speaks_bolt_and_takes_the_password(stack):
    assert bolt_version(stack.neo4j.port)[0] == 5
    neo4j = pytest.importorskip("neo4j")
    env = stack.env()
    auth = (env["NEO4J_USER"], env["NEO4J_PASSWORD"])
    with neo4j.GraphDatabase.driver(env["NEO4J_URI"], auth=auth) as driver:
        records, _, _ = driver.execute_query("RETURN 1 AS one")
    assert records[0]["one"] == 1


def test_env_points_at_every_server(stack):
    env = stack.env()
    ports = stack.ports
    assert env["DATABASE_URL"].endswith(f"@127.0.0.1:{ports.postgres}/kushim")
    assert env["REDIS_URL"] == f"redis://127.0.0.1:{ports.cache_redis}/0"
    assert env["REDLOCK_URLS"].split(",") == [f"redis://127.0.0.1:{p}/0" for p in ports.lock_redis]
    assert env["NEO4J_URI"] == f"bolt://127.0.0.1:{ports.neo4j}"
    assert env["NEO4J_USER"] == "neo4j"


def listening_addresses(port: int) -> set[str]:
    """Local addresses (kernel hex form) of the TCP sockets listening on port."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            next(rows)
            for row in rows:
                local, state = row.split()[1], row.split()[3]
                address, _, hex_port = local.partition(":")
                if state == "0A" and int(hex_port, 16) == port:
                    found.add(address)
    return found


# 127.0.0.1 as IPv4, and as the IPv4-mapped IPv6 address a JVM listens on.
LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F"}


def test_every_server_listens_on_loopback_only(stack):
    for server in stack.servers:
        addresses = listening_addresses(server.port)
        assert addresses, f"{server.name} listens on nothing"
        assert addresses <= LOOPBACK, f"{server.name} listens on {addresses}"


def test_second_start_of_a_running_profile_is_refused(stack):
    second = Stack(PROFILE, ports=stack.ports)
    with pytest.raises(
        AlreadyRunning, match=rf"already running \(pid {os.getpid()}\); stop it first"
    ):
        second.start()
    assert all(stack.running().values())
    assert redis_ping(stack.cache_redis.port)


def test_a_port_in_use_fails_start_in_one_line(stack, tmp_path):
    intruder = RedisServer(tmp_path / "intruder", stack.cache_redis.port, name="intruder")
    with pytest.raises(StartError) as failure:
        intruder.start()
    message = str(failure.value)
    assert "\n" not in message
    assert message.startswith("intruder: port") and "already in use" in message


def test_a_server_that_cannot_start_names_itself_and_the_reason(tmp_path):
    (port,) = free_ports(1, SPARE)
    broken = RedisServer(
        tmp_path / "broken", port, extra_conf={"no-such-directive": "1"}, name="broken"
    )
    with pytest.raises(StartError) as failure:
        broken.start()
    message = str(failure.value)
    assert "\n" not in message
    assert message.startswith("broken exited with code")
    assert "no-such-directive" in message
    assert not broken.running()


def test_pause_resume_kill_and_restart(tmp_path):
    (port,) = free_ports(1, SPARE)
    chaos = RedisServer(tmp_path / "chaos", port, name="chaos")
    chaos.start()
    try:
        chaos.pause()
        assert not redis_ping(port, timeout=0.3)
        chaos.resume()
        assert redis_ping(port)
        chaos.kill()
        assert not chaos.running() and chaos.pid is None
        assert not tcp_accepts(port)
        chaos.start()
        assert redis_ping(port)
        chaos.kill(signal.SIGTERM)  # graceful-ish crash: Redis exits on its own
        chaos.stop()
        assert not chaos.running()
    finally:
        chaos.stop()


def test_stop_ends_every_server_and_frees_the_profile(stack):
    pids = [server.pid for server in stack.servers]
    assert all(pids)
    stack.stop()
    assert all(process_start_time(pid) is None for pid in pids)
    assert not any(tcp_accepts(server.port) for server in stack.servers)
    assert stack.lock.holder() is None
    assert not (stack.dir / "stack.pid").exists()
