"""One configuration convention for the three services: a bad value stops the start with the
same one-line message and exit code, and no secret reaches a Config's repr."""

from dataclasses import dataclass

import pytest
from kushim_api.config import Config as ApiConfig
from kushim_common.envconfig import (
    EXIT_BAD_CONFIG,
    ConfigError,
    config_repr,
    load_or_exit,
    mask_secret,
    secret,
)
from kushim_graph.config import Config as GraphConfig
from kushim_lockcache.config import Config as LockcacheConfig

GRAPH_BASE = {"DATABASE_URL": "postgresql://kushim:pw@db:5432/kushim"}


@pytest.mark.parametrize("service, from_env, env, variable", [
    ("kushim-api", ApiConfig.from_env, {"AUTH_TOKEN_SECRET": "x" * 32, "PORT": "http"}, "PORT"),
    ("kushim-graph", GraphConfig.from_env, {**GRAPH_BASE, "DB_POOL_SIZE": "many"},
     "DB_POOL_SIZE"),
    ("kushim-lockcache", LockcacheConfig.from_env, {"LOCK_RETRY_COUNT": "-1"},
     "LOCK_RETRY_COUNT"),
])
def test_a_bad_value_exits_2_with_one_line_naming_the_variable(
    capsys, service, from_env, env, variable
):
    with pytest.raises(SystemExit) as exited:
        load_or_exit(service, from_env, env)
    assert exited.value.code == EXIT_BAD_CONFIG == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{service}: configuration error: {variable} ")
    assert err.count("\n") == 1 and err.endswith("\n")


def test_good_values_give_the_config_and_print_nothing(capsys):
    config = load_or_exit("kushim-lockcache", LockcacheConfig.from_env, {"LOCK_RETRY_COUNT": "5"})
    assert config.lock_retry_count == 5
    assert capsys.readouterr() == ("", "")


def test_only_a_config_error_is_turned_into_the_exit():
    def broken(_env):
        raise RuntimeError("a bug, not a bad value")

    with pytest.raises(RuntimeError):
        load_or_exit("kushim-api", broken, {})


@dataclass(frozen=True)
class Sample:
    name: str = "n"
    key: str = secret("")
    url: str = secret("", mask=lambda u: u.split("@")[-1])
    keys: tuple[str, ...] = secret(())

    __repr__ = config_repr


def test_config_repr_masks_secrets_that_are_set_and_shows_unset_ones_as_they_are():
    assert repr(Sample()) == "Sample(name='n', key='', url='', keys=())"
    shown = repr(Sample(key="k3y", url="redis://:pw@host", keys=("k1", "k2")))
    assert shown == "Sample(name='n', key='***', url='host', keys=('***', '***'))"


def test_mask_secret_keeps_the_count_of_a_tuple():
    assert mask_secret("s") == "***" and mask_secret(("a", "b")) == ("***", "***")


@pytest.mark.parametrize("config", [
    ApiConfig.from_env({"AUTH_TOKEN_SECRET": "s3cr3t" * 8}),
    GraphConfig.from_env({**GRAPH_BASE, "NEO4J_PASSWORD": "s3cr3t-neo",
                          "MIGRATION_DATABASE_URL": "postgresql://owner:s3cr3t-own@db/kushim"}),
    LockcacheConfig.from_env({"REDIS_URL": "redis://:s3cr3t@cache:6379/0",
                              "REDLOCK_URLS": "redis://:s3cr3t@lock:6379/0"}),
])
def test_no_service_shows_a_secret_in_its_config_repr(config):
    shown = repr(config)
    assert "s3cr3t" not in shown and "***" in shown


def test_config_error_is_a_value_error_naming_the_variable():
    assert issubclass(ConfigError, ValueError)
