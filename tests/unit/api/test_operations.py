import asyncio

import pytest

from tests.unit.api.records_data import record


async def test_liveness(client):
    response = await client.get("/health")
    assert response.status == 200 and (await response.json()) == {"status": "ok"}


async def test_ready_ok(client):
    response = await client.get("/health/ready")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok"
    assert body["dependencies"] == {"graph": "up", "lockcache": "up", "postgres": "up",
                                    "neo4j": "up", "redis": "up"}


@pytest.mark.parametrize("change, status, state", [
    (lambda b: setattr(b.cache, "redis_up", False), 200, "degraded"),
    (lambda b: setattr(b.graph, "neo4j", "down"), 200, "degraded"),
    (lambda b: setattr(b.cache, "enabled", False), 200, "ok"),
    (lambda b: setattr(b.graph, "postgres", "down"), 503, "down"),
    (lambda b: setattr(b.graph, "down", True), 503, "down"),
    (lambda b: setattr(b.cache, "down", True), 503, "down"),
])
async def test_ready_states(client, backends, change, status, state):
    change(backends)
    response = await client.get("/health/ready")
    assert response.status == status
    assert (await response.json())["status"] == state


async def test_ready_when_a_backend_is_not_even_listening(make_client):
    client = await make_client(graph_addr="127.0.0.1:1", upstream_timeout_ms=500)
    response = await client.get("/health/ready")
    assert response.status == 503
    assert (await response.json())["dependencies"]["graph"] == "down"


async def test_health_redis_shapes(client, backends, alice):
    _, headers = alice
    await client.get("/users/me", headers=headers)
    await client.get("/users/me", headers=headers)
    body = await (await client.get("/health/redis")).json()
    assert body["enabled"] is True
    # The guide's fields only, as text, exactly as Redis reports them.
    assert body["info"] == {"total_commands_processed": "42", "instantaneous_ops_per_sec": "3",
                            "used_memory_human": "1.02M", "connected_clients": "2"}
    assert body["cache"]["user_profile"] == {"hits": 1, "misses": 1, "hit_rate": 0.5}
    assert body["locks"] == {"enabled": True, "acquired": 5, "contended": 0, "unavailable": 0}
    backends.cache.locks_disabled = "cache redis://r:6379/0 has maxmemory-policy allkeys-lru"
    locks = (await (await client.get("/health/redis")).json())["locks"]
    assert locks["enabled"] is False and "allkeys-lru" in locks["reason"]
    backends.cache.enabled = False
    assert (await (await client.get("/health/redis")).json()) == {"enabled": False}
    backends.cache.down = True
    response = await client.get("/health/redis")
    assert response.status == 503 and response.headers["Retry-After"] == "1"


async def test_metrics_have_route_templates_and_upstream_errors(client, alice, backends):
    _, headers = alice
    await client.get("/records/00000000-0000-4000-8000-000000000001", headers=headers)
    backends.graph.down = True
    await client.get("/records", headers=headers)
    text = await (await client.get("/metrics")).text()
    assert 'route="/records/{id}"' in text and 'status="404"' in text
    assert 'kushim_upstream_errors_total{code="UNAVAILABLE",method="RecordService/ListRecords"' \
           in text
    assert "kushim_http_requests_in_flight" in text
    assert 'kushim_lockcache_locks{outcome="acquired"} 5.0' in text


async def test_graph_down_is_503_with_retry_after(client, alice, backends):
    _, headers = alice
    backends.graph.down = True
    for method, path in (("get", "/records"), ("get", "/context-groups"),
                         ("post", "/auth/login")):
        kwargs = {"json": {"email": "a@b.co", "password": "x" * 8}} if method == "post" else {}
        response = await client.request(method, path, headers=headers, **kwargs)
        assert response.status == 503, path
        assert response.headers["Retry-After"] == "1"
        assert (await response.json())["error"]["code"] == "unavailable"


async def test_unreachable_graph_answers_503_fast(make_client, alice):
    _, headers = alice
    client = await make_client(graph_addr="127.0.0.1:1", upstream_timeout_ms=300)
    response = await client.get("/records", headers=headers)
    assert response.status == 503


async def test_hanging_graph_hits_the_deadline(make_client, alice, backends):
    _, headers = alice
    client = await make_client(upstream_timeout_ms=200)
    backends.graph.gate = asyncio.Event()
    response = await client.get("/records", headers=headers)
    backends.graph.gate.set()
    assert response.status == 503


async def test_unexpected_errors_are_a_generic_500(client, alice, monkeypatch, caplog):
    _, headers = alice
    from kushim_api import serialize

    def explode(_):
        raise RuntimeError("secret internals")

    await client.post("/records", json=record(), headers=headers)
    monkeypatch.setattr(serialize, "record", explode)
    response = await client.get("/records", headers=headers)
    assert response.status == 500
    body = await response.json()
    assert body == {"error": {"code": "internal", "message": "internal error"}}
    assert "secret internals" not in await response.text()
    assert sum("Unexpected error" in r.message for r in caplog.records) == 1


async def test_unknown_route_and_method(client, alice):
    _, headers = alice
    response = await client.get("/nope", headers=headers)
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"
    response = await client.put("/records", headers=headers)
    assert response.status == 405
    assert (await response.json())["error"]["code"] == "method_not_allowed"


async def test_body_over_the_limit_is_413_before_reading(client, alice, backends):
    _, headers = alice
    big = b'{"records": [' + b" " * (300 * 1024) + b"]}"
    response = await client.post("/records", data=big,
                                 headers={**headers, "Content-Type": "application/json"})
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "payload_too_large"


async def test_chunked_body_over_the_limit_is_413(client, alice):
    _, headers = alice

    async def chunks():
        for _ in range(40):
            yield b" " * 8192

    response = await client.post("/records", data=chunks(),
                                 headers={**headers, "Content-Type": "application/json"})
    assert response.status == 413


async def test_bad_json_and_media_type(client, alice):
    _, headers = alice
    response = await client.post("/records", data=b"{oops",
                                 headers={**headers, "Content-Type": "application/json"})
    assert response.status == 400
    response = await client.post("/records", data=b"",
                                 headers={**headers, "Content-Type": "application/json"})
    assert response.status == 400
    response = await client.post("/records", data=b"a=b", headers={
        **headers, "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 415
    response = await client.post("/records", json=[1, 2], headers=headers)
    assert response.status == 400


async def test_request_id_is_echoed_and_sent_to_graph(client, alice, backends):
    _, headers = alice
    response = await client.get("/records", headers={**headers, "X-Request-Id": "req-123"})
    assert response.headers["X-Request-Id"] == "req-123"
    call = [c for c in backends.graph.calls if c[0] == "ListRecords"][-1]
    assert call[2]["x-request-id"] == "req-123"
    generated = await client.get("/records", headers={**headers, "X-Request-Id": "bad id\t!"})
    assert len(generated.headers["X-Request-Id"]) == 32
    error = await client.get("/nope")
    assert error.headers["X-Request-Id"]


async def test_non_json_constants_and_huge_numbers_are_refused(client, alice):
    _, headers = alice
    from tests.unit.api.records_data import record as make

    for raw in (b'{"settings": {"x": NaN}}', b'{"settings": {"x": Infinity}}'):
        response = await client.patch("/users/me", data=raw,
                                      headers={**headers, "Content-Type": "application/json"})
        assert response.status == 400
    huge = await client.post("/records", json=make(metadata={"x": 1e400}), headers=headers)
    assert huge.status == 400


def test_grpc_codes_map_to_the_contract():
    import grpc
    from kushim_api.errors import from_grpc

    class Failed(grpc.aio.AioRpcError):
        def __init__(self, code):
            super().__init__(code, grpc.aio.Metadata(), grpc.aio.Metadata(), "details")

    expected = {
        grpc.StatusCode.NOT_FOUND: 404, grpc.StatusCode.ALREADY_EXISTS: 409,
        grpc.StatusCode.INVALID_ARGUMENT: 400, grpc.StatusCode.FAILED_PRECONDITION: 409,
        grpc.StatusCode.UNAVAILABLE: 503, grpc.StatusCode.DEADLINE_EXCEEDED: 503,
        grpc.StatusCode.CANCELLED: 503, grpc.StatusCode.ABORTED: 503,
    }
    for code, status in expected.items():
        assert from_grpc(Failed(code)).status == status, code
    assert from_grpc(Failed(grpc.StatusCode.INTERNAL)) is None
    assert from_grpc(Failed(grpc.StatusCode.UNKNOWN)) is None


async def test_readiness_checks_are_cached_for_their_ttl_but_draining_is_not(
        make_client, backends, clock):
    client = await make_client(readiness_cache_ms=2_000)
    from kushim_api import keys
    client.app[keys.READINESS]._clock = clock
    assert (await (await client.get("/health/ready")).json())["status"] == "ok"
    backends.graph.postgres = "down"
    clock.now += 1.9
    assert (await (await client.get("/health/ready")).json())["status"] == "ok"
    clock.now += 0.2
    stale_no_more = await client.get("/health/ready")
    assert stale_no_more.status == 503
    backends.graph.postgres = "up"
    clock.now += 2.1
    assert (await client.get("/health/ready")).status == 200
    client.app[keys.LIFECYCLE].draining = True
    draining = await client.get("/health/ready")
    assert draining.status == 503
    assert (await draining.json())["dependencies"]["gateway"] == "draining"


async def test_metrics_on_their_own_port_leave_the_public_port(make_client):
    import socket

    import aiohttp

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = await make_client(metrics_port=port)
    public = await client.get("/metrics")
    assert public.status == 404
    async with aiohttp.ClientSession() as session, session.get(
            f"http://127.0.0.1:{port}/metrics") as scraped:
        assert scraped.status == 200
        assert "kushim_http_request_duration_seconds" in await scraped.text()


async def test_only_idempotent_calls_are_retried_on_unavailable(client, alice, backends):
    _, headers = alice
    backends.graph.down = True
    created = await client.post("/context-groups", json={"name": "g"}, headers=headers)
    listed = await client.get("/context-groups", headers=headers)
    assert created.status == listed.status == 503
    attempts = [name for name, *_ in backends.graph.calls]
    assert attempts.count("CreateGroup") == 1
    assert attempts.count("ListGroups") > 1
