"""The readiness probe of the gRPC services: the standard health service answers SERVING.
Apart from probes.py because it needs grpcio, which devstack's own start does not."""

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def grpc_serving(addr: str) -> bool:
    """True when the health service at addr (host:port, plaintext) says SERVING; never raises."""
    try:
        with grpc.insecure_channel(addr) as channel:
            answer = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=1
            )
            return answer.status == health_pb2.HealthCheckResponse.SERVING
    except grpc.RpcError:
        return False
