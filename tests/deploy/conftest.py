"""Session fixtures: the validation tools, and every overlay rendered once.

The tools (kustomize, kube-score, hadolint) are installed at pinned versions by
deploy/tools/install.sh into var/tools/bin; a warm run only checks stamps.
"""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.support import K8S, OVERLAYS, REPO, Rendered


@pytest.fixture(scope="session")
def tool_bin() -> Path:
    proc = subprocess.run(  # noqa: S603 - fixed argv
        [str(REPO / "deploy" / "tools" / "install.sh")],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines() or ["no output"]
        pytest.fail(lines[-1], pytrace=False)
    return Path(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def k8s_tree(tmp_path_factory) -> Path:
    """A copy of deploy/k8s with the dev secrets generated the way a developer does."""
    tree = tmp_path_factory.mktemp("k8s") / "k8s"
    shutil.copytree(K8S, tree)
    # A developer's own dev secrets stay out of the test.
    for own in (tree / "overlays" / "dev" / "secrets").glob("*.env"):
        own.unlink()
    shutil.rmtree(tree / "overlays" / "dev" / "secrets" / "tls", ignore_errors=True)
    subprocess.run(  # noqa: S603 - fixed argv
        ["sh", str(tree / "overlays" / "dev" / "make-secrets.sh")],  # noqa: S607
        check=True,
        capture_output=True,
    )
    return tree


def kustomize_build(tool_bin: Path, path: Path) -> str:
    proc = subprocess.run(  # noqa: S603 - fixed argv
        [str(tool_bin / "kustomize"), "build", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"kustomize build {path.name}: {proc.stderr.strip()}"
    return proc.stdout


@pytest.fixture(scope="session")
def rendered(tool_bin, k8s_tree) -> dict[str, Rendered]:
    result = {}
    for overlay in OVERLAYS:
        text = kustomize_build(tool_bin, k8s_tree / "overlays" / overlay)
        objects = [o for o in yaml.safe_load_all(text) if o]
        result[overlay] = Rendered(overlay, text, objects)
    return result


@pytest.fixture(params=OVERLAYS)
def overlay(request, rendered) -> Rendered:
    return rendered[request.param]
