import pytest
from kushim_common.envconfig import ConfigError
from kushim_common.grpctls import GrpcSecurity, read_grpc_security


def test_without_settings_the_links_are_plaintext_with_reflection_off():
    assert read_grpc_security({}) == GrpcSecurity(tls=None, reflection=False, health_port=0)


def test_all_three_files_make_mutual_tls(tmp_path):
    env = {}
    for name in ("GRPC_TLS_CA_CERT", "GRPC_TLS_CERT", "GRPC_TLS_KEY"):
        (tmp_path / name).write_text("pem")
        env[name] = str(tmp_path / name)
    tls = read_grpc_security(env).tls
    assert (tls.ca_cert, tls.cert, tls.key) == tuple(env.values())


def test_one_file_without_the_others_names_the_missing_one(tmp_path):
    (tmp_path / "cert").write_text("pem")
    with pytest.raises(ConfigError, match="^GRPC_TLS_CA_CERT must be set with GRPC_TLS_CERT"):
        read_grpc_security({"GRPC_TLS_CERT": str(tmp_path / "cert")})


def test_a_missing_file_names_its_variable(tmp_path):
    (tmp_path / "pem").write_text("pem")
    env = {name: str(tmp_path / "pem") for name in ("GRPC_TLS_CA_CERT", "GRPC_TLS_CERT")}
    env["GRPC_TLS_KEY"] = str(tmp_path / "nope")
    with pytest.raises(ConfigError, match="^GRPC_TLS_KEY: no such file"):
        read_grpc_security(env)


@pytest.mark.parametrize(
    ("name", "value"), [("GRPC_REFLECTION", "maybe"), ("GRPC_HEALTH_PORT", "x")]
)
def test_bad_reflection_or_health_port_names_the_variable(name, value):
    with pytest.raises(ConfigError, match=f"^{name}"):
        read_grpc_security({name: value})
