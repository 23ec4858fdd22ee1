"""The Helm chart: its values, templates and manifests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.chart import (
    ACTION,
    COMMENT,
    deployments,
    manifest_files,
    manifests,
    template_files,
    value_leaves,
    values,
    values_references,
)
from tests.deploy.files import (
    CHART,
    DISTRIBUTED_ENV,
    TEMPLATES,
    allowed_env_names,
)
from workers.engine.document import DEFAULT_TIMEOUT_S


def test_chart_metadata_and_values_parse():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == "agentloom"
    assert re.fullmatch(r"\d+\.\d+\.\d+", chart["version"])
    assert chart["appVersion"]
    assert isinstance(values(), dict)


def test_every_values_reference_exists_in_values_yaml():
    refs = values_references()
    assert len(refs) > 20
    for ref in sorted(refs):
        node: Any = values()
        for depth, key in enumerate(ref):
            missing = f".Values.{'.'.join(ref)}: no {'.'.join(ref[: depth + 1])} in values.yaml"
            assert isinstance(node, dict), missing
            assert key in node, missing
            node = node[key]


def test_every_value_is_used_by_a_template():
    refs = values_references()
    for leaf in value_leaves(values()):
        used = any(leaf[: len(ref)] == ref or ref[: len(leaf)] == leaf for ref in refs)
        assert used, f"values.yaml {'.'.join(leaf)} is used by no template"


@pytest.mark.parametrize("path", template_files(), ids=lambda p: p.name)
def test_template_actions_balance(path):
    text = path.read_text()
    assert text.count("{{") == text.count("}}"), "unbalanced {{ }}"
    stack: list[str] = []
    for number, action in enumerate(ACTION.findall(COMMENT.sub("", text)), 1):
        keyword = action.split(None, 1)[0] if action.split() else ""
        if keyword in {"if", "with", "range", "define", "block"}:
            stack.append(keyword)
        elif keyword == "else":
            assert stack[-1:] in (["if"], ["with"], ["range"]), f"stray else (action {number})"
        elif keyword == "end":
            assert stack, f"end without a block (action {number})"
            stack.pop()
    assert not stack, f"unclosed {stack}"


def test_included_templates_are_defined():
    helpers = (TEMPLATES / "_helpers.tpl").read_text()
    defined = set(re.findall(r'define\s+"([^"]+)"', helpers))
    assert defined
    for path in template_files():
        for name in re.findall(r'include\s+"([^"]+)"', path.read_text()):
            assert name in defined, f"{path.name} includes undefined {name}"


def test_templates_are_yaml_once_actions_are_removed():
    kinds = {doc["kind"] for doc in manifests()}
    assert {
        "Deployment",
        "Job",
        "Service",
        "Ingress",
        "ConfigMap",
        "Secret",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    } <= kinds


def test_one_deployment_per_process_with_matching_selectors():
    assert set(deployments()) == {"api", "worker-agents", "worker-control", "beat"}
    for name, deployment in deployments().items():
        spec = deployment["spec"]
        selector = spec["selector"]["matchLabels"]["app.kubernetes.io/component"]
        labels = spec["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
        assert selector == labels == name
        container = spec["template"]["spec"]["containers"][0]
        assert container["args"] == [name]


def test_beat_runs_two_replicas_behind_the_leader_lease():
    # Safe because only the lease holder sends (server/runs/scheduler.py); the
    # rolling update never leaves no beat.
    spec = deployments()["beat"]["spec"]
    assert spec["replicas"] == "TEMPLATED"
    assert values()["beat"]["replicas"] == 2
    assert spec["strategy"]["type"] == "RollingUpdate"
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_the_api_probes_health_and_readiness_with_an_allowed_host():
    container = deployments()["api"]["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    helpers = (TEMPLATES / "_helpers.tpl").read_text()
    allowed = re.search(r'ALLOWED_HOSTS: \{\{ prepend \S+ "([^"]+)"', helpers)
    assert allowed, "ALLOWED_HOSTS must always include the probes' Host"
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        headers = {h["name"]: h["value"] for h in container[probe]["httpGet"]["httpHeaders"]}
        assert headers["Host"] == allowed.group(1), probe


def test_migrations_run_as_a_pre_install_and_pre_upgrade_hook():
    jobs = [d for d in manifests() if d["kind"] == "Job"]
    assert len(jobs) == 1
    job = jobs[0]
    assert set(job["metadata"]["annotations"]["helm.sh/hook"].split(",")) == {
        "pre-install",
        "pre-upgrade",
    }
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    # The Job's ConfigMap and Secret exist before it: hooks of a lower weight.
    weight = int(job["metadata"]["annotations"]["helm.sh/hook-weight"])
    hook_config = [
        d
        for d in manifests()
        if d["kind"] in {"ConfigMap", "Secret"}
        and "helm.sh/hook" in (d["metadata"].get("annotations") or {})
    ]
    assert {d["kind"] for d in hook_config} == {"ConfigMap", "Secret"}
    for doc in hook_config:
        assert int(doc["metadata"]["annotations"]["helm.sh/hook-weight"]) < weight


def _ranged_pools(path: Path) -> dict[str, str]:
    """The `dict "component" .Values.key …` a per-pool template ranges over."""
    match = re.search(r":= dict ((?:\"[\w-]+\" \.Values\.\w+\s*)+)\}\}", path.read_text())
    assert match, f"{path.name} does not range over the pools"
    return dict(re.findall(r'"([\w-]+)" \.Values\.(\w+)', match.group(1)))


def test_workers_have_disruption_budgets_autoscaling_and_time_to_stop():
    budgets = _ranged_pools(TEMPLATES / "pdb.yaml")
    scaled = _ranged_pools(TEMPLATES / "hpa.yaml")
    for component_name, key in (
        ("worker-agents", "workerAgents"),
        ("worker-control", "workerControl"),
    ):
        assert budgets.get(component_name) == key
        assert scaled.get(component_name) == key
        assert values()[key]["podDisruptionBudget"]["enabled"] is True
        assert "enabled" in values()[key]["autoscaling"]
        # With the HPA on, the Deployment must leave `replicas` to it.
        deployment = (TEMPLATES / f"deployment-{component_name}.yaml").read_text()
        unless = f"(or .Values.{key}.autoscaling.enabled .Values.{key}.keda.enabled)"
        assert f"{{{{- if not {unless} }}}}\n  replicas:" in deployment
    assert values()["workerAgents"]["terminationGracePeriodSeconds"] > DEFAULT_TIMEOUT_S
    for name in ("worker-agents", "worker-control"):
        assert "terminationGracePeriodSeconds" in deployments()[name]["spec"]["template"]["spec"]


def test_the_chart_sets_only_variables_the_code_reads():
    allowed = allowed_env_names()
    # In the helpers, upper-case keys at the start of a line are the env data.
    helpers = (TEMPLATES / "_helpers.tpl").read_text()
    keys = set(re.findall(r"^([A-Z][A-Z0-9_]+):", helpers, re.MULTILINE))
    for path in manifest_files():
        keys |= set(re.findall(r"- name: ([A-Z][A-Z0-9_]+)\n\s+value:", path.read_text()))
    assert keys >= DISTRIBUTED_ENV
    assert {"API_WORKERS", "AGENTS_CONCURRENCY", "CONTROL_CONCURRENCY"} <= keys
    assert keys - allowed == set()
