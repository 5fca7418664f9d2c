"""What every handler shares during one operator run, carried in kopf's memo,
and the operator's startup and cleanup: kopf settings, the API client, and
the informers that keep the operator's in-memory view of the cluster (the
facts the scoreboards count, the catalog, and which failures and
deployments each catalog key can re-attribute)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import kopf
from kubernetes_asyncio import client

from kubedora.catalog import index
from kubedora.catalog.index import ObjectRef
from kubedora.config import OperatorConfig
from kubedora.git.cache import RepositoryCache
from kubedora.handlers import facts, recent
from kubedora.handlers.catalog_follower import CatalogFollower, Rematcher
from kubedora.handlers.facts import Group, Member
from kubedora.handlers.heap import release_free_memory
from kubedora.handlers.history import DoraSettings, History
from kubedora.handlers.monitor_tags import MonitorTagger
from kubedora.handlers.reconcile import Link
from kubedora.handlers.rollouts import RolloutWatcher
from kubedora.handlers.scoreboard import Triggers
from kubedora.handlers.statuses import StatusController, deployment_planner, failure_planner
from kubedora.handlers.telemetry import InformerLag, InformerState, Telemetry
from kubedora.handlers.web import DashboardServer
from kubedora.k8s.client import connect
from kubedora.k8s.informer import Consumer, Derived, Informer, KeyedIndex
from kubedora.matching import Catalog, CatalogKey
from kubedora.metrics import DeploymentFact, FailureFact
from kubedora.models import (
    CATALOG_KINDS,
    CONTROLLER_REVISIONS,
    DEPLOYMENTS,
    FAILURES,
    GROUP,
    PREFIX,
    REPLICASETS,
    CatalogEntry,
)
from kubedora.pagerduty.client import Limiters
from kubedora.web.page import OpenFailure

log = logging.getLogger("kubedora.operator")


@dataclass
class Caches:
    failure_facts: KeyedIndex[str, FailureFact]
    deployment_facts: KeyedIndex[str, DeploymentFact]
    failure_dependents: KeyedIndex[CatalogKey, ObjectRef]
    deployment_dependents: KeyedIndex[CatalogKey, ObjectRef]
    catalog: Catalog
    # For the dashboard page: open failures by namespace.
    open_failures: KeyedIndex[str, OpenFailure]
    deployment_groups: KeyedIndex[Group, Member]
    fact_informers: list[Informer] = field(default_factory=list)
    catalog_informers: list[Informer] = field(default_factory=list)
    # ReplicaSets and ControllerRevisions, for the rollout watcher.
    revision_informers: list[Informer] = field(default_factory=list)

    @property
    def informers(self) -> list[Informer]:
        return [*self.catalog_informers, *self.fact_informers, *self.revision_informers]

    async def all_synced(self) -> None:
        await _all_synced(self.informers)

    def informer_states(self) -> list[InformerState]:
        return [
            InformerState(
                resource=".".join(
                    part for part in (informer.resource.plural, informer.resource.group) if part
                ),
                namespace=informer.namespace or "",
                synced=informer.synced.is_set,
            )
            for informer in self.informers
        ]

    async def facts_synced(self) -> None:
        await _all_synced(self.fact_informers)

    async def catalog_synced(self) -> None:
        await _all_synced(self.catalog_informers)


async def _all_synced(informers: Iterable[Informer]) -> None:
    await asyncio.gather(*(informer.synced.wait() for informer in informers))


def build(
    api: client.ApiClient,
    namespaces: list[str] | None,
    triggers: Triggers,
    rematcher: Rematcher,
    telemetry: Telemetry | None = None,
    on_group_change: Callable[[Mapping[Group, Member], Mapping[Group, Member]], None] | None = None,
    rollouts: RolloutWatcher | None = None,
    statuses: StatusController | None = None,
    link: Callable[[str], Link] | None = None,
) -> Caches:
    """Informers for every namespace served (None: all of them, one watch).
    With a rollout watcher, it follows the apps/v1 catalog kinds, their
    ReplicaSets and ControllerRevisions, and our Deployments. With a status
    controller, it keeps the status of every Failure and Deployment."""
    scopes: list[str | None] = list(namespaces) if namespaces else [None]

    def touch(old: Mapping[str, object], new: Mapping[str, object]) -> None:
        for namespace in {*old, *new}:
            triggers.touch(namespace)

    failure_facts: KeyedIndex[str, FailureFact] = KeyedIndex(facts.failure_by_namespace, touch)
    deployment_facts: KeyedIndex[str, DeploymentFact] = KeyedIndex(on_change=touch)
    failure_dependents: KeyedIndex[CatalogKey, ObjectRef] = KeyedIndex(index.failure_dependents)
    deployment_dependents: KeyedIndex[CatalogKey, ObjectRef] = KeyedIndex(
        index.deployment_dependents
    )
    dependents = (failure_dependents, deployment_dependents)
    deployment_groups: KeyedIndex[Group, Member] = KeyedIndex(on_change=on_group_change)
    open_failures: KeyedIndex[str, OpenFailure] = KeyedIndex(recent.open_failure_by_namespace)
    failure_consumers: list[Consumer] = [failure_facts, failure_dependents, open_failures]
    # One fact per Deployment, shared by the scoreboard's index and the history's.
    deployment_consumers: list[Consumer] = [
        Derived(
            facts.deployment_fact,
            [
                (deployment_facts, facts.deployment_in_namespace),
                (deployment_groups, facts.deployment_in_group),
            ],
        ),
        deployment_dependents,
    ]
    if telemetry is not None:
        failure_consumers.append(InformerLag(FAILURES.kind, telemetry.event_lag))
        deployment_consumers.append(InformerLag(DEPLOYMENTS.kind, telemetry.event_lag))

    catalog_indexes: list[KeyedIndex[CatalogKey, CatalogEntry]] = []
    catalog_informers: list[Informer] = []
    fact_informers: list[Informer] = []
    revision_informers: list[Informer] = []
    for resource in CATALOG_KINDS:
        entries: KeyedIndex[CatalogKey, CatalogEntry] = KeyedIndex(
            functools.partial(index.catalog_values, resource.kind)
        )
        follower = CatalogFollower(
            resource=resource,
            api=api,
            rematcher=rematcher,
            dependents=dependents,
        )
        catalog_indexes.append(entries)
        # The index first: the follower's re-matches read the new catalog.
        consumers: list[Consumer] = [entries, follower]
        if rollouts is not None and resource.group == "apps":
            consumers.append(rollouts.workloads(resource.kind))
        for namespace in scopes:
            catalog_informers.append(Informer(api, resource, consumers, namespace=namespace))
    if rollouts is not None:
        deployment_consumers.append(rollouts.recorded())
        for resource in (REPLICASETS, CONTROLLER_REVISIONS):
            for namespace in scopes:
                revisions = rollouts.revisions()
                revision_informers.append(Informer(api, resource, [revisions], namespace=namespace))
    catalog = Catalog(catalog_indexes)
    for namespace in scopes:
        # A feed per informer, so that each says what its listing found.
        failure_feed: list[Consumer] = []
        deployment_feed: list[Consumer] = []
        if statuses is not None:
            failure_feed.append(statuses.feed(FAILURES, failure_planner(catalog, link), namespace))
            deployment_feed.append(
                statuses.feed(DEPLOYMENTS, deployment_planner(catalog), namespace)
            )
        fact_informers.append(
            Informer(api, FAILURES, [*failure_consumers, *failure_feed], namespace=namespace)
        )
        fact_informers.append(
            Informer(
                api, DEPLOYMENTS, [*deployment_consumers, *deployment_feed], namespace=namespace
            )
        )
    return Caches(
        failure_facts=failure_facts,
        deployment_facts=deployment_facts,
        failure_dependents=failure_dependents,
        deployment_dependents=deployment_dependents,
        catalog=catalog,
        open_failures=open_failures,
        deployment_groups=deployment_groups,
        fact_informers=fact_informers,
        catalog_informers=catalog_informers,
        revision_informers=revision_informers,
    )


@dataclass
class Runtime:
    config: OperatorConfig
    api: client.ApiClient
    triggers: Triggers
    rematcher: Rematcher
    caches: Caches
    telemetry: Telemetry
    # One PagerDuty rate limit per token, shared by backfills and monitor tags.
    limiters: Limiters
    tagger: MonitorTagger
    history: History
    statuses: StatusController
    server: DashboardServer | None = None
    # The informers feeding the caches, for the length of the run.
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def runtime_of(memo: kopf.Memo) -> Runtime:
    runtime = memo.get("runtime")
    if isinstance(runtime, Runtime):
        return runtime
    raise RuntimeError("the operator's startup handler has not run")


# kopf logs these at debug level, yet each means that handling stops until a
# person acts: every watch paused for want of the peering CRD, or the peering
# object gone (the replicas no longer see each other, and a standby never
# takes over). Missing CRDs of watched kinds and refused (403) requests are
# already warnings and errors in kopf.
_SURFACED = {
    "kopf._cogs.clients.watching": (
        ("Pausing the watch-stream", "peering CRD is missing"),
        " Nothing is handled until the peering CRD exists (kubectl apply -f "
        "manifests/peering.yaml), or run with --standalone.",
    ),
    "kopf._core.engines.peering": (
        ("Keep-alive in", ": not found."),
        " The peering object is gone: the replicas no longer see each other. Recreate it "
        "(kubectl apply -f manifests/peering.yaml), or run one replica with --standalone.",
    ),
}


class _Surface(logging.Filter):
    """Raise the kopf messages above to WARNING; drop kopf's other debug
    messages of the same logger unless --verbose asked for them."""

    def __init__(self, markers: tuple[str, ...], hint: str, verbose: bool) -> None:
        super().__init__()
        self.markers, self.hint, self.verbose = markers, hint, verbose

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.levelno < logging.WARNING and all(m in message for m in self.markers):
            record.msg, record.args = message + self.hint, ()
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            return True
        return self.verbose or record.levelno >= logging.INFO


def surface_pauses(*, verbose: bool) -> None:
    """Log at WARNING the kopf conditions that silently pause all handling.
    Call after kopf.configure()."""
    for name, (markers, hint) in _SURFACED.items():
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        for old in [f for f in logger.filters if isinstance(f, _Surface)]:
            logger.removeFilter(old)
        logger.addFilter(_Surface(markers, hint, verbose))


def configure(settings: kopf.OperatorSettings, config: OperatorConfig) -> None:
    # kopf handles only DoraSources (handlers/registry.py); what it writes on
    # them is under our own prefix, never kopf's kopf.zalando.org defaults.
    settings.persistence.finalizer = f"{PREFIX}finalizer"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    # Only warnings become Events by themselves; notable transitions are posted
    # explicitly, so `kubectl describe` is not flooded with routine logs.
    settings.posting.level = logging.WARNING
    # A dead replica's peering entry expires after this; a stopped one leaves
    # at once. The survivor resumes then.
    settings.peering.lifetime = int(config.peering_lifetime_seconds)
    # Resources are found once at startup: no cluster-wide CRD watch, so the
    # operator needs no RBAC on apiextensions.
    settings.scanning.disabled = True
    # kopf's workers are for DoraSources only; the same bound as the status
    # workers (handlers/statuses.py).
    settings.queueing.worker_limit = config.worker_limit
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330


async def startup(settings: kopf.OperatorSettings, memo: kopf.Memo) -> None:
    config = memo.get("config")
    if not isinstance(config, OperatorConfig):
        config = OperatorConfig()
    configure(settings, config)
    api = await connect()
    states: list[Caches] = []
    telemetry = Telemetry.create(
        lambda: [state for caches in states for state in caches.informer_states()],
        worker_limit=config.worker_limit,
        rows_per_dimension=config.metrics_rows_per_dimension,
        peering=config.peering,
    )
    # Every writer outside kopf's handlers waits on this: a standby writes nothing.
    active = telemetry.peering.wait_active
    triggers, rematcher = Triggers(), Rematcher(active=active)
    rollouts = None
    if config.home_namespace:
        rollouts = RolloutWatcher(api, config.home_namespace, active=active)
    else:
        log.warning(
            "Rollouts of catalog workloads are not recorded: no home namespace. Set "
            "KUBEDORA_NAMESPACE (the pod's namespace in manifests/) or pass --namespace."
        )
    late: list[History] = []

    def on_group_change(old: Mapping[Group, Member], new: Mapping[Group, Member]) -> None:
        late[0].on_group_change(old, new)

    limiters = Limiters(config.pagerduty_requests_per_minute)
    tagger = MonitorTagger(api, config, limiters)
    statuses = StatusController(
        api,
        telemetry=telemetry,
        workers=config.worker_limit,
        tagger=tagger if config.pagerduty_rest else None,
        monitor_tags_max_age_days=config.monitor_tags_max_age_days,
    )

    def link(namespace: str) -> Link:
        return functools.partial(late[0].link, namespace)

    caches = build(
        api,
        config.namespaces,
        triggers,
        rematcher,
        telemetry,
        on_group_change,
        rollouts,
        statuses,
        link,
    )
    states.append(caches)
    history = History(
        api=api,
        cache=RepositoryCache(
            Path(config.git_cache_dir),
            max_bytes=config.git_cache_bytes,
            concurrency=config.git_concurrency,
            timeout=config.git_timeout_seconds,
        ),
        groups=caches.deployment_groups,
        settings=DoraSettings(lambda namespace: late[0].touch_namespace(namespace)),
        lead_times_changed=triggers.touch,
        active=active,
    )
    late.append(history)
    runtime = Runtime(
        config=config,
        api=api,
        triggers=triggers,
        rematcher=rematcher,
        caches=caches,
        telemetry=telemetry,
        limiters=limiters,
        tagger=tagger,
        history=history,
        statuses=statuses,
    )
    telemetry.peering.attach()
    server = DashboardServer(
        address=config.http_address,
        telemetry=telemetry,
        api=api,
        namespaces=config.namespaces,
        open_failures=caches.open_failures,
        deployments=caches.deployment_facts,
    )
    try:
        await server.start()
    except OSError as error:
        telemetry.peering.detach()
        await api.close()
        # Permanent: a port in use stays in use; say so and stop.
        raise kopf.PermanentError(
            f"cannot serve --http-address {config.http_address}: {error}"
        ) from error
    runtime.server = server
    runtime.tasks = [
        asyncio.create_task(
            _after(prerequisite, informer), name=f"informer {informer.resource.plural}"
        )
        for informer, prerequisite in _in_order(caches)
    ]
    statuses.start()
    runtime.tasks.append(
        asyncio.create_task(history.supervised(caches.facts_synced), name="deployment history")
    )
    runtime.tasks.append(asyncio.create_task(_trim_after(caches.all_synced), name="trim"))
    if rollouts is not None:
        runtime.tasks.append(
            asyncio.create_task(
                _supervised(rollouts.run, runtime.caches.all_synced), name="rollouts"
            )
        )
    memo["runtime"] = runtime


def _in_order(caches: Caches) -> list[tuple[Informer, Callable[[], Awaitable[None]]]]:
    """Each informer with what must be synced before it starts: a status is
    planned as its object passes, so Deployments wait for the catalog they
    are matched against, and Failures for the catalog and the deployments
    they are linked to."""
    deployments = [i for i in caches.fact_informers if i.resource is DEPLOYMENTS]
    failures = [i for i in caches.fact_informers if i.resource is FAILURES]

    async def nothing() -> None:
        pass

    async def deployments_synced() -> None:
        await caches.catalog_synced()
        await _all_synced(deployments)

    first = [*caches.catalog_informers, *caches.revision_informers]
    return [
        *((informer, nothing) for informer in first),
        *((informer, caches.catalog_synced) for informer in deployments),
        *((informer, deployments_synced) for informer in failures),
    ]


async def _trim_after(synced: Callable[[], Awaitable[None]]) -> None:
    """The first listing's pages are parsed and gone: give their memory back."""
    await synced()
    release_free_memory("every informer listed")


async def _after(prerequisite: Callable[[], Awaitable[None]], informer: Informer) -> None:
    await prerequisite()
    await informer.supervised()


async def _supervised(
    run: Callable[[Callable[[], Awaitable[None]]], Awaitable[None]],
    synced: Callable[[], Awaitable[None]],
) -> None:
    """The rollout watcher, restarted after a bug rather than gone silent."""
    while True:
        try:
            await run(synced)
        except Exception:
            log.exception("the rollout watcher failed; starting it again")
            await asyncio.sleep(2.0)


async def cleanup(memo: kopf.Memo) -> None:
    runtime = runtime_of(memo)
    if runtime.server is not None:
        await runtime.server.close()
    runtime.telemetry.peering.detach()
    await runtime.statuses.close()
    for task in runtime.tasks:
        task.cancel()
    for task in runtime.tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await runtime.rematcher.close()
    await runtime.tagger.close()
    await runtime.history.close()
    await runtime.api.close()
