"""A kubedora stack to break on purpose, and the check that nothing was lost.

`Stack` is a control plane of its own (a fixed port, so that a restart on
its kept data is the same server to every client), one namespace with a
DoraSource, `kubedora receiver` and `kubedora operator` as processes, each
of which can be killed with SIGKILL and started again.

`verify` compares what kubedora stored with the load generators' own
record (tests.support.load): one Failure per incident in the planned final
state with the planned time to restore, the DoraSource scoreboard equal to
the figures the plans make, and every delivery answered 2xx present."""

from __future__ import annotations

import math
import os
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import yaml
from kubernetes import client

from tests.support import controlplane
from tests.support.kube import apply_crds, close_client, new_client, poll
from tests.support.load import DatadogCI, IncidentPlan, PagerDuty, expected_figures
from tests.support.operator import OperatorProcess, free_port, start_operator
from tests.support.processes import KUBEDORA, terminate
from tests.support.receiver import GROUP, VERSION, http_request, install_source, objects_of

ROOT = Path(__file__).resolve().parents[2]
PEERING = "kubedora"
CONTEXT_ANNOTATION = "kubedora.io/pagerduty-context"
FIGURES = ("deployments", "failures", "restoredFailures", "changeFailureRate")


class ReceiverProcess:
    """`kubedora receiver` on a fixed port, as the pod runs it."""

    def __init__(self, kubeconfig: Path, namespace: str, workdir: Path) -> None:
        self.kubeconfig = kubeconfig
        self.namespace = namespace
        self.workdir = workdir
        self.port = free_port()
        self.starts = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        self.starts += 1
        log = self.workdir / f"receiver-{self.namespace}-{self.starts}.log"
        command = [KUBEDORA, "receiver", "--namespace", self.namespace, "--port", str(self.port)]
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "KUBECONFIG": str(self.kubeconfig)},
            )
        poll(self._ready, timeout=timeout, interval=0.1, what="the receiver to be ready")

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"receiver exited with {self.process.returncode}")
        try:
            return http_request(self.port, "GET", "/readyz", timeout=2).status == 200
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown, whatever was in flight is cut."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None:
            terminate(self.process, 20)


@dataclass
class Stack:
    workdir: Path
    port: int
    plane: controlplane.ControlPlane
    api: client.ApiClient
    namespace: str = ""
    receiver: ReceiverProcess | None = None
    operators: list[OperatorProcess] = field(default_factory=list)
    operator_starts: int = 0

    @classmethod
    def up(cls, workdir: Path) -> Stack:
        port = free_port()
        plane = controlplane.start(workdir, port=port)
        api = new_client(plane.kubeconfig)
        apply_crds(api, sorted((ROOT / "crds").glob("*.kubedora.io.yaml")))
        # The peering CRDs only: the peering objects come per namespace.
        peering = yaml.safe_load_all((ROOT / "manifests" / "peering.yaml").read_text())
        crds = workdir / "peering-crds.yaml"
        crds.write_text(
            yaml.safe_dump_all([d for d in peering if d["kind"] == "CustomResourceDefinition"])
        )
        apply_crds(api, [crds])
        return cls(workdir, port, plane, api)

    @property
    def kubeconfig(self) -> Path:
        return self.plane.kubeconfig

    @property
    def objects(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api)

    def serve(self, namespace: str) -> None:
        """A fresh namespace with a DoraSource (default env prod) and a receiver."""
        self.namespace = namespace
        core = client.CoreV1Api(self.api)
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
        install_source(core, self.objects, namespace, default_env="prod")
        self.receiver = ReceiverProcess(self.kubeconfig, namespace, self.workdir)
        self.receiver.start()

    def start_operator(self, *, priority: int | None = None) -> OperatorProcess:
        """A standalone operator of the namespace, or with priority, a replica
        peering through the namespace's KopfPeering."""
        self.operator_starts += 1
        args = ["--namespace", self.namespace]
        if priority is None:
            args.append("--standalone")
        else:
            args += ["--peering", PEERING, "--priority", str(priority)]
        log = self.workdir / f"operator-{self.namespace}-{self.operator_starts}.log"
        running = start_operator(
            self.kubeconfig,
            log,
            *args,
            env={
                "KUBEDORA_PAGERDUTY_REST": "false",
                # The survivor takes over 10 s after the last keep-alive of the
                # one killed. kopf renews 5-9 s before expiry; at 5 s (the
                # least allowed) it renews every second, and a keep-alive held
                # up by a busy API server let the standby resume next to a
                # live active replica.
                "KUBEDORA_PEERING_LIFETIME_SECONDS": "10",
            },
        )
        self.operators.append(running)
        return running

    def create_peering(self) -> None:
        self.objects.create_namespaced_custom_object(
            "kopf.dev",
            "v1",
            self.namespace,
            "kopfpeerings",
            {"apiVersion": "kopf.dev/v1", "kind": "KopfPeering", "metadata": {"name": PEERING}},
        )

    def stop_api_server(self) -> None:
        self.plane.stop()

    def start_api_server(self) -> None:
        self.plane = controlplane.start(self.workdir, port=self.port, keep_data=True)
        # Connections pooled before the restart point at a server that is gone.
        close_client(self.api)
        self.api = new_client(self.kubeconfig)

    def down_services(self) -> None:
        """Stop the receiver and operators of the namespace (the plane stays)."""
        if self.receiver is not None:
            self.receiver.stop()
        for running in self.operators:
            running.stop()
        self.operators = []

    def down(self) -> None:
        self.down_services()
        close_client(self.api)
        self.plane.stop()


@dataclass
class Outcome:
    """A scenario's figures: what was sent, and what kubedora made of it."""

    scenario: str
    pagerduty: PagerDuty
    datadog: DatadogCI
    failures: int = 0
    mismatches: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    seconds: float = 0.0

    HEADER = (
        f"{'scenario':<34} {'events':>7} {'sent':>7} {'2xx':>7} {'503':>6} {'other':>6} "
        f"{'conn':>5} {'retries':>7} {'Failures':>8} {'mismatches':>10} {'lost':>5} {'s':>6}"
    )

    def row(self) -> str:
        pd, dd = self.pagerduty.tally, self.datadog.tally
        return (
            f"{self.scenario:<34} {pd.deliveries + dd.deliveries:>7} {pd.sent + dd.sent:>7} "
            f"{pd.ok + dd.ok:>7} {pd.unavailable + dd.unavailable:>6} "
            f"{pd.other + dd.other:>6} {pd.errors + dd.errors:>5} "
            f"{pd.retries + dd.retries:>7} {self.failures:>8} {len(self.mismatches):>10} "
            f"{len(self.lost):>5} {self.seconds:>6.0f}"
        )


def _close(a: float | None, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return isinstance(b, int | float) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-3)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _failure_problems(plan: IncidentPlan, stored: dict[str, Any] | None) -> list[str]:
    if stored is None:
        return [f"{plan.failure_name}: no Failure"]
    status = stored.get("status") or {}
    problems = []
    if status.get("state") != plan.final_state:
        problems.append(f"{plan.failure_name}: state {status.get('state')} != {plan.final_state}")
    if not _close(plan.ttr_seconds, status.get("timeToRestoreSeconds")):
        problems.append(
            f"{plan.failure_name}: TTR {status.get('timeToRestoreSeconds')} != {plan.ttr_seconds}"
        )
    return problems


def _lost(plan: IncidentPlan, stored: dict[str, Any] | None, acked: set[str]) -> list[str]:
    """Deliveries of the incident answered 2xx whose effect is not stored:
    a state change missing from the timeline, or the context of the latest
    event not the one the Failure shows."""
    answered = [step for step in plan.steps if step.event_id in acked]
    if not answered:
        return []
    if stored is None:
        return [step.event_id for step in answered]
    spec = stored.get("spec") or {}
    timeline = {(entry["state"], _at(entry["at"])) for entry in spec.get("timeline") or []}
    moves = dict(zip((step.event_id for step in plan.steps), _moves(plan), strict=True))
    lost = [
        step.event_id
        for step in answered
        if (move := moves[step.event_id]) is not None and move not in timeline
    ]
    # The Failure describes the incident as its latest applied event does:
    # that may be a later one whose answer never came back, never an older.
    latest = max(answered, key=lambda step: (step.at, step.event_id))
    context = (stored["metadata"].get("annotations") or {}).get(CONTEXT_ANNOTATION, "")
    moment, _, event_id = context.partition(" ")
    shown = (_at(moment), event_id) if moment else None
    if (shown is None or shown < (latest.at, latest.event_id)) and latest.event_id not in lost:
        lost.append(latest.event_id)
    return lost


def _moves(plan: IncidentPlan) -> list[tuple[str, datetime] | None]:
    moves = {"incident.triggered": "active", "incident.reopened": "active"}
    moves["incident.resolved"] = "resolved"
    return [(moves[s.kind], s.at) if s.kind in moves else None for s in plan.steps]


def _summary(stack: Stack) -> dict[str, Any]:
    source = cast(
        "dict[str, Any]",
        stack.objects.get_namespaced_custom_object(
            GROUP, VERSION, stack.namespace, "dorasources", "default"
        ),
    )
    summary: dict[str, Any] = (source.get("status") or {}).get("summary") or {}
    return summary


def _figure_problems(summary: dict[str, Any], expected: dict[str, object]) -> list[str]:
    problems = []
    for key, want in expected.items():
        got = summary.get(key)
        same = got == want if key in FIGURES[:3] else _close(cast("float | None", want), got)
        if not same:
            problems.append(f"scoreboard {key}: {got} != {want}")
    return problems


def verify(
    stack: Stack,
    outcome: Outcome,
    plans: list[IncidentPlan],
    *,
    timeout: float = 120.0,
) -> Outcome:
    """Wait (up to timeout) for kubedora to settle on the expected figures,
    then record what still differs and what was lost."""
    expected = expected_figures(plans, len(outcome.datadog.names))
    wanted = {plan.failure_name: plan for plan in plans}

    def read() -> tuple[dict[str, dict[str, Any]], list[str]]:
        stored = {
            item["metadata"]["name"]: item
            for item in objects_of(stack.objects, stack.namespace, "failures")
        }
        problems = [f"unplanned Failure {name}" for name in stored if name not in wanted]
        for name, plan in wanted.items():
            problems += _failure_problems(plan, stored.get(name))
        problems += _figure_problems(_summary(stack), expected)
        return stored, problems

    deadline = time.monotonic() + timeout
    stored, problems = read()
    while problems and time.monotonic() < deadline:
        time.sleep(1.0)
        stored, problems = read()
    outcome.failures = len(stored)
    outcome.mismatches = problems
    acked = outcome.pagerduty.tally.acked
    for name, plan in wanted.items():
        outcome.lost += _lost(plan, stored.get(name), acked)
    deployments = {
        item["metadata"]["name"]
        for item in objects_of(stack.objects, stack.namespace, "deployments")
    }
    outcome.lost += [name for name in outcome.datadog.names if name not in deployments]
    return outcome
