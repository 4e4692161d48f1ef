"""Config.from_env: defaults, validation naming the variable, masked secrets."""

import pytest
from kushim_graph.config import Config, ConfigError

BASE = {"DATABASE_URL": "postgresql://kushim:hunter2@db:5432/kushim"}


def test_defaults():
    config = Config.from_env(BASE)
    assert config.port == 50052 and config.bind_host == "0.0.0.0"  # noqa: S104
    assert config.lockcache_addr == "127.0.0.1:50051"
    assert config.metrics_port == 9102
    assert config.deterministic_threshold == 0.7
    assert config.max_linking_candidates == 100
    assert config.discovery_lock_ttl_ms == 15_000
    assert config.context_group_cache_ttl == 300
    assert config.semantic_links is True and config.semantic_batch == 64
    assert config.embedding_model_dir == "/opt/kushim/embedding-model"


def test_semantic_settings():
    config = Config.from_env(BASE | {
        "SEMANTIC_LINKS": "off", "EMBEDDING_MODEL_DIR": "/models/minilm", "SEMANTIC_BATCH": "8",
    })
    assert config.semantic_links is False
    assert (config.embedding_model_dir, config.semantic_batch) == ("/models/minilm", 8)


def test_overrides():
    config = Config.from_env(BASE | {
        "GRAPH_PORT": "6000", "BIND_HOST": "127.0.0.1", "LOCKCACHE_ADDR": "lc:1",
        "DETERMINISTIC_THRESHOLD": "0.8", "MAX_LINKING_CANDIDATES": "50", "METRICS_PORT": "0",
        "NEO4J_URI": "neo4j://graph:7687", "LOG_LEVEL": "debug",
    })
    assert (config.port, config.bind_host, config.lockcache_addr) == (6000, "127.0.0.1", "lc:1")
    assert config.deterministic_threshold == 0.8 and config.max_linking_candidates == 50
    assert config.metrics_port == 0 and config.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", ""),
        ("DATABASE_URL", "mysql://x"),
        ("GRAPH_PORT", "http"),
        ("GRAPH_PORT", "70000"),
        ("LOCKCACHE_ADDR", "nohost"),
        ("LOCKCACHE_ADDR", "lc:0"),
        ("DETERMINISTIC_THRESHOLD", "1.5"),
        ("SEMANTIC_LINKS", "maybe"),
        ("SEMANTIC_BATCH", "0"),
        ("MAX_RECORDS_PER_USER", "-1"),
        ("MAX_RECORDS_PER_USER", "many"),
        ("DETERMINISTIC_THRESHOLD", "high"),
        ("MAX_LINKING_CANDIDATES", "0"),
        ("NEO4J_URI", "http://graph"),
        ("LOG_LEVEL", "LOUD"),
        ("DISCOVERY_LOCK_TTL_MS", "5"),
        ("DISCOVERY_LOCK_ATTEMPTS", "0"),
        ("DISCOVERY_LOCK_RETRY_DELAY_MS", "soon"),
        ("NEAR_CACHE_MAX_ENTRIES", "-1"),
        ("NEAR_CACHE_MAX_BYTES", "10"),
    ],
)
def test_bad_values_name_the_variable(name, value):
    with pytest.raises(ConfigError) as caught:
        Config.from_env(BASE | {name: value})
    assert name in str(caught.value)


def test_secrets_are_masked():
    config = Config.from_env(BASE | {"NEO4J_PASSWORD": "s3cr3t-pass"})
    shown = repr(config)
    assert "hunter2" not in shown and "s3cr3t-pass" not in shown
    assert "postgresql://kushim:***@db:5432/kushim" in shown
