"""What a user sees with kubectl: refusals with readable messages, and the
scoreboard columns."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from kubernetes import client

from tests.support.dora import ago, create, deployment, rfc3339
from tests.support.kube import poll

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")


def kubectl(
    kubeconfig: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def failure_manifest(namespace: str, spec: str) -> str:
    return f"""apiVersion: kubedora.io/v1alpha1
kind: Failure
metadata:
  name: bad
  namespace: {namespace}
spec:
{spec}
"""


@pytest.mark.usefixtures("crds")
@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param(
            "  startedAt: '2026-01-01T00:00:00Z'\n",
            "spec.services or spec.team is required",
            id="no-services-no-team",
        ),
        pytest.param(
            "  team: shop\n"
            "  startedAt: '2026-01-01T10:00:00Z'\n"
            "  finishedAt: '2026-01-01T09:00:00Z'\n",
            "spec.finishedAt must not be before spec.startedAt",
            id="finished-before-started",
        ),
        pytest.param(
            "  team: shop\n  startedAt: '2026-01-01T00:00:00Z'\n  customTags: ['nocolon']\n",
            "customTags",
            id="tag-without-colon",
        ),
        pytest.param(
            "  team: shop\n  startedAt: '2026-01-01T00:00:00Z'\n  state: acknowledged\n",
            "spec.state",
            id="unknown-state",
        ),
    ],
)
def test_an_invalid_failure_is_refused_with_a_readable_message(
    kubeconfig: Path, namespace: str, spec: str, message: str
) -> None:
    result = kubectl(kubeconfig, "apply", "-f", "-", stdin=failure_manifest(namespace, spec))
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    listed = kubectl(kubeconfig, "get", "failures", "-n", namespace, "-o", "name")
    assert listed.stdout.strip() == ""


@pytest.mark.usefixtures("operator")
def test_kubectl_shows_the_scoreboard_and_all_kinds(
    kubeconfig: Path, custom_objects: client.CustomObjectsApi, namespace: str
) -> None:
    create(custom_objects, namespace, "Deployment", "d1", deployment("checkout", ago(days=1)))
    create(custom_objects, namespace, "Deployment", "d2", deployment("checkout", ago(days=2)))
    create(
        custom_objects,
        namespace,
        "Failure",
        "f1",
        {
            "services": ["checkout"],
            "startedAt": rfc3339(ago(hours=5)),
            "finishedAt": rfc3339(ago(hours=4)),
        },
    )
    create(custom_objects, namespace, "DoraSource", "board", {"window": "7d"})

    def table() -> str | None:
        out = kubectl(kubeconfig, "get", "dsrc", "-n", namespace).stdout
        return out if "50%" in out else None

    out = poll(table, what="kubectl get dsrc to show the CFR")
    header, row = out.strip().splitlines()
    assert header.split() == [
        "NAME",
        "WINDOW",
        "DEPLOYMENTS",
        "FAILURES",
        "CFR",
        "MEDIAN",
        "TTR",
        "FREQUENCY",
        "LEAD",
        "TIME",
        "READY",
        "BACKFILL",
        "AGE",
    ]
    # No git data: the lead time is "-".
    assert row.split()[:10] == [
        "board", "7d", "2", "1", "50%", "1h", "high", "(2/week)", "-", "True",
    ]  # fmt: skip

    everything = kubectl(kubeconfig, "get", "dora", "-n", namespace, "-o", "name").stdout.split()
    assert sorted(everything) == sorted(
        [
            "deployment.kubedora.io/d1",
            "deployment.kubedora.io/d2",
            "failure.kubedora.io/f1",
            "dorasource.kubedora.io/board",
        ]
    )
