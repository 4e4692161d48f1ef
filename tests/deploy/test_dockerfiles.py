"""Static checks of the service Dockerfiles (no Docker engine here): hadolint, and
the rules of this project that hadolint does not know."""

import dataclasses
import re
import subprocess

import pytest

from tests.deploy.dockerfile import DOCKERFILE, image, parse
from tests.deploy.support import REPO, SERVICES, config_class

# python:<3.11.patch>-slim[-<debian>], or any image pinned by digest.
PINNED_PYTHON = re.compile(r"^python:3\.11\.\d+-slim(-[a-z]+)?$")
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|make|build-essential|grpcio-tools|grpc_tools)\b")


def test_hadolint(tool_bin):
    proc = subprocess.run(  # noqa: S603 - fixed argv
        [str(tool_bin / "hadolint"), "--no-color", "--failure-threshold", "info", DOCKERFILE],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_base_is_a_pinned_slim_python_or_a_stage_of_the_file():
    stages = parse()
    names = {s.name for s in stages if s.name}
    for stage in stages:
        if stage.base in names:
            continue
        assert "latest" not in stage.base and (
            PINNED_PYTHON.match(stage.base) or DIGEST.search(stage.base)
        ), f"base {stage.base}: a slim Python 3.11 pinned to an exact tag or digest"
    for stage in stages:
        for args in stage.args("ADD"):
            assert not re.search(r"\b(https?|git)://", args), "no ADD of URLs"


@pytest.mark.parametrize("service", SERVICES)
def test_dockerfile_rules(service):
    built = image(service)
    assert built.build, "multi-stage: build tools stay in the build stages"
    users = built.target.args("USER")
    assert users, "the target sets USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) > 0, "USER is a numeric, non-root uid (runAsNonRoot needs it)"
    for stage in built.shipped:
        for args in stage.args("RUN"):
            assert not BUILD_TOOLS.search(args), f"build tool in the final image: {args}"
            assert "apt-get install" not in args and "pip install" not in args, args
    build_runs = " ".join(a for s in built.build for a in s.args("RUN"))
    assert "grpc_tools.protoc" in build_runs, "stubs are generated in the build stage"
    assert re.search(r"pip uninstall .*grpcio-tools", build_runs), "the generator does not ship"
    copies = " ".join(a for s in built.build for a in s.args("COPY"))
    for other in SERVICES:
        ships = re.search(rf"/kushim_{other}(\s|$)", copies) is not None
        assert ships == (other == service), f"the {service} image ships kushim_{other}: {ships}"
    cmd = built.target.args("CMD", "ENTRYPOINT")
    assert cmd and f'"kushim_{service}"' in cmd[-1], f"runs python -m kushim_{service}"
    env = " ".join(a for s in built.shipped for a in s.args("ENV"))
    assert re.search(r"PYTHONPATH=\S*/gen\b", env), "the generated stubs are importable"


@pytest.mark.parametrize("service", SERVICES)
def test_every_package_a_service_imports_is_in_its_image(service):
    imported = set()
    for source in (REPO / "services" / service / f"kushim_{service}").rglob("*.py"):
        imported |= set(re.findall(r"^(?:from|import) (kushim_\w+)", source.read_text(), re.M))
    copies = " ".join(a for s in image(service).build for a in s.args("COPY"))
    for package in sorted(imported):
        assert re.search(rf"/{package}(\s|$)", copies), f"{service} imports {package}, not shipped"


@pytest.mark.parametrize("service", SERVICES)
def test_exposed_ports_match_the_code(service):
    exposed = {
        int(p.split("/")[0]) for a in image(service).target.args("EXPOSE") for p in a.split()
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
    copied = [
        args.split()[0]
        for stage in parse()
        for args in stage.args("COPY")
        if not args.startswith("--from")
    ]
    for source in copied:
        assert any(source == a or source.startswith(a + "/") for a in allowed), (
            f"COPY {source} is outside the context"
        )
