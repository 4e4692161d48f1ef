"""Strict schema validation of every rendered object, offline (kubernetes-validate
bundles the schemas): an unknown or misspelt field fails."""

import copy

import kubernetes_validate
import pytest

from tests.deploy.support import KUBERNETES_VERSION


def errors_of(obj: dict) -> str | None:
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = "/".join(str(p) for p in exc.path)
        return f"{obj['kind']}/{obj['metadata']['name']}: {where}: {exc.message}"
    return None


def test_every_object_is_valid(overlay):
    problems = [e for o in overlay.objects if (e := errors_of(o))]
    assert not problems, "\n".join(problems)


def test_validation_is_strict(rendered):
    """The control: a misspelt field in a real object must fail."""
    deployment = copy.deepcopy(rendered["prod"].get("Deployment", "api"))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinessProbes"] = container.pop("readinessProbe")
    assert errors_of(deployment) is not None
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] = {"grpc": "x"}
    assert errors_of(deployment) is not None


def test_unknown_kinds_are_not_skipped():
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        kubernetes_validate.validate(
            {"apiVersion": "example.com/v1", "kind": "Nope", "metadata": {"name": "x"}},
            KUBERNETES_VERSION,
            strict=True,
        )
