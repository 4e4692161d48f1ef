"""Static checks of the service Dockerfiles (no Docker engine here): hadolint, and
the rules of this project that hadolint does not know."""

import dataclasses
import re
import subprocess
from dataclasses import dataclass, field

import pytest

from tests.deploy.support import REPO, SERVICES, config_class

# python:<3.11.patch>-slim[-<debian>], or any image pinned by digest.
PINNED_PYTHON = re.compile(r"^python:3\.11\.\d+-slim(-[a-z]+)?$")
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|make|build-essential|grpcio-tools|grpc_tools)\b")


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)


def parse(path) -> list[Stage]:
    """Stages of a Dockerfile, each with its (INSTRUCTION, arguments), continuations joined."""
    lines, current = [], ""
    for raw in path.read_text().splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        current += " " + stripped.removesuffix("\\").strip()
        if not stripped.endswith("\\"):
            lines.append(current.strip())
            current = ""
    stages: list[Stage] = []
    for line in lines:
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            parts = rest.split()
            flags = [p for p in parts if p.startswith("--")]
            assert not flags, f"{path}: FROM {flags}"
            name = parts[2] if len(parts) > 2 and parts[1].upper() == "AS" else None
            stages.append(Stage(parts[0], name))
        else:
            assert stages, f"{path}: {word} before FROM"
            stages[-1].instructions.append((word, rest))
    return stages


def dockerfile(service: str):
    return REPO / "services" / service / "Dockerfile"


@pytest.mark.parametrize("service", SERVICES)
def test_hadolint(tool_bin, service):
    proc = subprocess.run(  # noqa: S603 - fixed argv
        [
            str(tool_bin / "hadolint"),
            "--no-color",
            "--failure-threshold",
            "info",
            dockerfile(service),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_dockerfile_rules(service):
    path = dockerfile(service)
    stages = parse(path)
    assert len(stages) >= 2, "multi-stage: build tools stay in the build stage"
    names = {s.name for s in stages if s.name}
    for stage in stages:
        if stage.base in names:
            continue
        assert "latest" not in stage.base and (
            PINNED_PYTHON.match(stage.base) or DIGEST.search(stage.base)
        ), f"base {stage.base}: a slim Python 3.11 pinned to an exact tag or digest"
    final = stages[-1]
    users = [args for word, args in final.instructions if word == "USER"]
    assert users, "the final stage sets USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) > 0, "USER is a numeric, non-root uid (runAsNonRoot needs it)"
    for stage in stages:
        for word, args in stage.instructions:
            if word == "ADD":
                assert not re.search(r"\b(https?|git)://", args), "no ADD of URLs"
    for word, args in final.instructions:
        if word == "RUN":
            assert not BUILD_TOOLS.search(args), f"build tool in the final image: {args}"
            assert "apt-get install" not in args and "pip install" not in args, args
    build_runs = " ".join(a for s in stages[:-1] for w, a in s.instructions if w == "RUN")
    assert "grpc_tools.protoc" in build_runs, "stubs are generated in the build stage"
    assert re.search(r"pip uninstall .*grpcio-tools", build_runs), "the generator does not ship"
    cmd = [a for w, a in final.instructions if w in ("CMD", "ENTRYPOINT")]
    assert cmd and f'"kushim_{service}"' in cmd[-1], f"runs python -m kushim_{service}"
    env = " ".join(a for w, a in final.instructions if w == "ENV")
    assert re.search(r"PYTHONPATH=\S*/gen\b", env), "the generated stubs are importable"


@pytest.mark.parametrize("service", SERVICES)
def test_exposed_ports_match_the_code(service):
    final = parse(dockerfile(service))[-1]
    exposed = {
        int(p.split("/")[0]) for w, a in final.instructions if w == "EXPOSE" for p in a.split()
    }
    fields = {"port", "metrics_port"}
    values = {
        f.name: f.default for f in dataclasses.fields(config_class(service)) if f.name in fields
    }
    # A port of 0 is off by default (the gateway's separate metrics port) and is not exposed.
    assert exposed == {v for v in values.values() if v}, f"EXPOSE {sorted(exposed)} vs {values}"


def test_dockerignore_keeps_the_context_small_and_secret_free():
    rules = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*", "deny by default, then allow what the images need"
    allowed = {r[1:].rstrip("/") for r in rules if r.startswith("!")}
    assert allowed == {
        "pyproject.toml", "protos", "services", "clients/python/kushim_lockcache_client"
    }
    assert "**/*.env" in rules
    for service in SERVICES:
        copied = [
            a.split()[0]
            for s in parse(dockerfile(service))
            for w, a in s.instructions
            if w == "COPY" and not a.startswith("--from")
        ]
        for source in copied:
            assert any(source == a or source.startswith(a + "/") for a in allowed), (
                f"{service}: COPY {source} is outside the context"
            )
