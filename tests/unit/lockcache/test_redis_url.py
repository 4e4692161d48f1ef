import pytest
from kushim_lockcache.redis_url import RedisTarget, connect, mask_url, parse_redis_url
from redis.asyncio import Redis


def test_plain():
    assert parse_redis_url("redis://cache:6380") == RedisTarget(hosts=(("cache", 6380),))


def test_default_port_and_db():
    target = parse_redis_url("redis://cache")
    assert target.hosts == (("cache", 6379),)
    assert target.db == 0


def test_password_only():
    target = parse_redis_url("redis://:s3cret@cache:6379")
    assert (target.username, target.password) == (None, "s3cret")


def test_user_password_and_db():
    target = parse_redis_url("redis://app:p%40ss@cache:6379/3")
    assert (target.username, target.password, target.db) == ("app", "p@ss", 3)


def test_tls():
    target = parse_redis_url("rediss://:pw@cache:6380/0")
    assert target.tls
    assert target.hosts == (("cache", 6380),)


def test_sentinel():
    target = parse_redis_url("redis://s1:26379,s2:26380,s3?sentinelMasterId=mymaster")
    assert target.sentinel_master == "mymaster"
    assert target.hosts == (("s1", 26379), ("s2", 26380), ("s3", 26379))


def test_ipv6_host():
    assert parse_redis_url("redis://[::1]:7000").hosts == (("::1", 7000),)


@pytest.mark.parametrize(
    "bad",
    [
        "http://cache:6379",
        "cache:6379",
        "redis://",
        "redis://a:1,b:2",
        "redis://cache:notaport",
        "redis://cache:70000",
        "redis://cache:6379/x",
        "redis://justapassword@cache",
    ],
)
def test_bad_urls_are_refused(bad):
    with pytest.raises(ValueError):
        parse_redis_url(bad)


def test_mask_hides_the_password_only():
    assert mask_url("redis://app:s3cret@cache:6379/0") == "redis://app:***@cache:6379/0"
    assert mask_url("redis://:s3cret@cache") == "redis://:***@cache"
    assert mask_url("redis://cache:6379") == "redis://cache:6379"


def test_display_never_shows_the_password():
    assert "s3cret" not in repr(parse_redis_url("redis://:s3cret@cache"))
    assert "s3cret" not in parse_redis_url("redis://:s3cret@cache").display


async def test_connect_builds_clients_without_connecting():
    plain = connect(parse_redis_url("rediss://:pw@127.0.0.1:1/2"), tls_ca_cert="/ca.pem")
    sentinel = connect(parse_redis_url("redis://127.0.0.1:1,127.0.0.1:2?sentinelMasterId=m"))
    assert isinstance(plain, Redis)
    assert isinstance(sentinel, Redis)
    kwargs = plain.connection_pool.connection_kwargs
    assert kwargs["ssl_ca_certs"] == "/ca.pem"
    assert kwargs["db"] == 2
    assert kwargs["socket_timeout"] > 0
    await plain.aclose()
    await sentinel.aclose()


async def test_connect_presents_a_client_certificate_and_the_sentinel_password():
    target = parse_redis_url("rediss://:data@127.0.0.1:1,127.0.0.1:2?sentinelMasterId=m")
    client = connect(
        target, tls_ca_cert="/ca.pem", tls_cert="/c.pem", tls_key="/c.key",
        sentinel_password="sentinel-pw",  # noqa: S106
    )  # fmt: skip
    manager = client.connection_pool.sentinel_manager
    for sentinel in manager.sentinels:
        kwargs = sentinel.connection_pool.connection_kwargs
        assert kwargs["password"] == "sentinel-pw"  # noqa: S105
        assert (kwargs["ssl_certfile"], kwargs["ssl_keyfile"]) == ("/c.pem", "/c.key")
    assert client.connection_pool.connection_kwargs["password"] == "data"  # noqa: S105
    await client.aclose()


def test_cluster_form_names_any_nodes():
    target = parse_redis_url("redis+cluster://:pw@h1:7000,h2:7001")
    assert target.cluster and not target.tls
    assert target.hosts == (("h1", 7000), ("h2", 7001))
    assert target.password == "pw"  # noqa: S105
    assert parse_redis_url("rediss+cluster://h1:7000").tls


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("redis+cluster://h1:7000/2", "database 0 only"),
        ("redis+cluster://h1:7000?sentinelMasterId=m", "no sentinelMasterId"),
        ("redis://h1:7000,h2:7001", "redis\\+cluster://"),
    ],
)
def test_bad_cluster_forms(url, error):
    with pytest.raises(ValueError, match=error):
        parse_redis_url(url)


async def test_the_cluster_form_makes_a_cluster_client():
    from redis.asyncio.cluster import RedisCluster

    client = connect(parse_redis_url("redis+cluster://127.0.0.1:7000,127.0.0.1:7001"))
    assert isinstance(client, RedisCluster)
    await client.aclose()
