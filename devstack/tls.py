"""A local certificate authority and one certificate per service, for mutual TLS between the
services (GRPC_TLS_* settings) and between lockcache and a TLS Redis, made once per profile
under var/<profile>/tls/ with the openssl command line and reused while they stay valid."""

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from devstack.process import StartError

# "redis": the servers' certificate when Redis runs with TLS (lockcache's is its client one).
SERVICES = ("api", "graph", "lockcache", "redis")
DAYS = 825
CURVE = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
# Every service both serves and calls: its certificate names it, and loopback, for both uses.
EXTENSIONS = """subjectAltName = DNS:{name}, DNS:localhost, IP:127.0.0.1
extendedKeyUsage = serverAuth, clientAuth
basicConstraints = CA:FALSE
"""


@dataclass(frozen=True)
class ServiceCerts:
    dir: Path

    @property
    def ca(self) -> Path:
        return self.dir / "ca.crt"

    def cert(self, service: str) -> Path:
        return self.dir / f"{service}.crt"

    def key(self, service: str) -> Path:
        return self.dir / f"{service}.key"

    def env(self, service: str) -> dict[str, str]:
        """The settings that make `service` speak mutual TLS with these certificates."""
        return {
            "GRPC_TLS_CA_CERT": str(self.ca),
            "GRPC_TLS_CERT": str(self.cert(service)),
            "GRPC_TLS_KEY": str(self.key(service)),
        }

    def files(self) -> list[Path]:
        return [self.ca, *(p for s in SERVICES for p in (self.cert(s), self.key(s)))]


def _openssl(*args: str, cwd: Path) -> None:
    binary = shutil.which("openssl")
    if binary is None:
        raise StartError("openssl is not installed; run python -m devstack install")
    try:
        subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [binary, *args], cwd=cwd, check=True, capture_output=True, text=True
        )
    except subprocess.CalledProcessError as exc:
        raise StartError(f"openssl {args[0]} failed: {exc.stderr.strip()}") from None


def ensure_certs(directory: Path) -> ServiceCerts:
    """The CA and service certificates in `directory`, made if any is missing."""
    certs = ServiceCerts(directory)
    if all(path.exists() for path in certs.files()):
        return certs
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    _openssl(
        "req", "-x509", *CURVE, "-keyout", "ca.key", "-out", "ca.crt",
        "-days", str(DAYS), "-subj", "/CN=kushim local CA", cwd=directory,
    )  # fmt: skip
    for service in SERVICES:
        (directory / f"{service}.ext").write_text(EXTENSIONS.format(name=service))
        _openssl(
            "req", *CURVE, "-keyout", f"{service}.key", "-out", f"{service}.csr",
            "-subj", f"/CN={service}", cwd=directory,
        )  # fmt: skip
        _openssl(
            "x509", "-req", "-in", f"{service}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{service}.crt", "-days", str(DAYS),
            "-extfile", f"{service}.ext", cwd=directory,
        )  # fmt: skip
    for key in directory.glob("*.key"):
        key.chmod(0o600)
    return certs
