"""The devstack test profile the integration suites run on (`python -m devstack test`): its
variables, and the ports of its spare range (base+40..99) for what tests start themselves."""

import os

import pytest

from devstack.ports import PortPool, Ports, test_port_base

PORT_BASE = test_port_base(os.environ)
SPARE_PORTS = Ports.test(PORT_BASE).spare

# One pool for every suite of a session: no two suites hand out the same port, and a
# restarted server gets a fresh one while the old one lingers in TIME_WAIT.
free_port = PortPool(SPARE_PORTS)


def required_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        pytest.fail(
            f"{name} is not set: run the suite with `python -m devstack test` "
            "(or export the variables printed by `python -m devstack env --profile test`)"
        )
    return value
