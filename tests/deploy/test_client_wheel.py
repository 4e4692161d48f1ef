"""The lockcache client installs on its own: its wheel carries the package and the stubs
generated from protos/, and imports with neither the repository's gen/ nor its sources."""

import shutil
import subprocess
import sys
import zipfile

from tests.deploy.support import REPO

IMPORT_FROM_WHEEL_ONLY = """
import sys
wheel = sys.argv[1]
sys.path[:] = [wheel] + [p for p in sys.path if not p.endswith("/gen") and "/clients/" not in p]
from kushim.lockcache.v1 import lockcache_pb2
import kushim_lockcache_client
assert kushim_lockcache_client.__file__.startswith(wheel), kushim_lockcache_client.__file__
assert lockcache_pb2.__file__.startswith(wheel), lockcache_pb2.__file__
assert "heartbeat_timeout_ms" in lockcache_pb2.HoldLockRequest.DESCRIPTOR.fields_by_name
"""


def test_the_wheel_holds_the_package_and_its_stubs(tmp_path):
    # A copy of what the build reads, so it leaves nothing in the working tree.
    checkout = tmp_path / "checkout"
    shutil.copytree(REPO / "protos", checkout / "protos")
    shutil.copytree(
        REPO / "clients" / "python", checkout / "clients" / "python",
        ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"),
    )  # fmt: skip
    built = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "--disable-pip-version-check", "-w", str(tmp_path), str(checkout / "clients" / "python")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("kushim_lockcache_client-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "kushim_lockcache_client/client.py",
        "kushim_lockcache_client/holding.py",
        "kushim/lockcache/v1/lockcache_pb2.py",
        "kushim/lockcache/v1/lockcache_pb2_grpc.py",
    } <= names
    assert not any(name.startswith("kushim/graph/") for name in names)
    unpacked = tmp_path / "unpacked"
    zipfile.ZipFile(wheel).extractall(unpacked)
    imported = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-c", IMPORT_FROM_WHEEL_ONLY, str(unpacked)],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
