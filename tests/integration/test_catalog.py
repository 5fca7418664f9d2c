"""The service catalog against a real API server: annotated Services and
workloads, PagerDuty failures attributed by each rule, the scoreboard
counting them there, and re-matching when the catalog changes.

The catalog spans the cluster and the operator is shared by every test, so
every catalog name here is unique to its test."""

from __future__ import annotations

import uuid
from typing import Any, cast

import pytest
from kubernetes import client

from tests.support.dora import ago, create, get, patch_spec, rfc3339
from tests.support.kube import poll, unique_name
from tests.support.operator import OperatorProcess

pytestmark = pytest.mark.usefixtures("operator")

PD = "https://acme.pagerduty.com/services"


@pytest.fixture
def apps_v1(api_client: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api_client)


@pytest.fixture
def catalog_namespace(core_v1: client.CoreV1Api) -> str:
    """Catalog objects live apart from the failures: the catalog is cluster-wide."""
    name = unique_name("catalog")
    core_v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    return name


@pytest.fixture
def u() -> str:
    return uuid.uuid4().hex[:6]


def catalog_annotations(**values: str) -> dict[str, str]:
    return {f"kubedora.io/{key.replace('_', '-')}": value for key, value in values.items()}


def service(core_v1: client.CoreV1Api, namespace: str, name: str, **values: str) -> None:
    # The client validates a plain manifest into its model.
    core_v1.create_namespaced_service(
        namespace,
        cast(
            "client.V1Service",
            {
                "metadata": {"name": name, "annotations": catalog_annotations(**values)},
                "spec": {"selector": {"app": name}, "ports": [{"port": 80}]},
            },
        ),
    )


def _pod_template(name: str) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": name}},
        "spec": {"containers": [{"name": "app", "image": "registry.invalid/app:1"}]},
    }


def workload(
    apps_v1: client.AppsV1Api, kind: str, namespace: str, name: str, **values: str
) -> None:
    body: dict[str, Any] = {
        "metadata": {"name": name, "annotations": catalog_annotations(**values)},
        "spec": {"selector": {"matchLabels": {"app": name}}, "template": _pod_template(name)},
    }
    # The client validates a plain manifest into its model.
    if kind == "Deployment":
        apps_v1.create_namespaced_deployment(namespace, cast("client.V1Deployment", body))
    elif kind == "StatefulSet":
        body["spec"]["serviceName"] = name
        apps_v1.create_namespaced_stateful_set(namespace, cast("client.V1StatefulSet", body))
    else:
        apps_v1.create_namespaced_daemon_set(namespace, cast("client.V1DaemonSet", body))


def pagerduty_failure(
    *,
    service_name: str | None = None,
    service_url: str | None = None,
    teams: tuple[str, ...] = (),
    monitor_tags: tuple[str, ...] = (),
    **spec: Any,
) -> dict[str, Any]:
    """A Failure as the receiver writes one: the PagerDuty service and team
    in the spec (the CRD wants one of them), the raw context beside them."""
    context: dict[str, Any] = {"incidentId": f"Q{uuid.uuid4().hex[:8].upper()}"}
    if service_name:
        context["serviceName"] = service_name
    if service_url:
        context["serviceUrl"] = service_url
    if teams:
        context["teams"] = list(teams)
    if monitor_tags:
        context["monitorTags"] = list(monitor_tags)
    body: dict[str, Any] = {
        "source": "pagerduty",
        "startedAt": rfc3339(ago(hours=2)),
        "pagerduty": context,
        **spec,
    }
    if service_name:
        body.setdefault("services", [service_name])
    if teams:
        body.setdefault("team", teams[0])
    return body


def expected(
    services: list[str], team: str | None, env: str | None, matched_by: str, tags: list[str]
) -> dict[str, Any]:
    # Null fields are dropped by the merge patch that writes the status.
    attribution = {
        "services": services,
        "team": team,
        "env": env,
        "customTags": tags,
        "matchedBy": matched_by,
    }
    return {key: value for key, value in attribution.items() if value is not None}


def attribution_of(api: client.CustomObjectsApi, namespace: str, name: str) -> dict[str, Any]:
    status = get(api, namespace, "Failure", name).get("status") or {}
    found: dict[str, Any] = status.get("attribution") or {}
    return found


def wait_for_attribution(
    api: client.CustomObjectsApi, namespace: str, name: str, want: dict[str, Any]
) -> None:
    poll(
        lambda: attribution_of(api, namespace, name) == want,
        timeout=30,
        what=f"{name} attributed as {want}",
    )


def rows_of(api: client.CustomObjectsApi, namespace: str, name: str) -> dict[tuple[str, str], Any]:
    status = get(api, namespace, "DoraSource", name).get("status") or {}
    return {(row["dimension"], row["key"]): row for row in status.get("breakdown", [])}


def wait_for_rows(
    api: client.CustomObjectsApi,
    namespace: str,
    name: str,
    want: dict[tuple[str, str], tuple[int, int]],
) -> dict[tuple[str, str], Any]:
    """Until the breakdown has exactly these rows, as (failures, deployments)."""

    def counted() -> dict[tuple[str, str], Any] | None:
        rows = rows_of(api, namespace, name)
        got = {key: (row["failures"], row["deployments"]) for key, row in rows.items()}
        return rows if got == want else None

    return poll(counted, timeout=30, what=f"breakdown rows {want}")


def test_each_rule_attributes_a_pagerduty_failure_and_the_scoreboard_counts_it_there(
    custom_objects: client.CustomObjectsApi,
    core_v1: client.CoreV1Api,
    apps_v1: client.AppsV1Api,
    namespace: str,
    catalog_namespace: str,
    u: str,
) -> None:
    checkout, cart, basket, ledger = (f"{s}-{u}" for s in ("checkout", "cart", "basket", "ledger"))
    search, shop, finance = f"search-{u}", f"shop-{u}", f"finance-{u}"
    service(
        core_v1,
        catalog_namespace,
        checkout,
        service="",  # empty: the Service's own name
        team=shop,
        pagerduty_service_url=f"{PD}/PCHK{u.upper()}",
        languages="Python",
        tags="tier:1",
    )
    # Two services behind one PagerDuty service, both of shop: an apps/v1
    # Deployment and a Service.
    workload(
        apps_v1,
        "Deployment",
        catalog_namespace,
        f"{cart}-api",
        service=cart,
        team=shop,
        pagerduty_service_url=f"{PD}/PSHOP{u}",
    )
    service(
        core_v1,
        catalog_namespace,
        basket,
        service=basket,
        team=shop,
        pagerduty_service_url=f"{PD}/PSHOP{u}",
    )
    service(core_v1, catalog_namespace, ledger, service=ledger, team=finance)
    workload(
        apps_v1,
        "StatefulSet",
        catalog_namespace,
        search,
        service=search,
        team=finance,
        languages="java",
    )

    failures = {
        "by-monitor": (
            pagerduty_failure(
                service_name="Checkout PD",
                teams=("Web",),
                monitor_tags=("env:prod", f"service:{checkout}"),
            ),
            expected([checkout], shop, "prod", "monitor", ["language:python", "tier:1"]),
        ),
        "by-url": (
            pagerduty_failure(
                service_name="Checkout PD",
                service_url=f"HTTPS://ACME.PagerDuty.com/services/pchk{u}/",
                env="prod",
            ),
            expected([checkout], shop, "prod", "service-url", ["language:python", "tier:1"]),
        ),
        "by-url-team": (
            pagerduty_failure(service_name="Shop PD", service_url=f"{PD}/PSHOP{u}", env="prod"),
            expected([], shop, "prod", "service-url", []),
        ),
        "by-name": (
            pagerduty_failure(service_name=ledger.upper(), teams=("Web",), env="prod"),
            expected([ledger], finance, "prod", "service-name", []),
        ),
        "by-team": (
            pagerduty_failure(service_name="Money PD", teams=("Web", finance.upper()), env="prod"),
            expected([], finance, "prod", "team-name", []),
        ),
        "by-name-as-team": (
            pagerduty_failure(service_name=shop, teams=("Web",), env="prod"),
            expected([], shop, "prod", "service-name-as-team", []),
        ),
        "as-is": (
            pagerduty_failure(service_name=f"Orders {u}", teams=(f"Web {u}",), env="prod"),
            expected([f"Orders {u}"], f"Web {u}", "prod", "pagerduty", []),
        ),
        "from-api": (
            {"services": [search], "env": "prod", "startedAt": rfc3339(ago(hours=1))},
            expected([search], finance, "prod", "spec", ["language:java"]),
        ),
    }
    for name, (spec, _) in failures.items():
        create(custom_objects, namespace, "Failure", name, spec)
    # A deployment without a team takes its service's catalog team.
    create(
        custom_objects,
        namespace,
        "Deployment",
        "checkout-1",
        {
            "service": checkout,
            "env": "prod",
            "startedAt": rfc3339(ago(hours=3)),
            "finishedAt": rfc3339(ago(hours=3, minutes=-5)),
        },
    )
    create(custom_objects, namespace, "DoraSource", "board", {"window": "1d"})

    for name, (_, want) in failures.items():
        wait_for_attribution(custom_objects, namespace, name, want)
    poll(
        lambda: (
            (get(custom_objects, namespace, "Deployment", "checkout-1").get("status") or {}).get(
                "team"
            )
            == shop
        ),
        what="the deployment to take its service's catalog team",
    )

    wait_for_rows(
        custom_objects,
        namespace,
        "board",
        {
            ("service", checkout): (2, 1),
            ("service", ledger): (1, 0),
            ("service", search): (1, 0),
            ("service", f"Orders {u}"): (1, 0),
            ("team", shop): (4, 1),
            ("team", finance): (3, 0),
            ("team", f"Web {u}"): (1, 0),
            ("env", "prod"): (8, 1),
        },
    )
    summary = get(custom_objects, namespace, "DoraSource", "board")["status"]["summary"]
    assert (summary["failures"], summary["deployments"]) == (8, 1)


def test_a_catalog_change_re_matches_what_it_affects(
    custom_objects: client.CustomObjectsApi,
    core_v1: client.CoreV1Api,
    namespace: str,
    catalog_namespace: str,
    u: str,
) -> None:
    late, ops, infra = f"late-{u}", f"ops-{u}", f"infra-{u}"
    url = f"{PD}/PLATE{u}"
    create(
        custom_objects,
        namespace,
        "Failure",
        "late",
        pagerduty_failure(service_name="Late PD", service_url=url, teams=(f"Web {u}",)),
    )
    create(
        custom_objects,
        namespace,
        "Deployment",
        "late-1",
        {
            "service": late,
            "startedAt": rfc3339(ago(hours=3)),
            "finishedAt": rfc3339(ago(hours=3, minutes=-5)),
        },
    )
    create(custom_objects, namespace, "DoraSource", "board", {"window": "1d"})
    wait_for_attribution(
        custom_objects, namespace, "late", expected(["Late PD"], f"Web {u}", None, "pagerduty", [])
    )
    wait_for_rows(
        custom_objects,
        namespace,
        "board",
        {("service", "Late PD"): (1, 0), ("service", late): (0, 1), ("team", f"Web {u}"): (1, 0)},
    )

    # Annotated after the failure: the failure and the deployment are re-matched.
    service(core_v1, catalog_namespace, late, service=late, team=ops, pagerduty_service_url=url)
    wait_for_attribution(
        custom_objects, namespace, "late", expected([late], ops, None, "service-url", [])
    )
    poll(
        lambda: (
            (get(custom_objects, namespace, "Deployment", "late-1").get("status") or {}).get("team")
            == ops
        ),
        what="the deployment to take the new catalog team",
    )
    wait_for_rows(
        custom_objects,
        namespace,
        "board",
        {("service", late): (1, 1), ("team", ops): (1, 1)},
    )

    # Edited: the new team and tags follow.
    core_v1.patch_namespaced_service(
        late,
        catalog_namespace,
        {"metadata": {"annotations": catalog_annotations(team=infra, tags="tier:2")}},
    )
    wait_for_attribution(
        custom_objects, namespace, "late", expected([late], infra, None, "service-url", ["tier:2"])
    )
    wait_for_rows(
        custom_objects,
        namespace,
        "board",
        {("service", late): (1, 1), ("team", infra): (1, 1)},
    )

    # No longer annotated: back to PagerDuty's own names.
    core_v1.patch_namespaced_service(
        late, catalog_namespace, {"metadata": {"annotations": {"kubedora.io/service": None}}}
    )
    wait_for_attribution(
        custom_objects, namespace, "late", expected(["Late PD"], f"Web {u}", None, "pagerduty", [])
    )
    poll(
        lambda: (
            "team"
            not in (get(custom_objects, namespace, "Deployment", "late-1").get("status") or {})
        ),
        what="the deployment to lose the catalog team",
    )


def test_a_resolve_without_monitor_tags_keeps_the_monitor_attribution(
    custom_objects: client.CustomObjectsApi,
    core_v1: client.CoreV1Api,
    namespace: str,
    catalog_namespace: str,
    u: str,
) -> None:
    checkout, shop = f"checkout-{u}", f"shop-{u}"
    url = f"{PD}/PSTICKY{u}"
    service(core_v1, catalog_namespace, checkout, service=checkout, team=shop)
    # The PagerDuty service's URL is another catalog entry's: without the
    # memory of rule 1, the resolve would be matched to that one.
    service(core_v1, catalog_namespace, f"other-{u}", pagerduty_service_url=url, service="")
    create(
        custom_objects,
        namespace,
        "Failure",
        "incident",
        pagerduty_failure(
            service_name="Shared PD",
            service_url=url,
            monitor_tags=("env:prod", f"service:{checkout}"),
            state="active",
        ),
    )
    triggered = expected([checkout], shop, "prod", "monitor", [])
    wait_for_attribution(custom_objects, namespace, "incident", triggered)

    patch_spec(
        custom_objects,
        namespace,
        "Failure",
        "incident",
        {
            "state": "resolved",
            "finishedAt": rfc3339(ago(hours=1)),
            "pagerduty": {"monitorTags": None},
        },
    )
    poll(
        lambda: (
            (get(custom_objects, namespace, "Failure", "incident").get("status") or {}).get("state")
            == "resolved"
        ),
        what="the resolve to be handled",
    )
    assert attribution_of(custom_objects, namespace, "incident") == triggered

    # A failure of that PagerDuty service that never had monitor tags is
    # matched by the URL: the memory belongs to the incident, not the service.
    create(
        custom_objects,
        namespace,
        "Failure",
        "manual",
        pagerduty_failure(service_name="Shared PD", service_url=url),
    )
    wait_for_attribution(
        custom_objects, namespace, "manual", expected([f"other-{u}"], None, None, "service-url", [])
    )


def test_malformed_annotations_are_warned_about_and_skipped(
    custom_objects: client.CustomObjectsApi,
    core_v1: client.CoreV1Api,
    apps_v1: client.AppsV1Api,
    namespace: str,
    catalog_namespace: str,
    operator: OperatorProcess,
    u: str,
) -> None:
    name, team = f"sloppy-{u}", f"team-{u}"
    workload(
        apps_v1,
        "DaemonSet",
        catalog_namespace,
        name,
        service=name,
        team=team,
        pagerduty_service_url="PSLOPPY",
        tags="tier1,owner:me",
    )
    create(
        custom_objects,
        namespace,
        "Failure",
        "f",
        {"services": [name], "startedAt": rfc3339(ago(hours=1))},
    )
    # The well-formed parts count.
    wait_for_attribution(
        custom_objects, namespace, "f", expected([name], team, None, "spec", ["owner:me"])
    )

    def warnings() -> list[str] | None:
        found = sorted(
            cast(str, event.message)
            for event in core_v1.list_namespaced_event(catalog_namespace).items
            if event.involved_object.name == name
            and event.involved_object.kind == "DaemonSet"
            and event.type == "Warning"
            and event.reason == "InvalidCatalogAnnotation"
        )
        return found if len(found) >= 2 else None

    assert poll(warnings, what="warning events on the DaemonSet") == [
        "kubedora.io/pagerduty-service-url: 'PSLOPPY' is not an http(s) URL; skipped it",
        "kubedora.io/tags: 'tier1' is not key:value; skipped it",
    ]
    assert operator.process.poll() is None
