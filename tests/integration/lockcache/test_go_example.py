"""The Go example (clients/go), built from protos/ with buf, against a live lockcache."""

import asyncio
import json
import os
import shutil
from pathlib import Path

# buf and the protoc plugins, pinned by deploy/tools/install.sh (the deploy suite's fixture)
from tests.deploy.conftest import tool_bin  # noqa: F401
from tests.integration.lockcache.support import unique

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "clients" / "go"


async def run(*argv: str, cwd: Path, tools: Path, within_s: float) -> tuple[int, str]:
    env = os.environ | {"PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = await asyncio.wait_for(process.communicate(), within_s)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return process.returncode, output.decode()


async def test_the_go_example_locks_writes_fenced_and_holds(lockcache, tool_bin, tmp_path):  # noqa: F811
    assert shutil.which("go"), "go is required (the install step builds buf and ghz with it)"
    code, output = await run("buf", "generate", cwd=EXAMPLE, tools=tool_bin, within_s=60)
    assert code == 0, output
    binary = tmp_path / "lockcache-example"
    code, output = await run(
        "go", "build", "-o", str(binary), "./cmd/lockcache-example",
        cwd=EXAMPLE, tools=tool_bin, within_s=300,
    )  # fmt: skip
    assert code == 0, output
    code, output = await run(
        str(binary), "-addr", f"127.0.0.1:{lockcache.server.port}", "-resource", unique("go:"),
        cwd=tmp_path, tools=tool_bin, within_s=60,
    )  # fmt: skip
    assert code == 0, output
    steps = {line["step"]: line for line in map(json.loads, output.splitlines())}
    assert list(steps) == ["locked-and-wrote", "stale-write-refused", "held", "done"]
    refused = steps["stale-write-refused"]
    assert refused["current_token"] > refused["stale_token"]
    assert refused["value"] == "second"
    assert steps["held"]["renewals"] >= 4
