"""`python -m devstack test`: run pytest against a test-profile infra (reusing one that
`devstack up` keeps warm), and exit with pytest's exit code."""

# ruff: noqa: S603 -- starting processes from fixed argv lists (no shell) is the job here

import logging
import os
import signal
import subprocess
import sys
import time

from devstack.foreground import Shutdown
from devstack.install import InstallError, ensure_installed
from devstack.paths import REPO_ROOT
from devstack.process import StartError
from devstack.profilelock import AlreadyRunning
from devstack.stack import Stack
from devstack.tls import ensure_certs

log = logging.getLogger(__name__)

TEST_PREFIX = "KUSHIM_TEST_"


def suite_env(stack: Stack) -> dict[str, str]:
    """The infra variables twice, plain (what the services read) and KUSHIM_TEST_-prefixed
    (what tests read to know they run against devstack), plus where tests may put servers of
    their own: the spare port range and the profile's data dir, and the services' certificates
    (var/<profile>/tls/)."""
    infra = stack.env()
    spare = stack.ports.spare
    return {
        **infra,
        **{TEST_PREFIX + name: value for name, value in infra.items()},
        TEST_PREFIX + "PORT_BASE": str(stack.ports.postgres),
        TEST_PREFIX + "SPARE_PORTS": f"{spare.start}-{spare.stop - 1}",
        TEST_PREFIX + "VAR_DIR": str(stack.dir),
        # The CA and per-service certificates the suites' services use for mutual TLS.
        TEST_PREFIX + "GRPC_TLS_DIR": str(ensure_certs(stack.dir / "tls").dir),
    }


def run_tests(pytest_args: list[str]) -> int:
    shutdown = Shutdown().install()
    started_here = False
    code = 1
    try:
        stack = Stack.for_profile("test")  # a bad KUSHIM_TEST_PORT_BASE fails here, in one line
    except ValueError as error:
        log.error("%s", error)
        return 2
    try:
        ensure_installed()
        holder = stack.lock.holder()
        if holder is not None and holder.mode == "up" and holder.ready:
            log.info("reusing the %s infra kept up by pid %s", stack.profile, holder.owner.pid)
        else:
            stack.start(mode="test")
            started_here = True
        code = _pytest(pytest_args or ["tests"], {**os.environ, **suite_env(stack)})
    except KeyboardInterrupt:
        code = 130
    except AlreadyRunning as error:
        log.error("%s (or run beside it with another KUSHIM_TEST_PORT_BASE)", error)
    except (StartError, InstallError) as error:
        log.error("%s", error)
    finally:
        shutdown.install()
        shutdown.phase = Shutdown.STOPPING
        if started_here:
            stack.stop()
    return code


def _pytest(args: list[str], env: dict[str, str]) -> int:
    log.info("python -m pytest %s", " ".join(args))
    started = time.monotonic()
    pytest = subprocess.Popen([sys.executable, "-m", "pytest", *args], env=env, cwd=REPO_ROOT)

    # pytest shares our process group, so a terminal's Ctrl-C reaches it directly: we only
    # outlive it to stop the infra. A SIGTERM is meant for the whole run: pass it on.
    def forward(signum: int, frame: object) -> None:
        if signum == signal.SIGTERM:
            pytest.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    code = pytest.wait()
    log.info("pytest exited with %s after %.1f s", code, time.monotonic() - started)
    return code
