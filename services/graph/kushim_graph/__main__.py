"""python -m kushim_graph: the graph gRPC service."""

import asyncio
import logging
import os

from kushim_common.envconfig import load_or_exit
from kushim_common.logs import setup_logging
from prometheus_client import start_http_server

from kushim_graph.config import Config
from kushim_graph.server import serve


def main() -> None:
    config = load_or_exit("kushim-graph", Config.from_env, os.environ)
    setup_logging(config.log_level)
    # The driver logs every retry of an unreachable server; the outbox worker logs the outage
    # once per state change instead.
    logging.getLogger("neo4j").setLevel(logging.ERROR)
    if config.metrics_port:
        start_http_server(config.metrics_port, addr=config.bind_host)
    asyncio.run(serve(config))


if __name__ == "__main__":
    main()
