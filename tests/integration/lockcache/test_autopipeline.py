"""Auto-pipelining on a real Redis: concurrent calls share a pipeline, each gets its own answer
or error, lost scripts are reloaded, outages and deadlines answer Unavailable."""

import asyncio

import pytest
from kushim_lockcache import deadline
from kushim_lockcache.autopipeline import AutoPipeline
from kushim_lockcache.connection import RedisNode, Unavailable
from redis.exceptions import ResponseError

ECHO = "return ARGV[1]"
REFUSE = "return redis.error_reply('refused here')"
COUNT = "return redis.call('INCR', KEYS[1])"


@pytest.fixture
def server(redis_servers):
    return redis_servers()


@pytest.fixture
async def node(server, direct):
    node = RedisNode("test", direct(server))
    yield node
    await node.drain()


async def clients_of(node: RedisNode) -> int:
    info = await node.client.info("clients")
    return int(info["connected_clients"])


async def test_concurrent_calls_get_their_own_answers_over_one_connection(node):
    pipeline = AutoPipeline(node)
    echo = node.client.register_script(ECHO)
    answers = await asyncio.gather(*(pipeline.eval(echo, [], [f"v{i}"]) for i in range(50)))
    assert answers == [f"v{i}".encode() for i in range(50)]
    # one pipeline: one pooled connection besides the one INFO opens again
    assert await clients_of(node) == 1


async def test_a_script_error_goes_to_its_call_only(node):
    pipeline = AutoPipeline(node)
    echo, refuse = node.client.register_script(ECHO), node.client.register_script(REFUSE)
    answers = await asyncio.gather(
        pipeline.eval(echo, [], ["a"]),
        pipeline.eval(refuse, [], []),
        pipeline.eval(echo, [], ["b"]),
        return_exceptions=True,
    )
    assert answers[0] == b"a" and answers[2] == b"b"
    assert isinstance(answers[1], ResponseError) and "refused here" in str(answers[1])


async def test_scripts_the_server_lost_are_loaded_and_run_once(node):
    pipeline = AutoPipeline(node)
    count = node.client.register_script(COUNT)
    assert await pipeline.eval(count, ["n"], []) == 1
    await node.client.script_flush()
    answers = await asyncio.gather(*(pipeline.eval(count, ["n"], []) for _ in range(3)))
    assert sorted(answers) == [2, 3, 4]  # each ran exactly once
    assert int(await node.client.get("n")) == 4


async def test_a_server_that_is_down_fails_every_call_as_unavailable(node, server):
    pipeline = AutoPipeline(node)
    echo = node.client.register_script(ECHO)
    assert await pipeline.eval(echo, [], ["up"]) == b"up"
    server.stop()
    answers = await asyncio.gather(
        *(pipeline.eval(echo, [], [str(i)]) for i in range(3)), return_exceptions=True
    )
    assert all(isinstance(a, Unavailable) for a in answers), answers
    assert node.up is False


async def test_a_call_past_its_deadline_answers_unavailable_and_the_pipeline_finishes(node):
    pipeline = AutoPipeline(node)
    count = node.client.register_script(COUNT)
    with (
        deadline.at(asyncio.get_running_loop().time() - 1),
        pytest.raises(Unavailable, match="deadline"),
    ):
        await pipeline.eval(count, ["late"], [])
    await node.drain()
    assert int(await node.client.get("late") or 0) <= 1  # ran at most once, never cut off
    assert not node.in_flight
