import pytest
from kushim_lockcache.config import MIB, Config, ConfigError, split_url_list


def test_defaults():
    config = Config.from_env({})
    assert config.port == 50051
    assert config.bind_host == "0.0.0.0"  # noqa: S104
    assert config.redis_url is None
    assert config.redlock_urls == ()
    assert not config.redis_enabled
    assert (config.discovery_lock_ttl_ms, config.lock_retry_count) == (15000, 3)
    assert config.lock_retry_delay_ms == 200
    assert (config.context_group_ttl_s, config.user_profile_ttl_s) == (300, 600)
    assert config.platform_data_ttl_s == 180
    assert config.max_value_bytes == MIB
    assert config.metrics_port == 9101
    assert config.log_level == "INFO"
    assert config.uvloop


def test_uvloop_can_be_turned_off():
    assert not Config.from_env({"LOCKCACHE_UVLOOP": "false"}).uvloop


def test_redlock_defaults_to_redis_url():
    config = Config.from_env({"REDIS_URL": "redis://c:6379"})
    assert config.redlock_urls == ("redis://c:6379",)


def test_overrides():
    config = Config.from_env(
        {
            "REDIS_URL": "redis://c:6379",
            "REDLOCK_URLS": "redis://a:1, redis://b:2,redis://s1:1,s2:2?sentinelMasterId=m",
            "LOCKCACHE_PORT": "6000",
            "BIND_HOST": "127.0.0.1",
            "DISCOVERY_LOCK_TTL_MS": "5000",
            "USER_PROFILE_CACHE_TTL": "60",
            "METRICS_PORT": "0",
            "LOG_LEVEL": "debug",
            "REDIS_TLS_CA_CERT": __file__,
        }
    )
    assert config.redlock_urls == (
        "redis://a:1",
        "redis://b:2",
        "redis://s1:1,s2:2?sentinelMasterId=m",
    )
    assert (config.port, config.bind_host, config.metrics_port) == (6000, "127.0.0.1", 0)
    assert (config.discovery_lock_ttl_ms, config.user_profile_ttl_s) == (5000, 60)
    assert config.log_level == "DEBUG"
    assert config.tls_ca_cert == __file__


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOCKCACHE_PORT", "abc"),
        ("LOCKCACHE_PORT", "0"),
        ("METRICS_PORT", "70000"),
        ("LOCK_RETRY_COUNT", "-1"),
        ("CONTEXT_GROUP_CACHE_TTL", "0"),
        ("CACHE_MAX_VALUE_BYTES", "x"),
        ("REDIS_URL", "http://nope"),
        ("REDLOCK_URLS", "redis://a:1,mysql://b"),
        ("LOG_LEVEL", "LOUD"),
        ("LOCKCACHE_UVLOOP", "sometimes"),
        ("REDIS_TLS_CA_CERT", "/nonexistent/ca.pem"),
        ("REDIS_TLS_CERT", "/nonexistent/client.pem"),
        ("REDIS_TLS_KEY", "/nonexistent/client.key"),
    ],
)
def test_bad_values_name_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        Config.from_env({name: value})


def test_repr_masks_passwords():
    config = Config.from_env(
        {"REDIS_URL": "redis://:hunter2@c:6379", "REDLOCK_URLS": "redis://u:hunter3@a:1"}
    )
    assert "hunter2" not in repr(config)
    assert "hunter3" not in repr(config)
    assert "***" in repr(config)


def test_a_client_certificate_needs_its_key():
    with pytest.raises(ConfigError, match="REDIS_TLS_CERT and REDIS_TLS_KEY"):
        Config.from_env({"REDIS_TLS_CERT": __file__})
    config = Config.from_env({"REDIS_TLS_CERT": __file__, "REDIS_TLS_KEY": __file__})
    assert (config.tls_cert, config.tls_key) == (__file__, __file__)


def test_the_sentinel_password_is_masked():
    config = Config.from_env({"REDIS_SENTINEL_PASSWORD": "hunter4"})
    assert config.sentinel_password == "hunter4"  # noqa: S105
    assert "hunter4" not in repr(config) and "sentinel_password='***'" in repr(config)


def test_split_url_list_keeps_sentinel_hosts_together():
    assert split_url_list("redis://a:1,,redis://b:2") == ["redis://a:1", "redis://b:2"]
    assert split_url_list("redis://s1:1,s2:2?sentinelMasterId=m") == [
        "redis://s1:1,s2:2?sentinelMasterId=m"
    ]


def test_a_cluster_cache_holds_no_locks_unless_redlock_urls_name_masters():
    cluster = "redis+cluster://h1:7000,h2:7001"
    config = Config.from_env({"REDIS_URL": cluster})
    assert config.cluster_cache and config.redlock_urls == ()
    masters = Config.from_env({"REDIS_URL": cluster, "REDLOCK_URLS": "redis://m1,redis://m2"})
    assert masters.redlock_urls == ("redis://m1", "redis://m2")


def test_a_cluster_in_redlock_urls_is_refused_naming_the_variable():
    with pytest.raises(ConfigError, match="^REDLOCK_URLS: a Redis Cluster cannot hold"):
        Config.from_env({"REDLOCK_URLS": "redis+cluster://h1:7000"})
