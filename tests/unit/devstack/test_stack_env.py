"""What a Stack tells services and tests, without starting anything."""

import pytest

from devstack.ports import Ports
from devstack.run import service_env
from devstack.stack import Stack, masked
from devstack.suite import suite_env


def test_env_names_every_server_and_keeps_passwords_per_profile(tmp_path):
    stack = Stack("test-50000", root_dir=tmp_path, ports=Ports.test(50000))
    env = stack.env()
    password = stack.passwords["postgres"]
    runtime = stack.passwords["postgres_runtime"]
    assert env == {
        "DATABASE_URL": f"postgresql://kushim:{password}@127.0.0.1:50000/kushim",
        "MIGRATION_DATABASE_URL": f"postgresql://kushim:{password}@127.0.0.1:50000/kushim",
        "DATABASE_RUNTIME_ROLE": "kushim_runtime",
        "RUNTIME_DATABASE_URL": f"postgresql://kushim_runtime:{runtime}@127.0.0.1:50000/kushim",
        "REDIS_URL": "redis://127.0.0.1:50010/0",
        "REDLOCK_URLS": "redis://127.0.0.1:50011/0,redis://127.0.0.1:50012/0,redis://127.0.0.1:50013/0",
        "NEO4J_URI": "bolt://127.0.0.1:50030",
        "NEO4J_USER": "neo4j",
        "NEO4J_PASSWORD": stack.passwords["neo4j"],
    }
    assert (tmp_path / "var" / "test-50000" / "secrets.json").stat().st_mode & 0o777 == 0o600
    again = Stack("test-50000", root_dir=tmp_path, ports=Ports.test(50000))
    assert again.env() == env
    assert (
        Stack("test-50100", root_dir=tmp_path, ports=Ports.test(50100)).passwords != stack.passwords
    )


def test_for_profile_follows_the_port_base(tmp_path):
    stack = Stack.for_profile("test", root_dir=tmp_path, environ={"KUSHIM_TEST_PORT_BASE": "50200"})
    assert stack.profile == "test-50200"
    assert stack.dir == tmp_path / "var" / "test-50200"
    assert Stack.for_profile("run", root_dir=tmp_path).ports == Ports.run()


def test_suite_env_has_plain_and_prefixed_variables(tmp_path):
    stack = Stack("test-50000", root_dir=tmp_path, ports=Ports.test(50000))
    env = suite_env(stack)
    for name, value in stack.env().items():
        assert env[name] == value
        assert env[f"KUSHIM_TEST_{name}"] == value
    assert env["KUSHIM_TEST_PORT_BASE"] == "50000"
    assert env["KUSHIM_TEST_SPARE_PORTS"] == "50040-50099"
    assert env["KUSHIM_TEST_VAR_DIR"] == str(tmp_path / "var" / "test-50000")
    tls = tmp_path / "var" / "test-50000" / "tls"
    assert env["KUSHIM_TEST_GRPC_TLS_DIR"] == str(tls)
    made = {p.name for p in tls.glob("*.crt")}
    assert made == {"ca.crt", "api.crt", "graph.crt", "lockcache.crt", "redis.crt"}


def test_run_uses_the_servers_named_in_the_environment_instead_of_starting_them(tmp_path):
    given = {
        "REDIS_URL": "redis://:pw@10.0.0.5:6379/0",
        "DATABASE_URL": "postgresql://me:pw@db.example:5432/kushim",
        "NEO4J_URI": "bolt://graph.example:7687",
        "NEO4J_USER": "me",
        "NEO4J_PASSWORD": "secret",
        "UNRELATED": "x",
    }
    stack = Stack.for_profile("run", root_dir=tmp_path, environ=given)
    assert stack.servers == []
    assert stack.env() == {k: v for k, v in given.items() if k != "UNRELATED"}


def test_redlock_urls_alone_replace_only_the_lock_masters(tmp_path):
    given = {"REDLOCK_URLS": "redis://10.0.0.1:6379,redis://10.0.0.2:6379", "NEO4J_USER": "me"}
    stack = Stack.for_profile("run", root_dir=tmp_path, environ=given)
    assert [s.name for s in stack.servers] == ["postgres", "redis-cache", "neo4j"]
    env = stack.env()
    assert env["REDLOCK_URLS"] == given["REDLOCK_URLS"]
    assert env["REDIS_URL"] == stack.cache_redis.url
    assert env["NEO4J_USER"] == "neo4j"  # credentials alone would break the local Neo4j's


def test_blank_settings_and_the_test_profile_start_every_server(tmp_path):
    blank = Stack.for_profile("run", root_dir=tmp_path, environ={"REDIS_URL": " "})
    assert len(blank.servers) == 6
    test = Stack.for_profile(
        "test", root_dir=tmp_path, environ={"KUSHIM_TEST_PORT_BASE": "50200", "REDIS_URL": "r"}
    )
    assert len(test.servers) == 6 and test.env()["REDIS_URL"] == test.cache_redis.url


def test_masked_hides_every_password_of_a_url_list():
    assert masked("redis://:p1@a:1,redis://u:p2@b:2/0,redis://c:3") == (
        "redis://:***@a:1,redis://u:***@b:2/0,redis://c:3"
    )
    assert masked("postgresql://me:s3cret@db/kushim") == "postgresql://me:***@db/kushim"


def test_services_run_as_the_runtime_role_only_on_their_own_postgres(tmp_path):
    own = Stack.for_profile("run", root_dir=tmp_path, environ={})
    assert service_env(own)["DATABASE_URL"] == own.env()["RUNTIME_DATABASE_URL"]
    given = "postgresql://me:pw@db.example:5432/kushim"
    external = Stack.for_profile("run", root_dir=tmp_path, environ={"DATABASE_URL": given})
    env = external.env()
    assert env["DATABASE_URL"] == given
    runtime = {"MIGRATION_DATABASE_URL", "DATABASE_RUNTIME_ROLE", "RUNTIME_DATABASE_URL"}
    assert not runtime & set(env)
    assert service_env(external)["DATABASE_URL"] == given


class _Lock:
    def acquire(self, mode):
        pass

    def update(self, **fields):
        pass

    def release(self):
        pass


@pytest.mark.parametrize(("environ", "ensured"), [
    ({}, True),
    ({"DATABASE_URL": "postgresql://me:pw@db.example:5432/kushim"}, False),
])
def test_start_makes_the_runtime_role_only_on_its_own_postgres(tmp_path, monkeypatch, environ,
                                                               ensured):
    stack = Stack.for_profile("run", root_dir=tmp_path, environ=environ)
    roles = []
    monkeypatch.setattr("devstack.stack.reserve_ports", lambda ranges: None)
    monkeypatch.setattr(stack, "lock", _Lock())
    monkeypatch.setattr(stack, "_each_in_parallel", lambda action, abort=None: [])
    monkeypatch.setattr(stack.postgres, "ensure_role", lambda name, pw: roles.append(name))
    stack.start()
    assert roles == (["kushim_runtime"] if ensured else [])
