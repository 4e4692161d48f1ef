"""python -m kushim_lockcache: wiring only."""

import asyncio
import logging
import os
import sys

from kushim_common.grpcserve import run_until_signalled
from kushim_common.logs import setup_logging

from kushim_lockcache.backends import StartupError
from kushim_lockcache.config import Config, ConfigError
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
    try:
        config = Config.from_env(os.environ)
    except ConfigError as exc:
        log.critical("Bad configuration: %s", exc)
        sys.exit(2)
    setup_logging(config.log_level)
    log.info("Starting lockcache: %r", config)
    asyncio.run(serve(config))


if __name__ == "__main__":
    main()
