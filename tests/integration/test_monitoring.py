"""manifests/monitoring against a real Prometheus: it scrapes a real operator
during the known scenario (tests/support/scenario.py); every PromQL
expression of the Grafana dashboard and of the PrometheusRule returns the
figures the scenario expects; promtool accepts the rules; an alert fires
and resolves."""

from __future__ import annotations

import math
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from tests.support import prometheus, scenario
from tests.support.dora import get
from tests.support.kube import poll
from tests.support.operator import OperatorProcess, start_operator
from tests.support.prometheus import Prometheus, Sample

Check = Callable[[list[Sample]], bool]


def one(expected: float) -> Check:
    return lambda result: len(result) == 1 and math.isclose(result[0][1], expected, rel_tol=1e-9)


def by(label: str, expected: dict[str, float], *, where: dict[str, str] | None = None) -> Check:
    def check(result: list[Sample]) -> bool:
        chosen = [
            (labels, value)
            for labels, value in result
            if all(labels.get(k, "") == v for k, v in (where or {}).items())
        ]
        got = {labels.get(label, ""): value for labels, value in chosen}
        return got.keys() == expected.keys() and all(
            math.isclose(got[key], value, rel_tol=1e-9, abs_tol=1e-12)
            for key, value in expected.items()
        )

    return check


def within(label: str, keys: set[str], low: float, high: float) -> Check:
    return lambda result: (
        {labels.get(label, "") for labels, _ in result} == keys
        and all(low <= value <= high for _, value in result)
    )


def empty(result: list[Sample]) -> bool:
    return result == []


SERVICES = scenario.SERVICES
SUMMARY = scenario.SUMMARY
FACT_KINDS = {"Failure", "Deployment"}
SUMMARY_ROW = {"dimension": "", "key": ""}


def per_service(index: int) -> dict[str, float]:
    return {key: float(value) for key, row in SERVICES.items() if (value := row[index]) is not None}


# Dashboard panels (title, refId) -> what the scenario makes them show.
DASHBOARD: dict[tuple[str, str], Check] = {
    ("Deployment frequency", "A"): one(scenario.PER_DAY),
    ("Lead time for changes", "A"): empty,  # not measured yet: no series, "no data"
    ("Change failure rate", "A"): one(SUMMARY["changeFailureRate"]),
    ("Time to restore", "A"): one(SUMMARY["medianTimeToRestoreSeconds"]),
    ("Deployments in the window", "A"): one(SUMMARY["deployments"]),
    ("Failures in the window", "A"): one(SUMMARY["failures"]),
    ("Restored failures in the window", "A"): one(SUMMARY["restoredFailures"]),
    ("Deployments per bucket", "A"): by(
        "bucket", {str(k): v for k, v in scenario.TREND_DEPLOYMENTS.items()}
    ),
    ("Change failure rate per bucket", "A"): by(
        "bucket", {str(k): v for k, v in scenario.TREND_CFR.items()}
    ),
    ("Median time to restore per bucket", "A"): by(
        "bucket", {str(k): v for k, v in scenario.TREND_TTR.items()}
    ),
    ("Change failure rate and median time to restore over time", "A"): one(
        SUMMARY["changeFailureRate"]
    ),
    ("Change failure rate and median time to restore over time", "B"): one(
        SUMMARY["medianTimeToRestoreSeconds"]
    ),
    ("Rows of $dimension (busiest 20; the rest in __other__)", "A"): by("key", per_service(0)),
    ("Rows of $dimension (busiest 20; the rest in __other__)", "B"): by("key", per_service(1)),
    ("Rows of $dimension (busiest 20; the rest in __other__)", "C"): by("key", per_service(3)),
    ("Rows of $dimension (busiest 20; the rest in __other__)", "D"): by("key", per_service(4)),
    ("Change failure rate of $key", "A"): by("key", {"checkout": 1 / 3, "payments": 1 / 3}),
    ("Active operator replicas", "A"): one(1),
    ("Scoreboard age", "A"): within("dorasource", {scenario.SOURCE}, 0, 30),
    ("Reconciles and errors per kind", "A"): within("kind", FACT_KINDS, 0, 1000),
    ("Reconciles and errors per kind", "B"): by("kind", {"Failure": 0, "Deployment": 0}),
    ("Informers synced (0 while listing)", "A"): lambda result: (
        bool(result) and all(value == 1 for _, value in result)
    ),
    ("Informer event lag, p95", "A"): within("kind", FACT_KINDS, 0, 10),
    ("kopf workers: handlers in flight and the limit", "A"): by(
        "kind", {"Failure": 0, "Deployment": 0}
    ),
    ("kopf workers: handlers in flight and the limit", "B"): one(64),
    ("Receiver requests by status code", "A"): empty,  # no receiver is scraped here
}
SUMMARY_FIGURES = {
    "deployments": SUMMARY["deployments"],
    "failures": SUMMARY["failures"],
    "restored_failures": SUMMARY["restoredFailures"],
    "change_failure_rate": SUMMARY["changeFailureRate"],
    "time_to_restore_median_seconds": SUMMARY["medianTimeToRestoreSeconds"],
    "deployments_per_day": scenario.PER_DAY,
}
ROW_INDEX = {
    "deployments": 0,
    "failures": 1,
    "restored_failures": 2,
    "change_failure_rate": 3,
    "time_to_restore_median_seconds": 4,
}


def record_check(record: str) -> Check:
    figure = record.removeprefix("kubedora:dora_").removesuffix(":max")
    if record == "kubedora:operator_active_replicas:sum":
        return one(1)
    if figure == "lead_time_median_seconds":
        return empty
    summary = by("dorasource", {scenario.SOURCE: SUMMARY_FIGURES[figure]}, where=SUMMARY_ROW)
    if figure not in ROW_INDEX:
        return summary
    services = by("key", per_service(ROW_INDEX[figure]), where={"dimension": "service"})
    return lambda result: summary(result) and services(result)


def substitute(expr: str, namespace: str) -> str:
    values = {
        "$namespace": namespace,
        "$dorasource": scenario.SOURCE,
        "$dimension": "service",
        "$key": "checkout|payments",
        "$__rate_interval": "5m",
    }
    for name, value in values.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, expr
    return expr


@pytest.fixture(scope="module")
def monitored(
    kubeconfig: Path,
    crds: list[str],
    custom_objects: client.CustomObjectsApi,
    core_v1: client.CoreV1Api,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, OperatorProcess, Prometheus]]:
    from tests.support.kube import unique_name

    namespace = unique_name("mon")
    core_v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    workdir = tmp_path_factory.mktemp("monitoring")
    operator = start_operator(kubeconfig, workdir / "operator.log", "-n", namespace, "--standalone")
    target = operator.http_url.removeprefix("http://")
    prom = prometheus.start(workdir, [target])
    try:
        # After Prometheus's first scrape, so that rates see the scenario happen.
        poll(lambda: prom.query("up == 1") != [], timeout=60, what="the first scrape")
        scenario.create_scenario(custom_objects, namespace)
        present = {k: v for k, v in SUMMARY.items() if v is not None}
        poll(
            lambda: (get(custom_objects, namespace, "DoraSource", scenario.SOURCE).get("status")
                     or {}).get("summary") == present,
            timeout=60,
            what="the scenario's scoreboard",
        )  # fmt: skip
        poll(
            lambda: prom.query("kubedora:dora_failures:max") != [],
            timeout=30,
            what="the recording rules to see the scoreboard",
        )
        yield namespace, operator, prom
    finally:
        prom.stop()
        operator.stop()


def dashboard_targets() -> list[tuple[str, str, str]]:
    found = []
    for panel in prometheus.dashboard()["panels"]:
        for target in panel.get("targets", []):
            found.append((panel["title"], target["refId"], target["expr"]))
    return found


def test_every_dashboard_expression_returns_the_scenarios_figures(
    monitored: tuple[str, OperatorProcess, Prometheus],
) -> None:
    namespace, _, prom = monitored
    targets = dashboard_targets()
    assert {(title, ref) for title, ref, _ in targets} == set(DASHBOARD), "a panel without a check"
    # Rates need a few samples after the scenario: poll rather than sleep.
    wrong: dict[str, Any] = {}

    def all_right() -> bool:
        wrong.clear()
        for title, ref, expr in targets:
            result = prom.query(substitute(expr, namespace))
            if not DASHBOARD[title, ref](result):
                wrong[f"{title} {ref}: {expr}"] = result
        return not wrong

    try:
        poll(all_right, timeout=60, what="every dashboard expression", interval=2.0)
    except AssertionError as error:
        raise AssertionError(f"{error}; wrong: {wrong}") from None


def test_the_dashboard_variables_list_the_scenarios_labels(
    monitored: tuple[str, OperatorProcess, Prometheus],
) -> None:
    namespace, _, prom = monitored
    expected = {
        "namespace": {namespace},
        "dorasource": {scenario.SOURCE},
        "key": set(SERVICES),
    }
    for variable in prometheus.dashboard()["templating"]["list"]:
        if variable["type"] != "query":
            continue
        match = re.fullmatch(r"label_values\((.*), (\w+)\)", variable["definition"])
        assert match is not None, variable
        selector, label = substitute(match.group(1), namespace), match.group(2)
        values = {labels[label] for labels, _ in prom.query(f"group by ({label}) ({selector})")}
        assert values == expected[variable["name"]], variable["name"]


def test_every_rule_expression_returns_the_scenarios_figures(
    monitored: tuple[str, OperatorProcess, Prometheus],
) -> None:
    _, _, prom = monitored
    groups = prometheus.rule_groups()["groups"]
    for group in groups:
        for rule in group["rules"]:
            result = prom.query(rule["expr"])
            if "record" in rule:
                assert record_check(rule["record"])(result), (rule["record"], result)
                recorded = prom.query(rule["record"])
                assert record_check(rule["record"])(recorded), (rule["record"], recorded)
            else:
                # Healthy scenario: no alert condition holds.
                assert result == [], (rule["alert"], result)


def test_promtool_accepts_the_rules(tmp_path: Path) -> None:
    for name, groups in (
        ("shipped.yaml", prometheus.rule_groups()),
        ("fast.yaml", prometheus.rule_groups(for_duration="2s")),
    ):
        path = tmp_path / name
        path.write_text(yaml.safe_dump(groups))
        checked = subprocess.run(
            [prometheus.binary("promtool"), "check", "rules", str(path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "SUCCESS: 12 rules found" in checked.stdout


def test_no_active_operator_fires_and_resolves(
    kubeconfig: Path, monitored: tuple[str, OperatorProcess, Prometheus]
) -> None:
    namespace, operator, prom = monitored
    assert "KubedoraNoActiveOperator" not in prom.alerts()
    operator.stop()
    poll(
        lambda: prom.alerts().get("KubedoraNoActiveOperator") == "firing",
        timeout=60,
        what="KubedoraNoActiveOperator firing",
    )
    # The same address, so the same scrape target comes back.
    port = int(operator.http_url.rsplit(":", 1)[1])
    again = start_operator(
        kubeconfig, operator.log_path.with_name("again.log"), "-n", namespace, "--standalone",
        http_port=port,
    )  # fmt: skip
    operator.process = again.process
    poll(
        lambda: "KubedoraNoActiveOperator" not in prom.alerts(),
        timeout=60,
        what="KubedoraNoActiveOperator resolved",
    )
