"""python -m kushim_graph: the graph gRPC service."""

import asyncio
import logging
import os
import sys

from kushim_common.logs import setup_logging
from prometheus_client import start_http_server

from kushim_graph.config import Config, ConfigError
from kushim_graph.server import serve


def main() -> None:
    try:
        config = Config.from_env(os.environ)
    except ConfigError as exc:
        sys.exit(f"graph: {exc}")
    setup_logging(config.log_level)
    # The driver logs every retry of an unreachable server; the outbox worker logs the outage
    # once per state change instead.
    logging.getLogger("neo4j").setLevel(logging.ERROR)
    if config.metrics_port:
        start_http_server(config.metrics_port, addr=config.bind_host)
    asyncio.run(serve(config))


if __name__ == "__main__":
    main()
