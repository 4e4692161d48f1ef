"""Auto-pipelining: the scripts that concurrent calls run on one Redis server during one loop
tick go out as one pipeline, one write and one read on one connection instead of one round trip
(and one pooled connection) per call.

Each call still gets its own answer: a script's error (a refusal, out of memory) goes to its
call only, and a failure of the whole pipeline (the server is down) to every call in it. The
pipeline runs through RedisNode.run, so outages are logged and counted as for a single command,
bounded by the latest deadline of the calls it carries; each call gives up at its own deadline.

Scripts go out as EVALSHA: redis-py's script pipelines ask SCRIPT EXISTS on every execute, a
second round trip. A server that lost its scripts (a restart, SCRIPT FLUSH) answers NOSCRIPT
for the ones that did not run; they are loaded and only those are run again.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from kushim_lockcache import deadline
from kushim_lockcache.connection import RedisNode, Unavailable


@dataclass
class _Call:
    script: AsyncScript
    keys: Sequence[str]
    args: Sequence[object]
    answer: asyncio.Future = field(repr=False)
    deadline: float | None


class AutoPipeline:
    def __init__(self, node: RedisNode) -> None:
        self.node = node
        self._queued: list[_Call] = []

    async def eval(self, script: AsyncScript, keys: Sequence[str], args: Sequence[object]):
        """The script's answer, as `script(keys, args)` would give it; raises Unavailable or
        the RedisError the script raised."""
        loop = asyncio.get_running_loop()
        call = _Call(script, keys, args, loop.create_future(), deadline.current())
        self._queued.append(call)
        if len(self._queued) == 1:
            loop.call_soon(self._flush)
        try:
            async with deadline.timeout():
                return await call.answer
        except TimeoutError:
            raise Unavailable(f"{self.node.name}: no answer before the call's deadline") from None

    def _flush(self) -> None:
        calls, self._queued = self._queued, []
        self.node.keep(asyncio.ensure_future(self._run(calls)))

    async def _run(self, calls: list[_Call]) -> None:
        calls = [c for c in calls if not c.answer.done()]  # drop the ones that gave up
        if not calls:
            return
        ends = [c.deadline for c in calls]
        try:
            with deadline.at(None if None in ends else max(ends)):
                answers = await self.node.run(lambda client: _pipelined(client, calls))
                missing = [c for c, a in zip(calls, answers, strict=True) if _no_script(a)]
                if missing:
                    await self.node.run(lambda client: _load({c.script for c in missing}))
                    reloaded = iter(await self.node.run(lambda client: _pipelined(client, missing)))
                    answers = [next(reloaded) if _no_script(a) else a for a in answers]
        except Exception as exc:  # noqa: BLE001 - every call of the pipeline gets it
            for c in calls:
                if not c.answer.done():
                    c.answer.set_exception(exc)
            return
        for c, answer in zip(calls, answers, strict=True):
            if c.answer.done():
                continue
            if isinstance(answer, Exception):
                c.answer.set_exception(answer)
            else:
                c.answer.set_result(answer)


def _no_script(answer: object) -> bool:
    return isinstance(answer, NoScriptError)


async def _pipelined(client, calls: list[_Call]) -> list:
    async with client.pipeline(transaction=False) as pipe:
        for c in calls:
            pipe.evalsha(c.script.sha, len(c.keys), *c.keys, *c.args)
        return await pipe.execute(raise_on_error=False)


async def _load(scripts: set[AsyncScript]) -> None:
    for script in scripts:
        await script.registered_client.script_load(script.script)
