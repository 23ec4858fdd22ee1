"""deploy/grafana/agentloom.json: a dashboard to import, querying only metrics that exist."""

import json
import re
from pathlib import Path

from server.ops import metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "agentloom.json"


def queried_names(expr: str) -> set[str]:
    return set(re.findall(r"\bagentloom_[a-z_]+\b", expr))


def test_the_dashboard_queries_only_metrics_the_code_exports_and_shows_them_all():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"]
    assert dashboard["title"]
    assert dashboard["schemaVersion"] >= 30
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    used = set()
    for panel in panels:
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"
        for target in panel["targets"]:
            names = queried_names(target["expr"])
            assert names, target["expr"]
            assert names <= metrics.NAMES, (panel["title"], names - metrics.NAMES)
            used |= names
    # Every metric has a panel (histograms through their buckets, sums or counts).
    series = {re.sub(r"_(bucket|sum|count)$", "", name) for name in used}
    exported = {re.sub(r"_(bucket|sum|count)$", "", name) for name in metrics.NAMES}
    assert series == exported
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"


def test_panels_do_not_overlap():
    cells = set()
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, panel["title"]
                cells.add((x, y))
