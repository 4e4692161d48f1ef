import pytest
from kushim_api.config import Config, ConfigError

GOOD = {"AUTH_TOKEN_SECRET": "x" * 32}


def test_defaults():
    config = Config.from_env(GOOD)
    assert (config.port, config.lockcache_addr, config.graph_addr) == (
        3001, "127.0.0.1:50051", "127.0.0.1:50052")
    assert config.environment == "production" and config.auth_token_ttl_seconds == 86_400


def test_secret_is_masked_in_repr():
    config = Config.from_env({"AUTH_TOKEN_SECRET": "s3cr3t" * 8,
                              "AUTH_TOKEN_PREVIOUS_SECRETS": "0ld-k3y" * 8})
    assert config.auth_token_previous_secrets == ("0ld-k3y" * 8,)
    assert "s3cr3t" not in repr(config) and "0ld-k3y" not in repr(config)
    assert "***" in repr(config)


@pytest.mark.parametrize("env, variable", [
    ({}, "AUTH_TOKEN_SECRET"),
    ({"AUTH_TOKEN_SECRET": "short"}, "AUTH_TOKEN_SECRET"),
    ({**GOOD, "PORT": "http"}, "PORT"),
    ({**GOOD, "PORT": "70000"}, "PORT"),
    ({**GOOD, "GRAPH_ADDR": "nohost"}, "GRAPH_ADDR"),
    ({**GOOD, "INGEST_RATE_LIMIT_PER_USER": "0"}, "INGEST_RATE_LIMIT_PER_USER"),
    ({**GOOD, "SEARCH_OFFSET_MAX": "x"}, "SEARCH_OFFSET_MAX"),
    ({**GOOD, "LOCKCACHE_ADDR": "h:0"}, "LOCKCACHE_ADDR"),
    ({**GOOD, "UPSTREAM_TIMEOUT_MS": "1"}, "UPSTREAM_TIMEOUT_MS"),
    ({**GOOD, "MAX_BODY_BYTES": "-5"}, "MAX_BODY_BYTES"),
    ({**GOOD, "AUTH_TOKEN_PREVIOUS_SECRETS": "short"}, "AUTH_TOKEN_PREVIOUS_SECRETS"),
    ({**GOOD, "TOKEN_VERSION_CACHE_MS": "-1"}, "TOKEN_VERSION_CACHE_MS"),
    ({**GOOD, "METRICS_PORT": "70000"}, "METRICS_PORT"),
    ({**GOOD, "READINESS_CACHE_MS": "-1"}, "READINESS_CACHE_MS"),
    ({**GOOD, "TRUSTED_PROXY_CIDRS": "10.0.0.0/33"}, "TRUSTED_PROXY_CIDRS"),
    ({**GOOD, "PASSWORD_HASH_CONCURRENCY": "0"}, "PASSWORD_HASH_CONCURRENCY"),
    ({**GOOD, "PASSWORD_HASH_QUEUE": "many"}, "PASSWORD_HASH_QUEUE"),
    ({**GOOD, "KUSHIM_ENV": "staging"}, "KUSHIM_ENV"),
    ({**GOOD, "LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ({**GOOD, "TRUST_FORWARDED_FOR": "maybe"}, "TRUST_FORWARDED_FOR"),
    ({**GOOD, "PASSWORD_HASH_PROFILE": "cheapest"}, "PASSWORD_HASH_PROFILE"),
    ({**GOOD, "SHUTDOWN_GRACE_SECONDS": "soon"}, "SHUTDOWN_GRACE_SECONDS"),
    ({**GOOD, "LOGIN_RATE_LIMIT_PER_ACCOUNT": "0"}, "LOGIN_RATE_LIMIT_PER_ACCOUNT"),
    ({**GOOD, "NEAR_CACHE_MAX_ENTRIES": "lots"}, "NEAR_CACHE_MAX_ENTRIES"),
    ({**GOOD, "NEAR_CACHE_MAX_BYTES": "10"}, "NEAR_CACHE_MAX_BYTES"),
])
def test_bad_values_name_the_variable(env, variable):
    with pytest.raises(ConfigError, match=variable):
        Config.from_env(env)


def test_development_allows_the_default_secret_and_cheap_hashing():
    config = Config.from_env({"KUSHIM_ENV": "development", "PASSWORD_HASH_PROFILE": "cheapest"})
    assert config.development and config.auth_token_secret


def test_main_refuses_to_start_without_a_secret(monkeypatch, capsys):
    from kushim_api.__main__ import main

    monkeypatch.delenv("AUTH_TOKEN_SECRET", raising=False)
    monkeypatch.delenv("KUSHIM_ENV", raising=False)
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "AUTH_TOKEN_SECRET" in err
