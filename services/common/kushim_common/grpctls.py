"""Mutual TLS between the services: one CA, a certificate per service, callers authenticated.

Settings, the same in every service: GRPC_TLS_CA_CERT, GRPC_TLS_CERT and GRPC_TLS_KEY, PEM
files, all three or none (none: plaintext, for tests of single components only). With them a
server accepts only callers whose certificate the CA signed, and a client checks the server's
certificate against the CA and presents its own. Graph trusts the user_id its callers send,
so who may call it is decided here, not per request.

GRPC_HEALTH_PORT (servers): a second, plaintext listener that serves only grpc.health.v1, for
probes that cannot present a certificate (the kubelet's native gRPC probe). 0 = none.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import grpc

from kushim_common.envconfig import ConfigError, read_bool, read_port


@dataclass(frozen=True)
class GrpcTls:
    ca_cert: str
    cert: str
    key: str

    def _read(self) -> tuple[bytes, bytes, bytes]:
        return tuple(Path(p).read_bytes() for p in (self.ca_cert, self.cert, self.key))

    def server_credentials(self) -> grpc.ServerCredentials:
        ca, cert, key = self._read()
        return grpc.ssl_server_credentials(
            [(key, cert)], root_certificates=ca, require_client_auth=True
        )

    def channel_credentials(self) -> grpc.ChannelCredentials:
        ca, cert, key = self._read()
        return grpc.ssl_channel_credentials(
            root_certificates=ca, private_key=key, certificate_chain=cert
        )


@dataclass(frozen=True)
class GrpcSecurity:
    """What a service reads for its gRPC links: TLS (None = plaintext), and for servers
    whether reflection is on and where the plaintext health listener is."""

    tls: GrpcTls | None = None
    reflection: bool = False
    health_port: int = 0


def read_grpc_security(environ: Mapping[str, str]) -> GrpcSecurity:
    paths = {
        "GRPC_TLS_CA_CERT": environ.get("GRPC_TLS_CA_CERT", "").strip(),
        "GRPC_TLS_CERT": environ.get("GRPC_TLS_CERT", "").strip(),
        "GRPC_TLS_KEY": environ.get("GRPC_TLS_KEY", "").strip(),
    }
    given = [name for name, path in paths.items() if path]
    tls = None
    if given:
        missing = [name for name in paths if name not in given]
        if missing:
            raise ConfigError(f"{missing[0]} must be set with {given[0]} for mutual TLS")
        for name, path in paths.items():
            if not os.path.isfile(path):
                raise ConfigError(f"{name}: no such file {path!r}")
        tls = GrpcTls(*paths.values())
    return GrpcSecurity(
        tls=tls,
        reflection=read_bool(environ, "GRPC_REFLECTION", False),
        health_port=read_port(environ, "GRPC_HEALTH_PORT", 0, allow_zero=True),
    )
