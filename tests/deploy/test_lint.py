"""kube-score on every overlay: every finding fails, unless deploy/k8s/kube-score.yaml
excludes it with a written reason (and an exclusion nothing needs fails too)."""

import json
import subprocess

import pytest
import yaml

from tests.deploy.support import K8S, KUBERNETES_VERSION, OVERLAYS

EXCLUSIONS = K8S / "kube-score.yaml"
OK_GRADE = 10


def exclusions() -> list[dict]:
    return yaml.safe_load(EXCLUSIONS.read_text())["exclusions"]


def test_every_exclusion_has_a_reason():
    for entry in exclusions():
        assert set(entry) <= {"check", "reason", "overlays", "objects"}, entry
        assert entry["check"], entry
        assert len(entry.get("reason", "").split()) >= 8, f"{entry['check']}: say why"
        assert set(entry.get("overlays", OVERLAYS)) <= set(OVERLAYS), entry


def _excluded(entry: dict, overlay: str, kind: str, name: str) -> bool:
    if overlay not in entry.get("overlays", OVERLAYS):
        return False
    objects = entry.get("objects")
    return objects is None or f"{kind}/{name}" in objects


def kube_score(tool_bin, rendered) -> list[dict]:
    proc = subprocess.run(  # noqa: S603 - fixed argv
        [
            str(tool_bin / "kube-score"),
            "score",
            "--all-default-optional",
            "--kubernetes-version",
            f"v{KUBERNETES_VERSION}",
            "--output-format",
            "json",
            "-",
        ],
        input=rendered.text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.stdout.strip(), f"kube-score: {proc.stderr.strip()}"
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def scores(tool_bin, rendered):
    return {overlay: kube_score(tool_bin, rendered[overlay]) for overlay in OVERLAYS}


def test_kube_score_finds_nothing_unexcused(scores):
    findings, used = [], set()
    for overlay, results in scores.items():
        for obj in results:
            kind, name = obj["type_meta"]["kind"], obj["object_meta"]["name"]
            for check in obj["checks"]:
                if check["skipped"] or check["grade"] >= OK_GRADE:
                    continue
                check_id = check["check"]["id"]
                matching = [
                    i
                    for i, e in enumerate(exclusions())
                    if e["check"] == check_id and _excluded(e, overlay, kind, name)
                ]
                if matching:
                    used.update(matching)
                    continue
                for comment in check["comments"] or [{}]:
                    findings.append(
                        f"{overlay} {kind}/{name} [{check_id}] "
                        f"{comment.get('path', '')} {comment.get('summary', '')}".rstrip()
                    )
    assert not findings, "kube-score:\n" + "\n".join(findings)
    unused = [e["check"] for i, e in enumerate(exclusions()) if i not in used]
    assert not unused, f"exclusions nothing needs any more: {unused}"
