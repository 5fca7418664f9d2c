"""Count the writes that reach the API server: its own request counters, and
the resourceVersions of objects (a write that changes nothing keeps them)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, cast

from kubernetes import client

from tests.support.dora import GROUP, VERSION

WRITE_VERBS = frozenset({"PATCH", "UPDATE", "APPLY"})
_SAMPLE = re.compile(r"^apiserver_request_total\{(?P<labels>[^}]*)\} (?P<value>\S+)$")
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def api_server_writes(api: client.ApiClient, plural: str) -> Counter[str]:
    """Write requests the API server has answered so far for our `plural`, by
    subresource ("" for the object itself, "status"), any response code.

    Read from the API server's /metrics, so a write that changed nothing (and
    kept the resourceVersion) is counted too."""
    method, url, headers, body, post = api.param_serialize(
        "GET", "/metrics", auth_settings=["BearerToken"]
    )
    response = api.call_api(method, url, header_params=headers, body=body, post_params=post)
    text = response.read().decode()  # type: ignore[no-untyped-call]
    counts: Counter[str] = Counter()
    for line in text.splitlines():
        sample = _SAMPLE.match(line)
        if sample is None:
            continue
        labels = dict(_LABEL.findall(sample["labels"]))
        if (
            labels.get("group") == GROUP
            and labels.get("resource") == plural
            and labels.get("verb") in WRITE_VERBS
        ):
            counts[labels.get("subresource", "")] += int(float(sample["value"]))
    return counts


def resource_versions(api: client.CustomObjectsApi, namespace: str, plural: str) -> dict[str, str]:
    """name -> resourceVersion of every object of `plural` in the namespace."""
    listed = cast(
        "dict[str, Any]", api.list_namespaced_custom_object(GROUP, VERSION, namespace, plural)
    )
    return {
        item["metadata"]["name"]: item["metadata"]["resourceVersion"] for item in listed["items"]
    }
