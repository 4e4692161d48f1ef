"""HTTP throughput of the gateway with wrk (Debian): GET /records/{id} and POST /records
(a new record per request, so every POST runs discovery), for one and for two gateway
instances on the same graph and lockcache. Two instances are driven by two wrk processes
at once, each with half of the connections; their rates are added."""

import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

from bench.context import Context
from devstack.launch import migrate, start_service
from devstack.probes import tcp_accepts
from devstack.services import ServiceProcess

CONNECTIONS = 64
THREADS = 2
# wrk's default of 2 s drops slower requests and reconnects, and the gateway then abandons the
# work it had started for them: under a queue that long a run measured that churn instead.
TIMEOUT_S = 30
WARMUP_S = 4

GET_SCRIPT = """
wrk.headers["Authorization"] = "Bearer {token}"
"""

# Every POST must be a new record: args[1] is unique per wrk process (see _wrk) and thread_id
# per thread of it. wrk's Lua states are unseeded, so math.random would repeat ids across
# threads, processes and runs, and repeats are cheap unchanged re-ingests or same-record races.
POST_SCRIPT = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
local counter = 0
local prefix = ""
function init(args)
  prefix = args[1] .. "-" .. tostring(thread_id)
end
request = function()
  counter = counter + 1
  local body = string.format([[{template}]], prefix, counter, counter)
  return wrk.format("POST", "/records", {{
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer {token}"
  }}, body)
end
"""

RECORD_TEMPLATE = (
    '{"externalId": "BENCH-%s-%d", "sourcePlatform": "jira", "artifactType": "task",'
    ' "title": "BENCH-%d checkout latency regression", "author": "bench",'
    ' "body": "p99 went up after the coupon change", "timestamp": "2024-06-01T10:00:00Z"}'
)


def _ensure_wrk() -> str:
    """bench's main runs devstack's install step first, which apt-get installs wrk."""
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk is missing: python -m devstack install (apt-get install wrk)")
    return path


def service_env(ctx: Context, **extra: str) -> dict[str, str]:
    return os.environ | ctx.env | {"BIND_HOST": "127.0.0.1", "METRICS_PORT": "0",
                                   "LOG_LEVEL": "WARNING"} | extra


def start_on(service: str, env: dict[str, str], port: int, name: str = "") -> ServiceProcess:
    """`python -m kushim_<service>`, ready once its port accepts connections."""
    return start_service(service, env, lambda: tcp_accepts(port), name=name or service,
                         start_timeout=90)


def _call(url: str, method: str, path: str, body: dict, token: str = "") -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(),  # noqa: S310
                                     method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        return json.loads(answer.read())


def _parse(output: str) -> dict[str, float]:
    def duration(text: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
        return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    failed = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    return {
        "rate": rate,
        "p50": duration(p50.group(1)) if p50 else 0.0,
        "p99": duration(p99.group(1)) if p99 else 0.0,
        "non2xx": int(failed.group(1)) if failed else 0,
        "socket_errors": sum(int(n) for n in errors.groups()) if errors else 0,
    }


def _wrk(wrk: str, urls: list[str], script: Path, seconds: float, path: str) -> dict:
    per = max(1, CONNECTIONS // len(urls))
    runs = [
        subprocess.Popen(  # noqa: S603
            [wrk, f"-t{THREADS}", f"-c{per}", f"-d{max(1, int(seconds))}s", "--latency",
             f"--timeout={TIMEOUT_S}s",
             "-s", str(script), url + path, "--", f"r{secrets.token_hex(6)}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for url in urls
    ]
    parsed = [_parse(run.communicate(timeout=seconds + 60)[0]) for run in runs]
    return {
        "req/s": round(sum(p["rate"] for p in parsed)),
        "p50 ms": round(max(p["p50"] for p in parsed), 2),
        "p99 ms": round(max(p["p99"] for p in parsed), 2),
        "non-2xx": sum(p["non2xx"] for p in parsed),
        "socket errors": sum(p["socket_errors"] for p in parsed),
    }


def run(ctx: Context) -> dict:
    wrk = _ensure_wrk()
    migrate(ctx.env["DATABASE_URL"])
    services: list[ServiceProcess] = []
    try:
        graph_port = ctx.port()
        services.append(start_on("graph", service_env(
            ctx, GRAPH_PORT=str(graph_port), LOCKCACHE_ADDR=ctx.lockcache_addr,
            DB_POOL_SIZE="20"), graph_port))
        urls = []
        secret = secrets.token_urlsafe(48)
        for name in ("api-1", "api-2"):
            port = ctx.port()
            services.append(start_on("api", service_env(
                ctx, PORT=str(port), GRAPH_ADDR=f"127.0.0.1:{graph_port}",
                LOCKCACHE_ADDR=ctx.lockcache_addr, AUTH_TOKEN_SECRET=secret,
                SHUTDOWN_GRACE_SECONDS="5"), port, name))
            urls.append(f"http://127.0.0.1:{port}")
        account = {"email": f"bench-{secrets.token_hex(6)}@example.com",
                   "password": secrets.token_urlsafe(16)}
        token = _call(urls[0], "POST", "/auth/register", account)["token"]
        record = json.loads(RECORD_TEMPLATE % ("seed", 0, 0))
        record_id = _call(urls[0], "POST", "/records", record, token)["record"]["id"]
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            get_script = Path(tmp) / "get.lua"
            get_script.write_text(GET_SCRIPT.format(token=token))
            post_script = Path(tmp) / "post.lua"
            post_script.write_text(POST_SCRIPT.format(token=token, template=RECORD_TEMPLATE))
            for label, script, path in (
                ("GET /records/{id}", get_script, f"/records/{record_id}"),
                ("POST /records (new record, discovery)", post_script, "/records"),
            ):
                # Unmeasured: the first seconds of a request kind pay for cold caches (Neo4j's
                # JIT, PostgreSQL's buffers and plans), which made one gateway look 2-4x slower
                # than it is when it ran first.
                _wrk(wrk, urls, script, min(ctx.seconds, WARMUP_S), path)
                one = _wrk(wrk, urls[:1], script, ctx.seconds, path)
                two = _wrk(wrk, urls, script, ctx.seconds, path)
                for count, measured in ((1, one), (2, two)):
                    ratio = measured["req/s"] / one["req/s"] if one["req/s"] else 0.0
                    rows.append({"request": label, "instances": count, **measured,
                                 "vs 1 instance": round(ratio, 2)})
        return {
            "title": f"gateway HTTP throughput (wrk, {CONNECTIONS} connections in total)",
            "rows": rows,
            "notes": [
                "Every process (wrk, gateways, graph, lockcache, PostgreSQL, Redis, Neo4j) "
                "shares the same CPUs, so a second gateway adds capacity only while the "
                "gateway itself is the bottleneck.",
                "Every POST is a new record of the same user, so all of them queue on one "
                "user's discovery; past the gateway's upstream deadline (UPSTREAM_TIMEOUT_MS, "
                "3 s) a request is answered 503, which wrk counts as non-2xx.",
            ],
        }
    finally:
        for service in reversed(services):
            service.stop()
