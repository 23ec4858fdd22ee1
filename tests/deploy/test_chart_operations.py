"""Static checks of the chart's operations: KEDA scalers, beat, ingress, NetworkPolicy, metrics.

Like test_helm_chart.py, these read the templates with their actions
removed (no helm binary here): they prove the manifests' shape, the values
they read and that names agree with the code (the Redis lists, the settings,
the metrics port), not what `helm template` renders for every set of values.
docs/operations.md gives the commands an operator runs for that.
"""

import ipaddress
import re
from typing import Any

from server import queues
from tests.deploy.chart import deployments, manifests, stripped_documents, values
from tests.deploy.files import ENTRYPOINT, TEMPLATES


def kinds(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in manifests() if doc["kind"] == kind]


def test_a_keda_scaled_object_per_pool_watches_the_lists_the_code_publishes_to(settings):
    text = (TEMPLATES / "keda.yaml").read_text()
    assert (
        'dict "worker-agents" .Values.workerAgents "worker-control" .Values.workerControl' in text
    )
    [scaled] = [
        d for d in stripped_documents(TEMPLATES / "keda.yaml") if d["kind"] == "ScaledObject"
    ]
    [trigger] = scaled["spec"]["triggers"]
    assert trigger["type"] == "redis"
    assert {"address", "listName", "listLength", "databaseIndex", "enableTLS"} <= set(
        trigger["metadata"]
    )
    # The list names as the template builds them, beside the code's, for the chart's shard count.
    fmt = re.search(r'listName: \{\{ printf "([^"]+)" \$prefix \$shard', text)
    assert fmt
    assert "until $shards" in text
    assert 'trimPrefix "worker-" $component' in text
    shards = values()["config"]["queueShards"]
    settings.AGENTLOOM_RUNS = {**settings.AGENTLOOM_RUNS, "queue_shards": shards}
    for pool in queues.POOLS:
        rendered = [fmt.group(1).replace("%s", pool).replace("%d", str(i)) for i in range(shards)]
        assert rendered == queues.shards(pool)
    # The pods read the same shard count the scalers watch.
    helpers = (TEMPLATES / "_helpers.tpl").read_text()
    assert "AGENTLOOM_QUEUE_SHARDS: {{ .Values.config.queueShards | quote }}" in helpers


def test_keda_is_off_by_default_and_replaces_the_cpu_hpa_when_on():
    for key in ("workerAgents", "workerControl"):
        assert values()[key]["keda"]["enabled"] is False
        assert values()[key]["autoscaling"]["enabled"] is False
    hpa = (TEMPLATES / "hpa.yaml").read_text()
    assert "{{- if and $pool.autoscaling.enabled (not $pool.keda.enabled) }}" in hpa
    keda = (TEMPLATES / "keda.yaml").read_text()
    assert 'required "kedaRedis.address' in keda


def test_beat_replicas_rely_on_the_leader_lease():
    scheduler = (TEMPLATES.parents[2] / "server" / "runs" / "scheduler.py").read_text()
    assert "leadership" in scheduler
    assert deployments()["beat"]["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_the_ingress_keeps_quiet_websockets_open(settings):
    text = (TEMPLATES / "ingress.yaml").read_text()
    # The user's annotations win: merge keeps the first dict's keys.
    assert "merge (dict) .Values.ingress.annotations .Values.ingress.websocketAnnotations" in text
    socket = values()["ingress"]["websocketAnnotations"]
    read_timeout = int(socket["nginx.ingress.kubernetes.io/proxy-read-timeout"])
    assert read_timeout >= 3 * settings.AGENTLOOM_LIVE["ping_interval_s"]
    assert int(socket["nginx.ingress.kubernetes.io/proxy-send-timeout"]) == read_timeout
    assert socket["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"


def test_the_network_policy_opens_the_internet_to_workers_but_not_private_ranges():
    [policy] = kinds("NetworkPolicy")
    spec = policy["spec"]
    assert spec["policyTypes"] == ["Egress"]
    components = {e["key"]: e["values"] for e in spec["podSelector"]["matchExpressions"]}[
        "app.kubernetes.io/component"
    ]
    assert components == ["worker-agents", "worker-control"]
    internet, dns = spec["egress"][:2]
    assert [peer["ipBlock"]["cidr"] for peer in internet["to"]] == ["0.0.0.0/0", "::/0"]
    assert {p["port"] for p in dns["ports"]} == {53}
    text = (TEMPLATES / "networkpolicy.yaml").read_text()
    assert "toYaml .Values.networkPolicy.blockedRanges.ipv4" in text
    assert "toYaml .Values.networkPolicy.blockedRanges.ipv6" in text
    assert "range .Values.networkPolicy.stores" in text
    assert "fail" in text
    blocked = [
        ipaddress.ip_network(cidr)
        for family in ("ipv4", "ipv6")
        for cidr in values()["networkPolicy"]["blockedRanges"][family]
    ]
    for address in ("10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
                    "fd00::1", "fe80::1"):  # fmt: skip
        assert any(ipaddress.ip_address(address) in net for net in blocked), address
    for address in ("8.8.8.8", "2606:4700::1111"):
        assert not any(ipaddress.ip_address(address) in net for net in blocked), address
    assert values()["networkPolicy"]["enabled"] is False


def test_workers_serve_metrics_on_the_annotated_port():
    port = values()["metrics"]["workerPort"]
    helpers = (TEMPLATES / "_helpers.tpl").read_text()
    for name in ("worker-agents", "worker-control"):
        text = (TEMPLATES / f"deployment-{name}.yaml").read_text()
        for include in ("workerMetricsEnv", "workerMetricsPort", "workerScrapeAnnotations"):
            assert f'include "agentloom.{include}"' in text, (name, include)
    assert "- name: AGENTLOOM_METRICS_PORT\n  value: {{ .Values.metrics.workerPort | quote }}" in (
        helpers
    )
    assert "containerPort: {{ .Values.metrics.workerPort }}" in helpers
    assert "prometheus.io/port: {{ .Values.metrics.workerPort | quote }}" in helpers
    assert isinstance(port, int)
    assert 1024 < port < 65536
    api = deployments()["api"]["spec"]["template"]["metadata"]["annotations"]
    assert api["prometheus.io/path"] == "/metrics"
    assert api["prometheus.io/port"] == "8000"


def test_the_entrypoint_empties_the_metrics_directory_of_serving_processes():
    text = ENTRYPOINT.read_text()
    for command in ("api", "worker-agents", "worker-control"):
        branch = re.search(rf"^  {command}\)\n(.*?);;", text, re.DOTALL | re.MULTILINE)
        assert branch, command
        assert "fresh_metrics_dir" in branch.group(1), command
