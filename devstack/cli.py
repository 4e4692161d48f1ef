"""Command line of `python -m devstack`; `run` and `test` live in run.py and suite.py."""

# ruff: noqa: S603 -- starting processes from fixed argv lists (no shell) is the job here

import argparse
import logging
import os
import shlex
import signal
import subprocess
import sys
import time

from devstack.foreground import Shutdown
from devstack.install import InstallError, ensure_installed
from devstack.paths import REPO_ROOT, var_dir
from devstack.process import StartError, log_tail
from devstack.profilelock import AlreadyRunning, ProfileLock
from devstack.run import run, watch
from devstack.stack import Stack
from devstack.suite import run_tests, suite_env

log = logging.getLogger("devstack")

COMMANDS = "{install,run,test,up,down,env,status}"
DOWN_TIMEOUT = 120.0


def up(profile: str) -> int:
    """Start the profile's infra under a detached supervisor (`_serve`) and return once it
    answers, so it stays warm between test runs until `down`."""
    stack = Stack.for_profile(profile)
    holder = stack.lock.holder()
    if holder is not None:
        if holder.mode == "up":
            log.info("%s infra is already up (pid %s)", stack.profile, holder.owner.pid)
            return 0
        log.error(
            "kushim %s profile is already running (pid %s); stop it first",
            stack.profile,
            holder.owner.pid,
        )
        return 1
    started = time.monotonic()
    ensure_installed()
    log_path = stack.dir / "devstack.log"
    read_fd, write_fd = os.pipe()
    with log_path.open("ab") as log_file:
        supervisor = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devstack",
                "_serve",
                "--profile",
                profile,
                "--status-fd",
                str(write_fd),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            pass_fds=(write_fd,),
            start_new_session=True,  # outlives this command and the terminal
            cwd=REPO_ROOT,
        )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as status_pipe:
            # One line when the infra answers or failed; EOF if the supervisor died first.
            status = status_pipe.readline().strip()
    except KeyboardInterrupt:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait()
        return 130
    if status == "ready":
        log.info(
            "%s infra up in %.1f s (supervisor pid %s, log %s); "
            "stop it with: python -m devstack down --profile %s",
            stack.profile,
            time.monotonic() - started,
            supervisor.pid,
            log_path,
            profile,
        )
        return 0
    supervisor.wait()
    log.error(
        "%s",
        status.removeprefix("failed: ")
        or f"supervisor exited with {supervisor.returncode}: {log_tail(log_path)}",
    )
    return 1


def serve(profile: str, status_fd: int) -> int:
    """The detached supervisor behind `up`: owns the servers until SIGTERM (`down`)."""
    shutdown = Shutdown().install()
    stack = Stack.for_profile(profile)

    def report(line: str) -> None:
        os.write(status_fd, (line + "\n").encode())
        os.close(status_fd)

    try:
        stack.start(mode="up")
    except KeyboardInterrupt:
        report("failed: interrupted")
        return 130
    except (StartError, AlreadyRunning) as error:
        report(f"failed: {error}")
        return 1
    shutdown.phase = Shutdown.RUNNING
    report("ready")
    watch(stack, [], shutdown)
    shutdown.phase = Shutdown.STOPPING
    stack.stop()
    return 0


def down(profile: str) -> int:
    stack = Stack.for_profile(profile)
    holder = stack.lock.holder()
    if holder is None:
        try:  # taking the lock once cleans a stale pidfile and whatever its owner left running
            stack.lock.acquire("down")
            stack.lock.release()
        except AlreadyRunning:
            pass
        log.info("%s infra is not running", stack.profile)
        return 0
    started = time.monotonic()
    os.kill(holder.owner.pid, signal.SIGTERM)
    deadline = started + DOWN_TIMEOUT
    while holder.owner.alive():
        if time.monotonic() > deadline:
            log.error("pid %s did not stop within %.0f s", holder.owner.pid, DOWN_TIMEOUT)
            return 1
        time.sleep(0.1)  # not our child: polling is the only way to see it go
    log.info(
        "%s infra stopped in %.1f s (pid %s)",
        stack.profile,
        time.monotonic() - started,
        holder.owner.pid,
    )
    return 0


def print_env(profile: str) -> int:
    stack = Stack.for_profile(profile)
    values = suite_env(stack) if profile == "test" else stack.env()
    for name, value in values.items():
        print(f"export {name}={shlex.quote(value)}")
    if stack.lock.holder() is None:
        log.warning(
            "%s infra is not running; start it with: python -m devstack up --profile %s",
            stack.profile,
            profile,
        )
    return 0


def status() -> int:
    found = False
    for directory in sorted(var_dir().iterdir()):
        holder = ProfileLock(directory, directory.name).holder() if directory.is_dir() else None
        if holder is None:
            continue
        found = True
        children = ", ".join(
            f"{name}={ref.pid}" for name, ref in holder.children.items() if ref.alive()
        )
        state = "ready" if holder.ready else "starting"
        print(
            f"{directory.name:<12} {holder.mode:<5} pid {holder.owner.pid:<8} {state:<8} {children}"
        )
    if not found:
        print("nothing is running")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devstack", description="Kushim's local infrastructure."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar=COMMANDS)
    commands.add_parser("install", help="install missing servers and Neo4j jars (apt-get, mvn)")
    commands.add_parser("run", help="everything on loopback in the foreground until Ctrl-C")
    test = commands.add_parser(
        "test", help="run pytest against the test infra: test [-- PYTEST ARGS]"
    )
    test.add_argument("pytest_args", nargs=argparse.REMAINDER, help="default: tests")
    for name, text in [
        ("up", "start a profile's infra and keep it running in the background"),
        ("down", "stop what `up` started"),
        ("env", "print `export VAR=...` lines for a profile"),
    ]:
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--profile", choices=["test", "run"], default="test")
    commands.add_parser("status", help="which profiles are running")
    serve_parser = commands.add_parser("_serve")
    serve_parser.add_argument("--profile", choices=["test", "run"], required=True)
    serve_parser.add_argument("--status-fd", type=int, required=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    detached = args.command == "_serve"
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s devstack: %(message)s" if detached else "devstack: %(message)s",
        stream=sys.stderr,
    )
    try:
        if args.command == "install":
            ensure_installed()
            return 0
        if args.command == "run":
            return run()
        if args.command == "test":
            pytest_args = (
                args.pytest_args[1:] if args.pytest_args[:1] == ["--"] else args.pytest_args
            )
            return run_tests(pytest_args)
        if args.command == "up":
            return up(args.profile)
        if args.command == "down":
            return down(args.profile)
        if args.command == "env":
            return print_env(args.profile)
        if args.command == "status":
            return status()
        return serve(args.profile, args.status_fd)
    except (InstallError, StartError, ValueError) as error:
        log.error("%s", error)
        return 1
    except KeyboardInterrupt:
        return 130
