"""Serving a gRPC service the same way everywhere: health, reflection, drain on SIGTERM."""

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Iterable

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from kushim_common.logs import request_id_var

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-request-id"


class RequestIdInterceptor(grpc.aio.ServerInterceptor):
    """Copies the caller's x-request-id into the log context of the handler."""

    async def intercept_service(self, continuation, handler_call_details):
        for key, value in handler_call_details.invocation_metadata or ():
            if key == REQUEST_ID_HEADER:
                request_id_var.set(value)
                break
        return await continuation(handler_call_details)


class GrpcServer:
    """A grpc.aio server with the standard health service and reflection.

    Health stays NOT_SERVING until `mark_serving()`, so probes only pass once
    the service's own dependencies are connected.
    """

    def __init__(self, service_names: Iterable[str], *, max_message_mb: int = 32) -> None:
        options = [
            ("grpc.max_receive_message_length", max_message_mb * 1024 * 1024),
            ("grpc.max_send_message_length", max_message_mb * 1024 * 1024),
        ]
        self.server = grpc.aio.server(interceptors=[RequestIdInterceptor()], options=options)
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.service_names = list(service_names)
        reflection.enable_server_reflection(
            [*self.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], self.server
        )
        self.port = 0

    def bind(self, address: str) -> int:
        self.port = self.server.add_insecure_port(address)
        if self.port == 0:
            raise OSError(f"cannot listen on {address}")
        return self.port

    async def start(self) -> None:
        await self.server.start()
        await self._set_all(health_pb2.HealthCheckResponse.NOT_SERVING)

    async def mark_serving(self, serving: bool = True) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        await self._set_all(status)

    async def _set_all(self, status) -> None:
        await self.health.set("", status)
        for name in self.service_names:
            await self.health.set(name, status)

    async def stop(self, grace_seconds: float) -> None:
        """Probes fail first so traffic moves away, then in-flight calls finish."""
        await self.mark_serving(False)
        await self.server.stop(grace_seconds)


async def run_until_signalled(
    server: GrpcServer,
    *,
    grace_seconds: float,
    on_stop: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Serves until SIGTERM or SIGINT, then drains and runs `on_stop`."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("Shutting down: draining for up to %.1f s", grace_seconds)
    await server.stop(grace_seconds)
    if on_stop is not None:
        await on_stop()
