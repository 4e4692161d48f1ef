"""Local infrastructure for Kushim: PostgreSQL, Redis, Redis Sentinel and Neo4j as child
processes with project-owned data under var/, plus the launcher behind `make run` and
`make test`. Standard library only: it runs before, and without, the services' dependencies."""

from devstack.neo4j import Neo4jServer
from devstack.ports import Ports
from devstack.postgres import PostgresServer
from devstack.process import ServerProcess, StartError
from devstack.redis import RedisServer, RedisTLS, SentinelServer
from devstack.services import ServiceProcess
from devstack.stack import Stack

__all__ = [
    "Neo4jServer",
    "Ports",
    "PostgresServer",
    "RedisServer",
    "RedisTLS",
    "SentinelServer",
    "ServerProcess",
    "ServiceProcess",
    "Stack",
    "StartError",
]
