"""Rendering and reading the Kubernetes manifests and the services' configuration code."""

import ast
import importlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
SERVICES = ("api", "lockcache", "graph")
# The oldest Kubernetes the manifests target: native gRPC probes (1.27) and the
# preStop `sleep` action (beta, on by default, since 1.30).
KUBERNETES_VERSION = "1.30"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job")
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
ENV_HOLDERS = frozenset({"env", "environ", "environment"})


def name_label(obj: Mapping) -> str:
    return obj["metadata"]["labels"]["app.kubernetes.io/name"]


@dataclass
class Rendered:
    """One overlay's `kustomize build` output."""

    overlay: str
    text: str
    objects: list[dict]

    def of_kind(self, kind: str) -> list[dict]:
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, kind: str, name: str) -> dict:
        found = [o for o in self.of_kind(kind) if o["metadata"]["name"] == name]
        assert found, f"{self.overlay}: no {kind}/{name}"
        return found[0]

    def workloads(self) -> list[dict]:
        return [o for o in self.objects if o["kind"] in WORKLOAD_KINDS]

    def configmap(self, name: str) -> dict:
        """A generated ConfigMap by its base name (kustomize appends a hash)."""
        found = [
            o
            for o in self.of_kind("ConfigMap")
            if o["metadata"]["name"] == name or o["metadata"]["name"].startswith(name + "-")
        ]
        assert len(found) == 1, f"{self.overlay}: ConfigMap {name}: {len(found)} matches"
        return found[0]

    def by_name(self, kind: str, name: str) -> dict | None:
        for o in self.of_kind(kind):
            if o["metadata"]["name"] == name:
                return o
        return None


def pod_spec(workload: Mapping) -> dict:
    return workload["spec"]["template"]["spec"]


def containers(workload: Mapping, *, init: bool = True) -> list[dict]:
    spec = pod_spec(workload)
    return [*(spec.get("initContainers") or [] if init else []), *spec["containers"]]


@dataclass
class ContainerEnv:
    """The environment a container gets, with where each value comes from."""

    values: dict[str, str] = field(default_factory=dict)
    # name -> (secret name, key)
    secret_refs: dict[str, tuple[str, str]] = field(default_factory=dict)
    # name -> (configmap name, key or None for envFrom)
    config_refs: dict[str, tuple[str, str | None]] = field(default_factory=dict)


def container_env(rendered: Rendered, container: Mapping) -> ContainerEnv:
    """Resolves env and envFrom of a container against the rendered ConfigMaps and Secrets."""
    result = ContainerEnv()
    for source in container.get("envFrom") or []:
        if "configMapRef" in source:
            cm = rendered.by_name("ConfigMap", source["configMapRef"]["name"])
            assert cm is not None, f"envFrom: no ConfigMap {source['configMapRef']['name']}"
            for key, value in (cm.get("data") or {}).items():
                result.values[key] = value
                result.config_refs[key] = (cm["metadata"]["name"], None)
        if "secretRef" in source:
            raise AssertionError("envFrom secretRef hides which keys a pod needs; use secretKeyRef")
    for var in container.get("env") or []:
        name = var["name"]
        if "value" in var:
            result.values[name] = var["value"]
        ref = var.get("valueFrom") or {}
        if "secretKeyRef" in ref:
            secret, key = ref["secretKeyRef"]["name"], ref["secretKeyRef"]["key"]
            result.secret_refs[name] = (secret, key)
        if "configMapKeyRef" in ref:
            cm_name, key = ref["configMapKeyRef"]["name"], ref["configMapKeyRef"]["key"]
            cm = rendered.by_name("ConfigMap", cm_name)
            assert cm is not None, f"{name}: no ConfigMap {cm_name}"
            assert key in (cm.get("data") or {}), f"{name}: ConfigMap {cm_name} has no key {key}"
            result.values[name] = cm["data"][key]
            result.config_refs[name] = (cm_name, key)
    return result


# --- what the code reads ---------------------------------------------------


def config_path(service: str) -> Path:
    return REPO / "services" / service / f"kushim_{service}" / "config.py"


# Readers shared by the services' configs, by the function a config calls.
SHARED_READERS = {
    "read_grpc_security": REPO / "services" / "common" / "kushim_common" / "grpctls.py",
}


def env_names_read_by(service: str) -> set[str]:
    """What a service's config reads, itself and through the shared readers it calls."""
    path = config_path(service)
    names = env_names_read(path)
    source = path.read_text()
    for reader, module in SHARED_READERS.items():
        if f"{reader}(" in source:
            names |= env_names_read(module)
    return names


def env_names_read(path: Path) -> set[str]:
    """Environment variable names a config module reads.

    Finds `env.get("X", ...)`, `env["X"]` and reader calls that pass the mapping
    and then the name, as in `read_int(environ, "X", default, minimum=1)`, where
    the mapping is a name such as `env` or `environ`. Only the argument right after
    the mapping counts, so a string default such as "INFO" is not taken for a name.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()

    def holder(node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id in ENV_HOLDERS
        return isinstance(node, ast.Attribute) and node.attr in ENV_HOLDERS

    def literal(node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value if ENV_NAME.match(node.value) else None
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            is_get = isinstance(func, ast.Attribute) and func.attr in ("get", "pop")
            if is_get and holder(func.value):
                if node.args and (name := literal(node.args[0])):
                    names.add(name)
                continue
            for mapping, after in zip(node.args, node.args[1:], strict=False):
                if holder(mapping) and (name := literal(after)):
                    names.add(name)
        elif isinstance(node, ast.Subscript) and holder(node.value) and literal(node.slice):
            names.add(literal(node.slice))
    return names


def config_class(service: str):
    return importlib.import_module(f"kushim_{service}.config").Config


def iter_policies(rendered: Rendered) -> Iterator[dict]:
    yield from rendered.of_kind("NetworkPolicy")
