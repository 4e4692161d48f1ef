"""The NetworkPolicies allow exactly the edges of the architecture, no more.

Evaluates the rendered policies the way a CNI does (a pod selected by any policy
of a direction is isolated in that direction; traffic passes when an egress rule
of the source and an ingress rule of the destination both admit it) over every
pair of pods and every declared container port, and compares the result with the
expected edge list. Peers outside the pods (ipBlock, other namespaces, any
source) appear as "external" or "kube-dns".
"""

from dataclasses import dataclass

import pytest

from tests.deploy.support import Rendered, name_label, pod_spec

ANY = "external"
DNS = "kube-dns"

SERVICE_EDGES = {
    (ANY, "api", 3001),
    ("api", "lockcache", 50051),
    ("api", "graph", 50052),
    ("graph", "lockcache", 50051),
}
EXPECTED = {
    "dev": SERVICE_EDGES
    | {
        ("lockcache", "redis", 6379),
        ("graph", "postgres", 5432),
        ("graph", "neo4j", 7687),
        ("graph-migrate", "postgres", 5432),
    },
    "prod": SERVICE_EDGES
    | {
        ("lockcache", "redis-cache", 6379),
        ("lockcache", "redis-sentinel", 26379),
        ("lockcache", "redis-lock", 6379),
        # Sentinel's own traffic: monitoring and votes, replication, and a
        # starting Redis asking the Sentinels who the master is.
        ("redis-sentinel", "redis-cache", 6379),
        ("redis-sentinel", "redis-sentinel", 26379),
        ("redis-cache", "redis-cache", 6379),
        ("redis-cache", "redis-sentinel", 26379),
        # PostgreSQL and Neo4j outside the cluster.
        ("graph", ANY, 5432),
        ("graph", ANY, 7687),
        ("graph-migrate", ANY, 5432),
    },
}


@dataclass(frozen=True)
class Pod:
    name: str
    labels: dict
    ports: dict  # name -> (number, protocol)


def pods_of(r: Rendered) -> list[Pod]:
    result = []
    for w in r.workloads():
        ports = {}
        for c in pod_spec(w)["containers"]:
            for p in c.get("ports") or []:
                ports[p.get("name", str(p["containerPort"]))] = (
                    p["containerPort"],
                    p.get("protocol", "TCP"),
                )
        result.append(Pod(name_label(w), w["spec"]["template"]["metadata"]["labels"], ports))
    return result


def selects(selector: dict, labels: dict) -> bool:
    assert set(selector) <= {"matchLabels"}, f"unsupported selector {selector}"
    return (selector.get("matchLabels") or {}).items() <= labels.items()


def peer_matches(peer: dict, pod: Pod | str) -> bool:
    """A rule peer against a pod of this namespace, or an outside target name."""
    if isinstance(pod, str):
        if pod == DNS:
            ns = (peer.get("namespaceSelector") or {}).get("matchLabels") or {}
            app = (peer.get("podSelector") or {}).get("matchLabels") or {}
            return ns.get("kubernetes.io/metadata.name") == "kube-system" and app == {
                "k8s-app": "kube-dns"
            }
        return "ipBlock" in peer
    if "ipBlock" in peer or "namespaceSelector" in peer:
        return False
    return selects(peer["podSelector"], pod.labels)


def port_matches(rule_ports: list | None, number: int, protocol: str, named: dict) -> bool:
    if not rule_ports:
        return True
    for p in rule_ports:
        if p.get("protocol", "TCP") != protocol:
            continue
        port = p.get("port")
        if port is None or port == number or named.get(port) == (number, protocol):
            return True
    return False


class Policies:
    def __init__(self, r: Rendered):
        self.items = r.of_kind("NetworkPolicy")

    def _applying(self, pod: Pod, direction: str) -> list[dict]:
        return [
            p
            for p in self.items
            if direction in p["spec"]["policyTypes"]
            and selects(p["spec"]["podSelector"], pod.labels)
        ]

    def egress(self, src: Pod, dst: Pod | str, number: int, protocol: str) -> bool:
        policies = self._applying(src, "Egress")
        if not policies:
            return True
        named = dst.ports if isinstance(dst, Pod) else {}
        for p in policies:
            for rule in p["spec"].get("egress") or []:
                to = rule.get("to")
                if (not to or any(peer_matches(peer, dst) for peer in to)) and port_matches(
                    rule.get("ports"), number, protocol, named
                ):
                    return True
        return False

    def ingress(self, src: Pod | str, dst: Pod, number: int, protocol: str) -> bool:
        policies = self._applying(dst, "Ingress")
        if not policies:
            return True
        for p in policies:
            for rule in p["spec"].get("ingress") or []:
                sources = rule.get("from")
                if isinstance(src, str):
                    ok = not sources or any(
                        "ipBlock" in s or "namespaceSelector" in s for s in sources
                    )
                else:
                    ok = not sources or any(peer_matches(s, src) for s in sources)
                if ok and port_matches(rule.get("ports"), number, protocol, dst.ports):
                    return True
        return False


def edges(r: Rendered) -> tuple[set, set]:
    """(edges both sides allow, half-open edges one side allows and the other denies)."""
    pods, policies = pods_of(r), Policies(r)
    full, half = set(), set()
    for dst in pods:
        for number, protocol in dst.ports.values():
            for src in pods:
                out = policies.egress(src, dst, number, protocol)
                inn = policies.ingress(src, dst, number, protocol)
                if out and inn:
                    full.add((src.name, dst.name, number))
                elif out:
                    half.add((src.name, dst.name, number, "egress without ingress"))
            if policies.ingress(ANY, dst, number, protocol):
                full.add((ANY, dst.name, number))
    # Outside targets: every port a rule names towards an ipBlock.
    outside_ports = {
        (p.get("port"), p.get("protocol", "TCP"))
        for pol in r.of_kind("NetworkPolicy")
        for rule in pol["spec"].get("egress") or []
        if any("ipBlock" in peer for peer in rule.get("to") or [])
        for p in rule.get("ports") or []
    }
    for src in pods:
        for number, protocol in outside_ports:
            if policies.egress(src, ANY, number, protocol):
                full.add((src.name, ANY, number))
    return full, half


def test_default_deny_in_both_directions(overlay):
    deny = [
        p
        for p in overlay.of_kind("NetworkPolicy")
        if p["spec"]["podSelector"] == {}
        and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    assert deny, "a deny-all policy selecting every pod"


def test_exactly_the_expected_edges(overlay):
    full, half = edges(overlay)
    expected = EXPECTED[overlay.overlay]
    assert not full - expected, f"allowed but not an edge: {sorted(full - expected)}"
    assert not expected - full, f"an edge the policies block: {sorted(expected - full)}"
    assert not half, f"half-open (one side only): {sorted(half)}"


@pytest.mark.parametrize("protocol", ["UDP", "TCP"])
def test_every_pod_resolves_names_and_nothing_else_leaves(overlay, protocol):
    policies = Policies(overlay)
    for pod in pods_of(overlay):
        assert policies.egress(pod, DNS, 53, protocol), f"{pod.name}: DNS over {protocol}"
        assert not policies.egress(pod, DNS, 443, "TCP"), f"{pod.name}: only DNS to kube-system"
        assert not policies.egress(pod, ANY, 443, "TCP"), f"{pod.name}: reaches the internet"


def test_the_evaluator_sees_a_widened_policy(rendered):
    """The control: letting api reach Redis must show up as an extra edge."""
    import copy

    r = copy.deepcopy(rendered["dev"])
    api_egress = next(
        p for p in r.of_kind("NetworkPolicy") if p["metadata"]["name"] == "api-egress-upstreams"
    )
    api_egress["spec"]["egress"].append(
        {"to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "redis"}}}]}
    )
    redis_in = next(
        p for p in r.of_kind("NetworkPolicy") if p["metadata"]["name"] == "redis-ingress"
    )
    redis_in["spec"]["ingress"][0]["from"].append({"podSelector": {}})
    full, _ = edges(r)
    assert ("api", "redis", 6379) in full
