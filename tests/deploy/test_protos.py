"""The gRPC contracts stay stable: buf lint (protos/buf.yaml) and buf breaking against the
main branch's protos/ (the FILE rules: no field, enum value, RPC or package removed, renamed
or renumbered). What may change within v1 is listed in clients/README.md."""

import subprocess

import pytest

from tests.deploy.support import REPO

PROTOS = REPO / "protos"


def buf(tool_bin, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed argv
        [str(tool_bin / "buf"), *args], cwd=REPO, capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed argv
        ["git", *args], cwd=REPO, capture_output=True, timeout=60, check=False  # noqa: S607
    )


@pytest.fixture(scope="module")
def main_protos(tmp_path_factory):
    """protos/ as the main branch has it (a local main, else origin/main)."""
    for ref in ("main", "origin/main"):
        if git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode == 0:
            break
    else:
        pytest.fail("no main branch to check protos/ against (git fetch origin main)")
    into = tmp_path_factory.mktemp("main")
    archive = git("archive", "--format=tar", ref, "protos")
    assert archive.returncode == 0, archive.stderr.decode()
    subprocess.run(  # noqa: S603 - fixed argv
        ["tar", "-x", "-C", str(into)], input=archive.stdout, check=True  # noqa: S607
    )
    return into / "protos"


def test_buf_lint_passes(tool_bin):
    result = buf(tool_bin, "lint", "protos")
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_breaking_change_against_main(tool_bin, main_protos):
    result = buf(tool_bin, "breaking", "protos", "--against", str(main_protos))
    assert result.returncode == 0, result.stdout + result.stderr


def test_buf_breaking_catches_a_renumbered_field(tool_bin, main_protos, tmp_path):
    """The check can fail: a copy of protos/ with one field number changed is refused."""
    changed = tmp_path / "protos"
    subprocess.run(["cp", "-r", str(PROTOS), str(changed)], check=True)  # noqa: S603, S607
    proto = changed / "kushim" / "lockcache" / "v1" / "lockcache.proto"
    text = proto.read_text()
    assert "int64 ttl_ms = 2;" in text
    proto.write_text(text.replace("int64 ttl_ms = 2;", "int64 ttl_ms = 9;", 1))
    result = buf(tool_bin, "breaking", str(changed), "--against", str(main_protos))
    assert result.returncode != 0
    assert "ttl_ms" in result.stdout + result.stderr
