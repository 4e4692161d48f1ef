"""The env-name extraction that the manifest cross-check relies on."""

from tests.deploy.support import SERVICES, config_path, env_names_read

SOURCE = '''
def from_env(env, environ):
    return (
        env.get("GOT", ""),
        environ["INDEXED"],
        read_int(env, "READER", 5, minimum=1),
        read_log_level(environ, "LEVEL_VAR"),
        read_str(env, "WITH_DEFAULT", "NOT_A_NAME"),
        other("NOT_READ", 3),
    )
'''


def test_every_call_shape_is_found_and_nothing_else(tmp_path):
    path = tmp_path / "config.py"
    path.write_text(SOURCE)
    assert env_names_read(path) == {"GOT", "INDEXED", "READER", "LEVEL_VAR", "WITH_DEFAULT"}


def test_each_config_reads_its_log_level_and_no_defaults():
    for service in SERVICES:
        names = env_names_read(config_path(service))
        assert "LOG_LEVEL" in names and "BIND_HOST" in names, service
        assert "INFO" not in names, service
