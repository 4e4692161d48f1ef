"""The manifests against the code: env var names, ports, probe paths, secret keys, drain time."""

import base64
import dataclasses
import importlib
import re
import tempfile
from pathlib import Path

import pytest

from tests.deploy.support import (
    K8S,
    OVERLAYS,
    SERVICES,
    Rendered,
    config_class,
    config_path,
    container_env,
    containers,
    env_names_read_by,
    pod_spec,
)

# Kushim workloads -> the service whose code (and config.py) they run.
KUSHIM_WORKLOADS = {
    ("Deployment", "api"): "api",
    ("Deployment", "lockcache"): "lockcache",
    ("Deployment", "graph"): "graph",
    ("Job", "graph-migrate"): "graph",
}
CASES = [(o, k, n) for o in OVERLAYS for (k, n) in KUSHIM_WORKLOADS]
IDS = [f"{o}-{k}-{n}" for o, k, n in CASES]
SERVICE_PORT_FIELDS = {
    "api": {"http": "port"},
    "lockcache": {"grpc": "port"},
    "graph": {"grpc": "port"},
}
METRICS = {"lockcache", "graph"}
GRPC_SERVICES = {"lockcache", "graph"}


def test_every_service_has_its_config_module():
    for service in SERVICES:
        assert config_path(service).is_file(), config_path(service)


def secret_value(rendered: Rendered, secret: str, key: str) -> str:
    """dev: the generated Secret; prod: the committed template (placeholder values)."""
    if rendered.overlay == "prod":
        return example_keys(secret)[key]
    obj = rendered.by_name("Secret", secret)
    assert obj is not None, f"dev: no Secret {secret}"
    return base64.b64decode(obj["data"][key]).decode()


def example_keys(secret: str) -> dict[str, str]:
    path = K8S / "overlays" / "prod" / "secrets.example" / f"{secret}.env"
    assert path.is_file(), f"prod: no template {path.relative_to(K8S)} for Secret {secret}"
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def main_container(rendered: Rendered, kind: str, name: str) -> dict:
    return pod_spec(rendered.get(kind, name))["containers"][0]


def full_env(rendered: Rendered, container: dict) -> dict[str, str]:
    """The container's env; paths into its Secret volumes point at copies of those files
    in a temporary dir (from_env checks that the files exist)."""
    env = container_env(rendered, container)
    values = dict(env.values)
    for name, (secret, key) in env.secret_refs.items():
        values[name] = secret_value(rendered, secret, key)
    files = Path(tempfile.mkdtemp(prefix="kushim-mounts-"))
    for mount, secret in secret_mounts(rendered, container).items():
        for name, value in values.items():
            if value.startswith(mount + "/"):
                copy = files / secret / value[len(mount) + 1 :]
                copy.parent.mkdir(parents=True, exist_ok=True)
                copy.write_text(secret_value(rendered, secret, copy.name))
                values[name] = str(copy)
    return values


def secret_mounts(rendered: Rendered, container: dict) -> dict[str, str]:
    """mountPath -> Secret name, for the container's Secret volumes."""
    workload = next(w for w in rendered.workloads() if container in pod_spec(w)["containers"])
    secrets = {
        v["name"]: v["secret"]["secretName"]
        for v in pod_spec(workload).get("volumes") or []
        if "secret" in v
    }
    return {
        m["mountPath"]: secrets[m["name"]]
        for m in container.get("volumeMounts") or []
        if m["name"] in secrets
    }


@pytest.mark.parametrize(("overlay_name", "kind", "name"), CASES, ids=IDS)
def test_env_names_are_read_by_the_code(rendered, overlay_name, kind, name):
    service = KUSHIM_WORKLOADS[(kind, name)]
    read = env_names_read_by(service)
    env = container_env(rendered[overlay_name], main_container(rendered[overlay_name], kind, name))
    given = set(env.values) | set(env.secret_refs)
    assert given, "no environment at all?"
    assert given <= read, f"set but never read by kushim_{service}: {sorted(given - read)}"


@pytest.mark.parametrize(("overlay_name", "kind", "name"), CASES, ids=IDS)
def test_config_starts_from_the_manifest_env(rendered, overlay_name, kind, name):
    """Config.from_env raises, naming the variable, when a required one is missing or
    bad: passing here means every required variable is provided, with a valid value."""
    service = KUSHIM_WORKLOADS[(kind, name)]
    container = main_container(rendered[overlay_name], kind, name)
    env = full_env(rendered[overlay_name], container)
    config_class(service).from_env(env)


@pytest.mark.parametrize("service", SERVICES)
def test_required_vars_are_detected(service, rendered):
    """The control for the test above: dropping a secret-held variable that the code
    requires makes from_env fail (or the variable is optional in the code)."""
    env = full_env(rendered["prod"], main_container(rendered["prod"], "Deployment", service))
    Config = config_class(service)
    refs = container_env(rendered["prod"], main_container(rendered["prod"], "Deployment", service))
    for name in refs.secret_refs:
        reduced = {k: v for k, v in env.items() if k != name}
        try:
            Config.from_env(reduced)
        except ValueError as exc:
            assert name in str(exc), f"{service}: error does not name {name}: {exc}"


def _defaults(service: str) -> dict[str, object]:
    return {
        f.name: f.default
        for f in dataclasses.fields(config_class(service))
        if f.default is not dataclasses.MISSING
    }


@pytest.mark.parametrize("overlay_name", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_ports_match_the_code(rendered, overlay_name, service):
    r = rendered[overlay_name]
    container = main_container(r, "Deployment", service)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    config = config_class(service).from_env(full_env(r, container))
    # The plaintext health-only port is for the kubelet alone: off in the code by default,
    # on in the manifests, and not on the Service.
    if service in GRPC_SERVICES:
        assert ports.pop("health") == config.grpc.health_port != 0, service
    defaults = _defaults(service)
    fields = dict(SERVICE_PORT_FIELDS[service])
    if service in METRICS:
        fields["metrics"] = "metrics_port"
    assert set(ports) == set(fields), f"{service} container ports {sorted(ports)}"
    for port_name, field in fields.items():
        assert ports[port_name] == defaults[field] == getattr(config, field), (
            f"{service}: port {port_name}={ports[port_name]}, code default {field}="
            f"{defaults[field]}, configured {getattr(config, field)}"
        )
    svc_ports = {p["name"]: p for p in r.get("Service", service)["spec"]["ports"]}
    for port_name, spec in svc_ports.items():
        assert spec["targetPort"] == port_name and port_name in ports, (service, port_name)
        assert spec["port"] == ports[port_name], (service, port_name)
    assert set(svc_ports) == set(ports)


@pytest.mark.parametrize("overlay_name", OVERLAYS)
@pytest.mark.parametrize(
    ("service", "field"),
    [("api", "lockcache_addr"), ("api", "graph_addr"), ("graph", "lockcache_addr")],
)
def test_upstream_addresses_name_real_services(rendered, overlay_name, service, field):
    r = rendered[overlay_name]
    container = main_container(r, "Deployment", service)
    address = getattr(config_class(service).from_env(full_env(r, container)), field)
    host, _, port = address.rpartition(":")
    target = r.get("Service", host)
    assert int(port) in {p["port"] for p in target["spec"]["ports"]}, address


@pytest.fixture(scope="module")
def api_get_routes(rendered) -> set[str]:
    from kushim_api.app import create_app

    container = main_container(rendered["prod"], "Deployment", "api")
    app = create_app(config_class("api").from_env(full_env(rendered["prod"], container)))
    return {
        route.resource.canonical
        for route in app.router.routes()
        if route.method in ("GET", "*") and route.resource is not None
    }


@pytest.mark.parametrize("overlay_name", OVERLAYS)
def test_api_probes_hit_real_routes(rendered, overlay_name, api_get_routes):
    container = main_container(rendered[overlay_name], "Deployment", "api")
    port_names = {p["name"] for p in container["ports"]}
    probes = {k: container[k] for k in ("startupProbe", "readinessProbe", "livenessProbe")}
    for kind, probe in probes.items():
        assert "httpGet" in probe, f"api {kind} is HTTP"
        assert probe["httpGet"]["path"] in api_get_routes, f"{kind}: {probe['httpGet']['path']}"
        assert probe["httpGet"]["port"] in port_names
    assert probes["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert probes["livenessProbe"]["httpGet"]["path"] == "/health"


@pytest.mark.parametrize("overlay_name", OVERLAYS)
@pytest.mark.parametrize("service", ["lockcache", "graph"])
def test_grpc_services_use_native_grpc_probes(rendered, overlay_name, service):
    container = main_container(rendered[overlay_name], "Deployment", service)
    # The kubelet presents no client certificate: probes use the plaintext health port.
    health_port = {p["name"]: p["containerPort"] for p in container["ports"]}["health"]
    assert container_env(rendered[overlay_name], container).values["GRPC_HEALTH_PORT"] == str(
        health_port
    )
    for kind in ("startupProbe", "readinessProbe"):
        assert container[kind]["grpc"]["port"] == health_port, kind
        assert container[kind]["grpc"].get("service", "") == "", "the overall health status"
    # Liveness must not follow dependencies (a database outage is not a reason to restart).
    assert container["livenessProbe"]["tcpSocket"]["port"] == "grpc"


def _all_secret_refs(r: Rendered):
    for workload in r.workloads():
        for container in containers(workload):
            for var in container.get("env") or []:
                ref = (var.get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    yield workload["metadata"]["name"], ref["name"], ref["key"]
        for volume in pod_spec(workload).get("volumes") or []:
            if "secret" in volume:
                # Only certificates reach pods as files; every other secret as env, by key.
                assert re.search(r"-tls(-[a-z0-9]+)?$", volume["secret"]["secretName"])
                for key in ("ca.crt", "tls.crt", "tls.key"):
                    yield workload["metadata"]["name"], volume["secret"]["secretName"], key


def test_dev_secret_keys_exist_in_the_generators(rendered):
    dev = rendered["dev"]
    used = set()
    for workload, secret, key in _all_secret_refs(dev):
        obj = dev.by_name("Secret", secret)
        assert obj is not None, f"{workload}: Secret {secret} is not generated"
        assert key in (obj.get("data") or {}), f"{workload}: Secret {secret} has no {key}"
        used.add((secret, key))
    generated = {(s["metadata"]["name"], k) for s in dev.of_kind("Secret") for k in s["data"]}
    assert generated <= used, f"generated but unused: {sorted(generated - used)}"


def test_prod_secret_keys_exist_in_the_templates(rendered):
    used = set()
    for workload, secret, key in _all_secret_refs(rendered["prod"]):
        assert key in example_keys(secret), f"{workload}: template {secret}.env lacks {key}"
        used.add((secret, key))
    templates = {
        (p.stem, k)
        for p in (K8S / "overlays" / "prod" / "secrets.example").glob("*.env")
        for k in example_keys(p.stem)
    }
    assert templates <= used, f"template keys nothing reads: {sorted(templates - used)}"


def _drain_seconds(service: str, config) -> float:
    for field in ("shutdown_grace_seconds", "grace_seconds"):
        if hasattr(config, field):
            return float(getattr(config, field))
    return float(importlib.import_module(f"kushim_{service}.__main__").GRACE_SECONDS)


@pytest.mark.parametrize("overlay_name", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_termination_grace_outlasts_the_drain(rendered, overlay_name, service):
    r = rendered[overlay_name]
    deployment = r.get("Deployment", service)
    container = main_container(r, "Deployment", service)
    drain = _drain_seconds(service, config_class(service).from_env(full_env(r, container)))
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    grace = pod_spec(deployment)["terminationGracePeriodSeconds"]
    assert grace >= pre_stop + drain + 5, (
        f"{service}: terminationGracePeriodSeconds {grace} < preStop {pre_stop} + drain {drain} + 5"
    )


def test_dev_datastore_urls_name_real_services(rendered):
    from urllib.parse import urlsplit

    from kushim_lockcache.config import split_url_list
    from kushim_lockcache.redis_url import parse_redis_url

    dev = rendered["dev"]
    graph_env = full_env(dev, main_container(dev, "Deployment", "graph"))
    graph = config_class("graph").from_env(graph_env)
    for url, port_name in ((graph.database_url, "postgres"), (graph.neo4j_uri, "bolt")):
        parts = urlsplit(url)
        service = dev.get("Service", parts.hostname)
        assert {p["name"]: p["port"] for p in service["spec"]["ports"]}[port_name] == parts.port
    env = full_env(dev, main_container(dev, "Deployment", "lockcache"))
    for url in [env["REDIS_URL"], *split_url_list(env["REDLOCK_URLS"])]:
        ((host, port),) = parse_redis_url(url).hosts
        assert port in {p["port"] for p in dev.get("Service", host)["spec"]["ports"]}
