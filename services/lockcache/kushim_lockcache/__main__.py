"""python -m kushim_lockcache: wiring only."""

import asyncio
import logging
import os
import sys

import uvloop
from kushim_common.envconfig import load_or_exit
from kushim_common.grpcserve import run_until_signalled
from kushim_common.logs import setup_logging

from kushim_lockcache.backends import StartupError
from kushim_lockcache.config import Config
from kushim_lockcache.server import LockcacheServer

log = logging.getLogger("kushim_lockcache")

GRACE_SECONDS = 5.0


async def serve(config: Config) -> None:
    server = LockcacheServer(config)
    try:
        await server.start()
    except StartupError as exc:
        log.critical("%s", exc)
        await server.close()
        sys.exit(1)
    # The whole server stops (not only its gRPC side): invalidation streams end first.
    await run_until_signalled(server, grace_seconds=GRACE_SECONDS)


def main() -> None:
    setup_logging("INFO")
    config = load_or_exit("kushim-lockcache", Config.from_env, os.environ)
    setup_logging(config.log_level)
    log.info("Starting lockcache: %r", config)
    # uvloop: less time in the event loop per call, which every gRPC call and Redis reply pays.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop if config.uvloop else None) as runner:
        runner.run(serve(config))


if __name__ == "__main__":
    main()
