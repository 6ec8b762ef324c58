"""The observability configuration: alerting rules pass `promtool test rules`, the Prometheus config
scrapes exactly the processes `cadenza up` starts, and the dashboard is a valid model whose every
query is valid PromQL naming only metrics the processes export."""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess

import pytest
import yaml
from prometheus_client import REGISTRY

from cadenza_cli.processes import stack_processes
from infra.observability.config import (
    CHECKED_IN,
    DASHBOARD,
    RULE_TESTS,
    RULES,
    prometheus_config,
    render,
    stack_targets,
)

PROCESS_MODULES = ("stream_processors.metrics", "producers.outbox_relay", "stream_processors.projector",
                   "stream_processors.analytics.consumer", "api.middleware")
"""Every module that defines a process's metrics (each process's registry holds a subset)."""
BUILTIN = {"up"}
PROMQL_WORDS = {"sum", "by", "rate", "increase", "histogram_quantile", "max", "min", "avg", "le", "and", "or",
                "delta", "deriv", "without", "count", "on", "ignoring"}


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is not installed: apt-get install prometheus (infra/apt-packages.txt)")
    return path


def exported_metrics() -> set[str]:
    for module in PROCESS_MODULES:
        importlib.import_module(module)
    names = set(BUILTIN)
    for family in REGISTRY.collect():
        if family.type == "counter":
            names.add(family.name + "_total")
        elif family.type == "histogram":
            names.update(family.name + suffix for suffix in ("_bucket", "_count", "_sum"))
        else:
            names.add(family.name)
    return names


def metric_names(expr: str) -> set[str]:
    expr = re.sub(r'\{[^}]*\}', "", expr)  # label matchers
    expr = re.sub(r'"[^"]*"', "", expr)
    expr = re.sub(r'\[[^\]]*\]', "", expr)  # ranges
    expr = re.sub(r'\b(by|without|on|ignoring)\s*\([^)]*\)', "", expr)  # grouping labels
    words = set(re.findall(r'[a-zA-Z_:][a-zA-Z0-9_:]*', expr))
    return {w for w in words if w not in PROMQL_WORDS}


def dashboard_exprs() -> list[str]:
    model = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in model["panels"] if p["type"] != "row" for t in p["targets"]]


def test_alerting_rules_pass_their_promtool_tests():
    result = subprocess.run([promtool(), "test", "rules", RULE_TESTS.name], cwd=RULES.parent, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_a_test_and_names_exported_metrics():
    rules = yaml.safe_load(RULES.read_text())["groups"][0]["rules"]
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    tested = {case["alertname"] for test in tests for case in test["alert_rule_test"] if case["exp_alerts"]}
    assert {rule["alert"] for rule in rules} == tested
    exported = exported_metrics()
    for rule in rules:
        assert metric_names(rule["expr"]) <= exported, (rule["alert"], metric_names(rule["expr"]) - exported)


def test_the_checked_in_config_scrapes_every_process_cadenza_up_starts(tmp_path):
    specs = stack_processes()
    assert CHECKED_IN.read_text() == render(prometheus_config(stack_targets(specs)))
    config = yaml.safe_load(CHECKED_IN.read_text())
    scraped = {c["labels"]["process"]: c["targets"][0] for c in config["scrape_configs"][0]["static_configs"]}
    assert scraped == {spec.name: f"127.0.0.1:{spec.metrics_port}" for spec in specs}
    assert len(set(scraped.values())) == len(scraped)  # one port each
    result = subprocess.run([promtool(), "check", "config", CHECKED_IN.name], cwd=CHECKED_IN.parent,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dashboard_is_a_grafana_model_of_valid_queries_over_exported_metrics(tmp_path):
    model = json.loads(DASHBOARD.read_text())
    assert model["uid"] and model["title"] and model["schemaVersion"] >= 30
    assert [v["name"] for v in model["templating"]["list"]] == ["datasource"]
    panels = [p for p in model["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in model["panels"]}) == len(model["panels"])
    for panel in panels:
        assert panel["datasource"]["uid"] == "${datasource}" and panel["targets"], panel["title"]
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"])
    titles = " ".join(p["title"].lower() for p in panels)
    for topic in ("throughput", "latency", "in flight", "retries", "failures", "compensations", "lag",
                  "dead letters", "outbox"):
        assert topic in titles, topic
    exported = exported_metrics()
    for expr in dashboard_exprs():
        assert metric_names(expr) and metric_names(expr) <= exported, (expr, metric_names(expr) - exported)
    # promtool parses every query as PromQL (as recording rules)
    rules = {"groups": [{"name": "dashboard", "rules": [{"record": f"dashboard:q{i}", "expr": e}
                                                        for i, e in enumerate(dashboard_exprs())]}]}
    (tmp_path / "dashboard_rules.yml").write_text(yaml.safe_dump(rules))
    result = subprocess.run([promtool(), "check", "rules", "dashboard_rules.yml"], cwd=tmp_path, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
