"""Safe rollouts and locked-down pods, for every workload of every overlay."""

import re

from tests.deploy.dockerfile import image
from tests.deploy.support import SERVICES, containers, name_label, pod_spec

TMP = "/tmp"  # noqa: S108 - the path checked in manifests, not used here
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")


def test_pods_are_hardened(overlay):
    problems = []
    for w in overlay.workloads():
        spec, name = pod_spec(w), f"{w['kind']}/{w['metadata']['name']}"
        pod_sc = spec.get("securityContext") or {}
        if pod_sc.get("runAsNonRoot") is not True or not pod_sc.get("runAsUser"):
            problems.append(f"{name}: pod runAsNonRoot/runAsUser")
        if (pod_sc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            problems.append(f"{name}: seccomp RuntimeDefault")
        if spec.get("automountServiceAccountToken") is not False:
            problems.append(f"{name}: automountServiceAccountToken")
        if spec.get("hostNetwork") or spec.get("hostPID") or spec.get("hostIPC"):
            problems.append(f"{name}: host namespaces")
        mounts_tmp = False
        for c in containers(w):
            sc = c.get("securityContext") or {}
            where = f"{name}/{c['name']}"
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation")
            if sc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: readOnlyRootFilesystem")
            if sc.get("capabilities", {}).get("drop") != ["ALL"] or sc["capabilities"].get("add"):
                problems.append(f"{where}: capabilities drop ALL, add none")
            if sc.get("privileged"):
                problems.append(f"{where}: privileged")
            res = c.get("resources") or {}
            for part in ("requests", "limits"):
                if not {"cpu", "memory"} <= set(res.get(part) or {}):
                    problems.append(f"{where}: resources.{part}")
            if ":" not in c["image"] or c["image"].endswith(":latest"):
                problems.append(f"{where}: image {c['image']} is not pinned")
            mounts_tmp |= any(m["mountPath"] == TMP for m in c.get("volumeMounts") or [])
        if not mounts_tmp:
            problems.append(f"{name}: a writable /tmp (emptyDir) for a read-only root")
    assert not problems, "\n".join(problems)


def test_one_service_account_each_without_token(overlay):
    r = overlay
    accounts = {sa["metadata"]["name"]: sa for sa in r.of_kind("ServiceAccount")}
    seen: dict[str, str] = {}
    for w in r.workloads():
        account = pod_spec(w).get("serviceAccountName")
        assert account in accounts, f"{w['metadata']['name']}: own ServiceAccount"
        assert accounts[account].get("automountServiceAccountToken") is False, account
        assert seen.setdefault(account, w["metadata"]["name"]) == w["metadata"]["name"], account
    assert not r.of_kind("Role") and not r.of_kind("RoleBinding"), "no pod needs the API"


def test_long_running_pods_have_probes_pdbs_and_spread(overlay):
    r = overlay
    pdbs = [p["spec"]["selector"]["matchLabels"] for p in r.of_kind("PodDisruptionBudget")]
    problems = []
    for w in r.workloads():
        if w["kind"] == "Job":
            continue
        name = f"{w['kind']}/{w['metadata']['name']}"
        labels = w["spec"]["template"]["metadata"]["labels"]
        if not any(sel.items() <= labels.items() for sel in pdbs):
            problems.append(f"{name}: no PodDisruptionBudget")
        anti = (pod_spec(w).get("affinity") or {}).get("podAntiAffinity") or {}
        terms = [t.get("podAffinityTerm", t) for v in anti.values() for t in v]
        if not any(t["topologyKey"] == "kubernetes.io/hostname" for t in terms):
            problems.append(f"{name}: pod anti-affinity across nodes")
        for c in pod_spec(w)["containers"]:
            missing = [p for p in PROBES if p not in c]
            if missing:
                problems.append(f"{name}/{c['name']}: {missing}")
    assert not problems, "\n".join(problems)


def test_services_roll_out_without_losing_capacity(overlay):
    r = overlay
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in r.of_kind("HorizontalPodAutoscaler")}
    for service in SERVICES:
        d = r.get("Deployment", service)
        strategy = d["spec"]["strategy"]
        assert strategy["type"] == "RollingUpdate"
        assert strategy["rollingUpdate"]["maxUnavailable"] == 0, service
        assert strategy["rollingUpdate"]["maxSurge"] >= 1, service
        if service in hpas:
            assert "replicas" not in d["spec"], f"{service}: the HPA owns the count"
        else:
            assert d["spec"]["replicas"] >= 2, service
    api_hpa = hpas["api"]
    assert api_hpa["spec"]["minReplicas"] >= 2
    (metric,) = api_hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    cpu_request = r.get("Deployment", "api")["spec"]["template"]["spec"]["containers"][0][
        "resources"
    ]["requests"]["cpu"]
    assert cpu_request, "CPU utilization needs a CPU request"


def test_pdbs_leave_room_to_drain(overlay):
    """A PDB that allows no disruption at the planned replica count blocks every node drain."""
    r = overlay
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in r.of_kind("HorizontalPodAutoscaler")}
    for pdb in r.of_kind("PodDisruptionBudget"):
        selector = pdb["spec"]["selector"]["matchLabels"]
        (w,) = [
            w
            for w in r.workloads()
            if selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()
        ]
        name = w["metadata"]["name"]
        replicas = w["spec"].get("replicas") or hpas[name]["spec"]["minReplicas"]
        if "minAvailable" in pdb["spec"]:
            assert pdb["spec"]["minAvailable"] < replicas, name
        else:
            assert pdb["spec"]["maxUnavailable"] >= 1, name


def test_pods_run_as_the_image_user(overlay):
    r = overlay
    for service in SERVICES:
        users = image(service).target.args("USER")
        assert users and re.fullmatch(r"\d+(:\d+)?", users[-1]), f"{service}: USER uid[:gid]"
        uid, _, gid = users[-1].partition(":")
        sc = pod_spec(r.get("Deployment", service))["securityContext"]
        assert sc["runAsUser"] == int(uid), service
        if gid:
            assert sc["runAsGroup"] == int(gid), service


def test_workload_labels_are_consistent(overlay):
    r = overlay
    for w in r.workloads():
        template_labels = w["spec"]["template"]["metadata"]["labels"]
        assert template_labels["app.kubernetes.io/name"] == name_label(w)
        selector = (w["spec"].get("selector") or {}).get("matchLabels")
        if selector is not None:
            assert selector == {"app.kubernetes.io/name": name_label(w)}, w["metadata"]["name"]
