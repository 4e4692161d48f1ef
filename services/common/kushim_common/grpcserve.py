"""Serving a gRPC service the same way everywhere: health, mutual TLS, reflection when asked,
drain on SIGTERM."""

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Iterable

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from kushim_common.grpctls import GrpcSecurity
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
    """A grpc.aio server with the standard health service, and reflection only when
    GRPC_REFLECTION turns it on (it tells any caller every method and message).

    Health stays NOT_SERVING until `mark_serving()`, so probes only pass once
    the service's own dependencies are connected. With a health port, a second
    plaintext server answers health checks only, from the same servicer.
    """

    def __init__(
        self,
        service_names: Iterable[str],
        *,
        max_message_mb: int = 32,
        security: GrpcSecurity = GrpcSecurity(),  # noqa: B008 - frozen, shared safely
    ) -> None:
        options = [
            ("grpc.max_receive_message_length", max_message_mb * 1024 * 1024),
            ("grpc.max_send_message_length", max_message_mb * 1024 * 1024),
        ]
        self.server = grpc.aio.server(interceptors=[RequestIdInterceptor()], options=options)
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.service_names = list(service_names)
        self.security = security
        if security.reflection:
            reflection.enable_server_reflection(
                [*self.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], self.server
            )
        self.health_server: grpc.aio.Server | None = None
        self.port = 0

    def bind(self, address: str) -> int:
        tls = self.security.tls
        if tls is None:
            self.port = self.server.add_insecure_port(address)
        else:
            self.port = self.server.add_secure_port(address, tls.server_credentials())
        if self.port == 0:
            raise OSError(f"cannot listen on {address}")
        if self.security.health_port:
            host = address.rsplit(":", 1)[0]
            self.health_server = grpc.aio.server()
            health_pb2_grpc.add_HealthServicer_to_server(self.health, self.health_server)
            if self.health_server.add_insecure_port(f"{host}:{self.security.health_port}") == 0:
                raise OSError(f"cannot listen on {host}:{self.security.health_port}")
        return self.port

    async def start(self) -> None:
        await self.server.start()
        if self.health_server is not None:
            await self.health_server.start()
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
        if self.health_server is not None:
            await self.health_server.stop(0)


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
