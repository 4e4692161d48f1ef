"""Whether this instance is draining (SIGTERM received): readiness then answers 503."""


class Lifecycle:
    def __init__(self) -> None:
        self.draining = False
