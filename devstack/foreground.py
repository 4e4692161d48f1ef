"""Ctrl-C and SIGTERM for the commands that stay in the foreground (run, test, the `up`
supervisor): interrupt a start, end a wait, and never break off a stop half-way."""

import logging
import signal
import threading

log = logging.getLogger(__name__)


class Shutdown:
    STARTING, RUNNING, STOPPING = "starting", "running", "stopping"

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.phase = self.STARTING

    def install(self) -> "Shutdown":
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)
        return self

    def _handle(self, signum: int, frame: object) -> None:
        if self.phase == self.STOPPING:
            log.info("already stopping, please wait")
            return
        log.info("%s received; stopping", signal.Signals(signum).name)
        self.requested.set()
        if self.phase == self.STARTING:
            raise KeyboardInterrupt  # breaks off the start; its cleanup stops what did start

    def wait(self, timeout: float) -> bool:
        """True once a stop was requested; otherwise returns after timeout seconds."""
        return self.requested.wait(timeout)
