"""Every overlay renders, and each is the deployment the issue describes."""

import base64
import re

import pytest
from kushim_lockcache.config import split_url_list
from kushim_lockcache.redis_url import parse_redis_url

from tests.deploy.conftest import kustomize_build
from tests.deploy.support import K8S, SERVICES, containers, pod_spec


def test_base_renders_alone(tool_bin, k8s_tree):
    text = kustomize_build(tool_bin, k8s_tree / "base")
    assert "kind: Deployment" in text


def test_overlay_has_the_three_services(overlay):
    for service in SERVICES:
        overlay.get("Deployment", service)
        overlay.get("Service", service)
        overlay.get("ServiceAccount", service)
        overlay.get("PodDisruptionBudget", service)
    overlay.get("HorizontalPodAutoscaler", "api")
    overlay.get("Job", "graph-migrate")
    namespaces = {
        o["metadata"].get("namespace") for o in overlay.objects if o["kind"] != "Namespace"
    }
    assert namespaces == {"kushim"}
    ns = overlay.get("Namespace", "kushim")
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_no_secret_values_in_git():
    """Only templates with placeholders are committed; real values come from elsewhere."""
    for path in K8S.rglob("*"):
        if not path.is_file() or "secrets.example" in path.parts:
            continue
        if path.parent.name == "secrets" and path.suffix == ".env":
            continue  # a developer's generated, git-ignored dev secrets
        text = path.read_text()
        assert not re.search(r"redis://:[0-9a-f]{16,}@", text), path
        assert "kind: Secret\n" not in text, f"{path}: Secrets are generated or created by name"
    ignore = (K8S / "overlays" / "dev" / "secrets" / ".gitignore").read_text()
    assert "*.env" in ignore.splitlines()


def test_prod_creates_no_secret(rendered):
    assert rendered["prod"].of_kind("Secret") == []


def test_dev_is_a_whole_kushim(rendered):
    dev = rendered["dev"]
    for name in ("redis", "postgres", "neo4j"):
        sts = dev.get("StatefulSet", name)
        assert sts["spec"]["volumeClaimTemplates"], f"{name} keeps its data on a PVC"
        dev.get("Service", name)
    redis_conf = dev.configmap("redis-conf")["data"]["redis.conf"]
    assert re.search(r"^appendonly yes$", redis_conf, re.M)
    # The dev Redis holds the locks too, so it must not evict.
    assert re.search(r"^maxmemory-policy noeviction$", redis_conf, re.M)
    command = " ".join(containers(dev.get("StatefulSet", "redis"))[0]["command"])
    assert "requirepass" in command


def test_dev_secrets_agree(rendered):
    """The generated passwords match between servers and the URLs that reach them."""
    secrets = {
        s["metadata"]["name"].rsplit("-", 1)[0]: s for s in rendered["dev"].of_kind("Secret")
    }

    def value(secret: str, key: str) -> str:
        data = secrets[secret].get("data") or {}
        return base64.b64decode(data[key]).decode()

    redis_pw = value("redis-auth", "REDIS_PASSWORD")
    for key in ("REDIS_URL", "REDLOCK_URLS"):
        for url in split_url_list(value("lockcache-secrets", key)):
            assert parse_redis_url(url).password == redis_pw
    pg_pw = value("postgres-auth", "POSTGRES_PASSWORD")
    assert f":{pg_pw}@postgres:5432/" in value("graph-secrets", "DATABASE_URL")
    assert value("neo4j-auth", "NEO4J_AUTH") == "neo4j/" + value("graph-secrets", "NEO4J_PASSWORD")


def _conf(text: str) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, rest = line.partition(" ")
            result.setdefault(key.lower(), []).append(rest.strip())
    return result


def test_prod_redis_topology(rendered):
    prod = rendered["prod"]
    assert prod.get("StatefulSet", "redis-cache")["spec"]["replicas"] == 2  # master + replica
    assert prod.get("StatefulSet", "redis-sentinel")["spec"]["replicas"] == 3
    lock = prod.get("StatefulSet", "redis-lock")
    assert lock["spec"]["replicas"] == 3
    assert lock["spec"]["volumeClaimTemplates"], "lock masters keep their AOF on a PVC"
    # Redlock masters must be independent: never two on one node.
    anti = pod_spec(lock)["affinity"]["podAntiAffinity"]
    assert anti["requiredDuringSchedulingIgnoredDuringExecution"]


@pytest.mark.parametrize("name", ["cache.conf", "lock.conf"])
def test_prod_redis_conf_is_hardened(rendered, name):
    conf = _conf(rendered["prod"].configmap("redis-conf")["data"][name])
    assert conf["protected-mode"] == ["yes"]
    for key in ("timeout", "tcp-backlog", "maxclients", "maxmemory", "include"):
        assert key in conf, f"{name}: {key}"
    renamed = {v.split()[0].upper(): v.split()[1:] for v in conf["rename-command"]}
    assert renamed["FLUSHALL"] == ['""'] and renamed["FLUSHDB"] == ['""']
    if name == "cache.conf":
        assert conf["maxmemory-policy"] == ["allkeys-lru"]
    else:
        assert conf["maxmemory-policy"] == ["noeviction"]
        assert conf["appendonly"] == ["yes"]


# Redis's units (kb/mb/gb are binary, k/m/g decimal) and Kubernetes's binary ones.
UNITS = {"k": 1000, "m": 1000**2, "g": 1000**3, "kb": 1024, "mb": 1024**2, "gb": 1024**3,
         "ki": 1024, "mi": 1024**2, "gi": 1024**3}


def _bytes(text: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([a-zA-Z]*)", text).groups()
    return int(number) * UNITS.get(unit.lower(), 1)


@pytest.mark.parametrize(("name", "workload"), [("cache.conf", "redis-cache"),
                                                ("lock.conf", "redis-lock")])
def test_prod_redis_memory_follows_the_sizing_rule(rendered, name, workload):
    """deploy/k8s/README.md, "Redis sizing": the container gets 1.5 x maxmemory, for the
    fork of a replica sync or an AOF rewrite, client buffers and fragmentation."""
    conf = _conf(rendered["prod"].configmap("redis-conf")["data"][name])
    maxmemory = _bytes(conf["maxmemory"][0])
    redis = next(c for c in containers(rendered["prod"].get("StatefulSet", workload))
                 if c["name"] == "redis")
    resources = redis["resources"]
    assert resources["requests"]["memory"] == resources["limits"]["memory"]
    assert _bytes(resources["limits"]["memory"]) >= 1.5 * maxmemory


def test_prod_config_command_renamed_at_start(rendered):
    scripts = rendered["prod"].configmap("redis-scripts")["data"]
    for script in ("cache-start.sh", "lock-start.sh"):
        assert "rename-command CONFIG %s" in scripts[script]
    # Sentinel reconfigures failed-over instances through the renamed command.
    assert (
        "sentinel rename-command mymaster CONFIG $REDIS_CONFIG_COMMAND"
        in scripts["sentinel-start.sh"]
    )


def _example(name: str) -> dict[str, str]:
    path = K8S / "overlays" / "prod" / "secrets.example" / f"{name}.env"
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k: v for k, v in pairs}


def test_prod_redis_urls_point_at_the_right_redis(rendered):
    prod = rendered["prod"]
    example = _example("lockcache-secrets")
    cache = parse_redis_url(example["REDIS_URL"])
    assert cache.sentinel_master == "mymaster"
    sentinels = prod.get("StatefulSet", "redis-sentinel")["spec"]["replicas"]
    assert sorted(cache.hosts) == [
        (f"redis-sentinel-{i}.redis-sentinel", 26379) for i in range(sentinels)
    ]
    locks = [parse_redis_url(u) for u in split_url_list(example["REDLOCK_URLS"])]
    replicas = prod.get("StatefulSet", "redis-lock")["spec"]["replicas"]
    assert sorted(t.hosts[0] for t in locks) == [
        (f"redis-lock-{i}.redis-lock", 6379) for i in range(replicas)
    ]
    assert all(t.sentinel_master is None for t in locks)


def test_migration_job_applies_alone(rendered):
    """`kubectl apply -k ... -l app.kubernetes.io/component=migrate` runs the migrations
    ahead of a release: the selected objects must be all the Job needs but its Secret."""
    prod = rendered["prod"]
    selected = {
        (o["kind"], o["metadata"]["name"])
        for o in prod.objects
        if o["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "migrate"
    }
    assert selected == {
        ("Job", "graph-migrate"),
        ("ServiceAccount", "graph-migrate"),
        ("NetworkPolicy", "graph-migrate-egress-postgres"),
    }
    job = prod.get("Job", "graph-migrate")
    for container in containers(job):
        assert not container.get("envFrom")
        for var in container.get("env") or []:
            assert "configMapKeyRef" not in var.get("valueFrom", {}), var["name"]
