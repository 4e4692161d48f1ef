"""What a Stack tells services and tests, without starting anything."""

from devstack.ports import Ports
from devstack.stack import Stack
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
    assert made == {"ca.crt", "api.crt", "graph.crt", "lockcache.crt"}
