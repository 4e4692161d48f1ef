"""python -m kushim_api: read the configuration, serve until SIGTERM, drain, exit 0."""

import logging
import os
import sys

from aiohttp import web
from kushim_common.envconfig import load_or_exit
from kushim_common.logs import setup_logging

from kushim_api.app import create_app
from kushim_api.config import DEV_TOKEN_SECRET, Config

log = logging.getLogger("kushim_api")


def main() -> int:
    config = load_or_exit("kushim-api", Config.from_env, os.environ)
    setup_logging(config.log_level)
    if config.auth_token_secret == DEV_TOKEN_SECRET:
        log.warning("AUTH_TOKEN_SECRET not set: using the development default")
    log.info("Starting gateway on %s:%d with %r", config.bind_host, config.port, config)
    web.run_app(
        create_app(config),
        host=config.bind_host,
        port=config.port,
        shutdown_timeout=config.shutdown_grace_seconds,
        access_log=None,
        print=None,
        handle_signals=True,
    )
    log.info("Gateway stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
