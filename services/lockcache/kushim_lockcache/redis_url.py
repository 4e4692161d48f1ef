"""REDIS_URL forms -> redis-py asyncio clients.

Accepted forms (the Redis guide's):
  redis://host:6379                     redis://:password@host:6379
  redis://user:password@host:6379/0     rediss://... (TLS; CA file from REDIS_TLS_CA_CERT, the
                                        client certificate from REDIS_TLS_CERT/REDIS_TLS_KEY)
  redis://s1:26379,s2:26379,s3:26379?sentinelMasterId=mymaster   (Sentinel; follows failovers;
                                        the sentinels' own password is REDIS_SENTINEL_PASSWORD)
  redis+cluster://h1:7000,h2:7001      rediss+cluster://... (Redis Cluster, the cache only:
                                        any reachable nodes; the client learns the rest)
"""

from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff

# Every call answers within a bounded time while Redis is unreachable: one
# attempt, each step bounded by these socket timeouts. RedisNode.run retries
# a dropped connection itself, and never a timeout (a second wait for a
# silent server would double the cost and rarely help).
SOCKET_TIMEOUT_S = 1.0
CONNECT_TIMEOUT_S = 1.0
CLIENT_NAME = "kushim-lockcache"


@dataclass(frozen=True)
class RedisTarget:
    hosts: tuple[tuple[str, int], ...]
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    db: int = 0
    sentinel_master: str | None = None
    cluster: bool = False

    @property
    def display(self) -> str:
        hosts = ",".join(f"{h}:{p}" for h, p in self.hosts)
        scheme = ("rediss" if self.tls else "redis") + ("+cluster" if self.cluster else "")
        suffix = f"?sentinelMasterId={self.sentinel_master}" if self.sentinel_master else ""
        return f"{scheme}://{hosts}/{self.db}{suffix}"


def _host_port(text: str, default_port: int) -> tuple[str, int]:
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest.lstrip(":")
    else:
        host, _, port_text = text.rpartition(":") if ":" in text else (text, "", "")
    if not host:
        raise ValueError(f"missing host in {text!r}")
    try:
        port = int(port_text) if port_text else default_port
    except ValueError:
        raise ValueError(f"bad port in {text!r}") from None
    if not 0 < port < 65536:
        raise ValueError(f"bad port in {text!r}")
    return host, port


def parse_redis_url(url: str) -> RedisTarget:
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("redis", "rediss", "redis+cluster", "rediss+cluster"):
        raise ValueError(
            "must start with redis://, rediss://, redis+cluster:// or rediss+cluster://"
        )
    cluster = scheme.endswith("+cluster")
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    userinfo, at, hostlist = netloc.rpartition("@")
    if not at:
        hostlist, userinfo = netloc, ""
    username = password = None
    if userinfo:
        user, colon, pw = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(pw) if colon else None
        if not colon:  # redis://password@host is not a form anyone means; be explicit
            raise ValueError("credentials must be user:password@ or :password@")
    params = parse_qs(query)
    master = (params.get("sentinelMasterId") or [None])[0]
    default_port = 26379 if master else 6379
    hosts = tuple(_host_port(h, default_port) for h in hostlist.split(",") if h)
    if not hosts:
        raise ValueError("missing host")
    if len(hosts) > 1 and not master and not cluster:
        raise ValueError("several hosts need ?sentinelMasterId=<name> or redis+cluster://")
    if cluster and master:
        raise ValueError("a cluster has no sentinelMasterId")
    db_text = path.strip("/") or (params.get("db") or ["0"])[0]
    if not db_text.isdigit():
        raise ValueError(f"bad database number {db_text!r}")
    if cluster and db_text != "0":
        raise ValueError("Redis Cluster has database 0 only")
    return RedisTarget(
        hosts=hosts,
        tls=scheme.startswith("rediss"),
        username=username,
        password=password,
        db=int(db_text),
        sentinel_master=master,
        cluster=cluster,
    )


def mask_url(url: str) -> str:
    """The URL with its password replaced by ***, for logs and repr."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, tail = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.partition(":")[0]
    return f"{scheme}{sep}{user}:***@{tail}"


def connect(
    target: RedisTarget,
    *,
    tls_ca_cert: str | None = None,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    sentinel_password: str | None = None,
) -> Redis | RedisCluster:
    """A client for the target; nothing is opened until the first command. With `rediss`
    the sentinels are reached over TLS too, with the same files."""
    common: dict = {
        "socket_timeout": SOCKET_TIMEOUT_S,
        "socket_connect_timeout": CONNECT_TIMEOUT_S,
        "retry": Retry(NoBackoff(), 0),
        "client_name": CLIENT_NAME,  # shows in CLIENT LIST for operators
    }
    if target.tls:
        common["ssl"] = True
        if tls_ca_cert:
            common["ssl_ca_certs"] = tls_ca_cert
        if tls_cert:  # servers with tls-auth-clients ask for it
            common["ssl_certfile"] = tls_cert
            common["ssl_keyfile"] = tls_key
    if target.cluster:
        nodes = [ClusterNode(host, port) for host, port in target.hosts]
        return RedisCluster(
            startup_nodes=nodes, username=target.username, password=target.password, **common
        )
    auth = {"username": target.username, "password": target.password, "db": target.db}
    if target.sentinel_master:
        # Sentinels have a password of their own (requirepass in sentinel.conf), never the
        # data password of the URL.
        sentinel = Sentinel(
            list(target.hosts),
            sentinel_kwargs=dict(common, password=sentinel_password),
            **common,
        )
        return sentinel.master_for(target.sentinel_master, **auth)
    host, port = target.hosts[0]
    return Redis(host=host, port=port, **auth, **common)


async def close(client: Redis | RedisCluster) -> None:
    """Closes the client and, for Sentinel, its connections to the sentinels."""
    await client.aclose()
    pool = getattr(client, "connection_pool", None)  # a cluster client has one per node
    manager = getattr(pool, "sentinel_manager", None)
    for sentinel in getattr(manager, "sentinels", ()):
        await sentinel.aclose()
