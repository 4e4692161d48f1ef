"""Logging a dependency's state once per change, not per call: a Redis, Neo4j or lockcache
outage seen by every request would otherwise write a line per request, and its end none."""

import logging


class StateLog:
    """Remembers whether something is up and logs only when that changes: `down` (at WARNING,
    or `down_level`) when it goes down, `up` (at INFO) when it comes back. `initially` None
    means unknown: the first report is logged whichever way it goes."""

    def __init__(self, logger: logging.Logger, *, up: str, down: str,
                 initially: bool | None = True, down_level: int = logging.WARNING) -> None:
        self._log = logger
        self._messages = {True: (logging.INFO, up), False: (down_level, down)}
        self.up = initially

    def report(self, up: bool, *args: object) -> bool:
        """Notes the state; logs its message with `args` and returns True if it changed."""
        if up == self.up:
            return False
        self.up = up
        level, message = self._messages[up]
        self._log.log(level, message, *args)
        return True
