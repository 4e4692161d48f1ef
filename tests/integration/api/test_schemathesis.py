"""schemathesis against a live gateway process on the real services: no 5xx, and every
answer (status, content type, body) conforms to /openapi.json."""

import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.api.support import LogBuffer, start_gateway, unique_email

# make fuzz multiplies the examples per operation through FUZZ_EXAMPLES.
EXAMPLES = 16 * int(os.environ.get("FUZZ_EXAMPLES", "1"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture(scope="module")
def live_gateway(backends):
    log = LogBuffer()
    process, port = start_gateway(log, backends.graph_addr, backends.lockcache_addr,
                                  name="api-fuzz")
    url = f"http://127.0.0.1:{port}"
    answer = requests.post(f"{url}/auth/register", timeout=30, json={
        "email": unique_email(), "password": "correct horse battery"})
    answer.raise_for_status()
    token = answer.json()["token"]
    yield url, {"Authorization": f"Bearer {token}"}
    process.stop()
    assert process.returncode == 0


def test_api_conforms_to_its_description(live_gateway):
    url, auth = live_gateway
    document = requests.get(f"{url}/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(document)
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=strategies.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                                      operation.as_strategy(GenerationMode.NEGATIVE)))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def conforms(case):
            case.call_and_validate(base_url=url, headers=auth, checks=CHECKS, timeout=30)

        try:
            conforms()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported below
            failures.append(f"{operation.label}: {exc}")
    assert operations == sum(len(ops) for ops in document["paths"].values())
    assert not failures, "\n\n".join(failures)
    metrics = requests.get(f"{url}/metrics", timeout=30).text
    served = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                 if line.startswith("kushim_http_request_duration_seconds_count"))
    assert served >= operations * EXAMPLES / 2
