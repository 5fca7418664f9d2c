"""A status as the operator writes it comes back from the API server as
written. kopf compares the two after every status patch and logs a WARNING
("Merge-patching finished with inconsistencies") when they differ; the
chaos runs showed one for every Deployment whose status was rewritten
while it carried a LeadTimeUnavailable condition (after an operator
restart, after a mark by API): a null inside a list item is dropped by
the API server, so it must not be sent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from kubernetes import client

from kubedora.models import Condition, ConditionStatus, DeploymentStatus
from tests.support.dora import GROUP, VERSION, ago, create, deployment

pytestmark = pytest.mark.usefixtures("crds")


def test_a_condition_without_observed_generation_is_stored_as_sent(
    custom_objects: client.CustomObjectsApi, namespace: str
) -> None:
    create(custom_objects, namespace, "Deployment", "d1", deployment("checkout", ago(hours=1)))
    now = datetime.now(UTC).replace(microsecond=0)
    status = DeploymentStatus(
        commits=0,
        conditions=[
            # What the history worker records: it judges history, not a generation.
            Condition(
                type="LeadTimeUnavailable",
                status=ConditionStatus.TRUE,
                observed_generation=None,
                last_transition_time=now,
                reason="NoGitData",
                message="no git.repositoryUrl and git.commitSha",
            ),
            Condition(
                type="Ready",
                status=ConditionStatus.TRUE,
                observed_generation=1,
                last_transition_time=now,
                reason="Reconciled",
            ),
        ],
        observed_generation=1,
    )
    sent = status.to_wire()
    stored = cast(
        "dict[str, Any]",
        custom_objects.patch_namespaced_custom_object_status(
            GROUP, VERSION, namespace, "deployments", "d1", {"status": sent}
        ),
    )
    assert stored["status"]["conditions"] == sent["conditions"]
