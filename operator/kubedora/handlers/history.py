"""Keep each Deployment's history status current: lead time from git
(`commits`, `leadTime`, condition LeadTimeUnavailable) and change failure
(`changeFailure`, `rollback`).

Both depend on the other deployments of the same service and env, later
ones included (a rollback marks an earlier deployment), so this is not a
per-object kopf handler: every change to a deployment marks its group
(namespace, service, env) dirty in an informer-fed index, and one worker
recomputes dirty groups and writes only the statuses that differ. Git work
runs in background tasks: a deployment shows LeadTimeUnavailable/Pending
until its range is known, and a group is recomputed when a fetch ends or a
back-off expires. Nothing here waits on git while holding up other groups.

The settings come from every DoraSource in the namespace: the union of
their git hosts and rollforward rules, and the longest attribution window."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from kubedora.git.access import AllowList, NotAllowed, Repository, parse
from kubedora.git.cache import CommitMissing, Credentials, GitFailed, RepositoryCache, Unreachable
from kubedora.handlers.facts import LEAD_TIME_CONDITION, Group, Member, recorded_history
from kubedora.handlers.heap import TRIM_AFTER, release_free_memory
from kubedora.k8s.client import patch_status
from kubedora.k8s.errors import API_ERRORS
from kubedora.k8s.informer import KeyedIndex
from kubedora.metrics import (
    DEFAULT_ATTRIBUTION_WINDOW,
    MAX_COMMITS,
    CompiledRule,
    DeploymentFact,
    Finished,
    Unavailable,
    commit_lead_times,
    compile_rules,
    judge,
    linked_deployment,
    parse_window,
    previous_too_old,
    summarize,
    too_many,
)
from kubedora.models import (
    DEPLOYMENTS,
    ChangeFailure,
    Condition,
    ConditionStatus,
    DoraSourceSpec,
    LeadTime,
    Rollback,
    set_condition,
)

log = logging.getLogger("kubedora.history")

RETRY_SECONDS = 5.0
# History writes sent at once: one at a time, the 100,000 of a first pass
# take many minutes.
WRITES_IN_FLIGHT = 16
SECRET_TTL = 30.0


class DoraSettings:
    """The DoraSource specs of each namespace, as their scoreboard loops last read them."""

    def __init__(self, on_change: Callable[[str], None]) -> None:
        self._specs: dict[str, dict[str, DoraSourceSpec]] = {}
        self._on_change = on_change

    def update(self, namespace: str, name: str, spec: DoraSourceSpec | None) -> None:
        specs = self._specs.setdefault(namespace, {})
        if specs.get(name) == spec:
            return
        if spec is None:
            specs.pop(name, None)
        else:
            specs[name] = spec
        self._on_change(namespace)

    def _each(self, namespace: str) -> list[DoraSourceSpec]:
        specs = self._specs.get(namespace, {})
        return [specs[name] for name in sorted(specs)]

    def allow_list(self, namespace: str) -> AllowList:
        return AllowList.of(
            host for spec in self._each(namespace) if spec.git for host in spec.git.hosts
        )

    def rules(self, namespace: str) -> list[CompiledRule]:
        rules, _ = compile_rules(
            rule
            for spec in self._each(namespace)
            if spec.change_failure
            for rule in spec.change_failure.rollforward_rules
        )
        return rules

    def attribution_window(self, namespace: str) -> timedelta:
        windows = [
            parse_window(spec.change_failure.attribution_window)
            for spec in self._each(namespace)
            if spec.change_failure
        ]
        return max(windows, default=DEFAULT_ATTRIBUTION_WINDOW)


@dataclass(frozen=True, slots=True)
class _Ask:
    """One range to ask git for: which repository, previous..this."""

    repository: Repository
    base: str
    head: str


@dataclass(frozen=True, slots=True)
class _Answer:
    ask: _Ask
    commit_times: tuple[datetime, ...] = ()
    reason: Unavailable | None = None
    message: str = ""
    retry_at: float = 0.0


@dataclass(frozen=True, slots=True)
class _LeadStatus:
    commits: int | None
    lead_time: LeadTime | None
    reason: Unavailable | None
    message: str
    lead_times: tuple[float, ...] = ()


async def _now() -> None:
    pass


@dataclass
class History:
    api: client.ApiClient
    cache: RepositoryCache
    groups: KeyedIndex[Group, Member]
    settings: DoraSettings
    # Wakes the scoreboards of a namespace when its lead times change.
    lead_times_changed: Callable[[str], None]
    # Returns once this replica is the active one (peering): only it writes.
    active: Callable[[], Awaitable[None]] = field(default=lambda: _now())
    # Per namespace and deployment name: each shipped commit's lead time.
    lead_times: dict[str, dict[str, tuple[float, ...]]] = field(default_factory=dict)
    _answers: dict[tuple[str, str], _Answer] = field(default_factory=dict)
    _asking: set[tuple[str, str]] = field(default_factory=set)
    _dirty: set[Group] = field(default_factory=set)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _secrets: dict[tuple[str, str, str], tuple[float, str | None]] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _written: int = 0
    _in_flight: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(WRITES_IN_FLIGHT)
    )

    def touch(self, groups: Iterable[Group]) -> None:
        self._dirty.update(groups)
        self._wake.set()

    def touch_namespace(self, namespace: str) -> None:
        self.touch(key for key in self.groups if key[0] == namespace)

    def on_group_change(self, old: Mapping[Group, Member], new: Mapping[Group, Member]) -> None:
        for key, member in old.items():
            if key not in new:
                # Gone from its group: deleted, or moved (its new group's
                # pass computes it again).
                self.lead_times.get(key[0], {}).pop(member.fact.name, None)
                self._answers.pop((key[0], member.fact.name), None)
        self.touch({*old, *new})

    async def supervised(self, synced: Callable[[], Any]) -> None:
        """run(), restarted after any failure: statuses must not silently stop moving."""
        await synced()
        while True:
            try:
                await self.run()
            except Exception:
                log.exception("the deployment history worker failed; restarting")
                self.touch(list(self.groups))
                await asyncio.sleep(RETRY_SECONDS)

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            await self.active()
            self._wake.clear()
            dirty, self._dirty = self._dirty, set()
            for key in sorted(dirty, key=lambda k: (k[0], k[1], k[2] or "")):
                try:
                    await self._process(key)
                except API_ERRORS as error:
                    log.warning("could not write the history of %s, retrying: %s", key, error)
                    self._later(key, RETRY_SECONDS)
            if self._written >= TRIM_AFTER:
                release_free_memory(f"{self._written} deployment histories written")
            self._written = 0

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def link(
        self, namespace: str, services: Sequence[str], env: str | None, started_at: datetime
    ) -> str | None:
        """The deployment a failure most likely followed (metrics.linking)."""
        groups = {
            (service, env): sorted(
                (Finished(m.fact.finished_at, m.fact.name) for m in self.groups[key]),
                key=lambda f: (f.finished_at, f.name),
            )
            for service in services
            if (key := (namespace, service, env)) in self.groups
        }
        window = self.settings.attribution_window(namespace)
        return linked_deployment(services, env, started_at, groups, window)

    async def _process(self, key: Group) -> None:
        namespace = key[0]
        members = sorted(self.groups.get(key, ()), key=lambda m: (m.fact.finished_at, m.fact.name))
        verdicts = judge([m.fact for m in members], self.settings.rules(namespace))
        known = self.lead_times.setdefault(namespace, {})
        changed = False
        writes: list[tuple[str, dict[str, Any]]] = []
        for index, member in enumerate(members):
            lead = self._lead(key, members, index)
            if known.get(member.fact.name, ()) != lead.lead_times:
                # Only deployments that have lead times are kept: most have none.
                if lead.lead_times:
                    known[member.fact.name] = lead.lead_times
                else:
                    known.pop(member.fact.name, None)
                changed = True
            verdict = verdicts[member.fact.name]
            status = _history_status(member, lead, verdict.change_failure, verdict.rollback_of)
            if recorded_history(status) != member.recorded:
                writes.append((member.fact.name, status))
        if changed:
            self.lead_times_changed(namespace)
        await self._write(namespace, writes)

    async def _write(self, namespace: str, writes: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Patch each Deployment's history, WRITES_IN_FLIGHT at a time; the
        first error is raised once all have been tried."""

        async def one(name: str, status: dict[str, Any]) -> None:
            async with self._in_flight:
                await patch_status(self.api, DEPLOYMENTS, namespace, name, status)

        self._written += len(writes)
        results = await asyncio.gather(
            *(one(name, status) for name, status in writes), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    def _lead(self, key: Group, members: Sequence[Member], index: int) -> _LeadStatus:
        fact = members[index].fact
        if not fact.repository or not fact.commit:
            return _LeadStatus(
                None, None, Unavailable.NO_GIT_DATA, "no git.repositoryUrl and git.commitSha"
            )
        previous = next(
            (
                m.fact
                for m in reversed(members[:index])
                if m.fact.commit and _same_repository(m.fact.repository, fact.repository)
            ),
            None,
        )
        if previous is None or previous.commit is None:
            return _LeadStatus(
                None,
                None,
                Unavailable.NO_PREVIOUS_DEPLOYMENT,
                "no earlier deployment of this service and env names a commit of this repository",
            )
        if previous_too_old(previous.finished_at, fact.finished_at):
            return _LeadStatus(
                None,
                None,
                Unavailable.PREVIOUS_TOO_OLD,
                f"the previous deployment, {previous.name}, finished more than 60 days earlier",
            )
        try:
            repository, _ = self.settings.allow_list(key[0]).check(fact.repository)
        except NotAllowed as error:
            return _LeadStatus(None, None, Unavailable.HOST_NOT_ALLOWED, str(error))
        ask = _Ask(repository, previous.commit, fact.commit)
        answer = self._answers.get((key[0], fact.name))
        if (
            answer is None
            or answer.ask != ask
            or (
                answer.reason == Unavailable.REPOSITORY_UNREACHABLE
                and time.monotonic() >= answer.retry_at
            )
        ):
            self._ask(key, fact, ask)
            if answer is None or answer.ask != ask:
                return _LeadStatus(
                    None, None, Unavailable.PENDING, "reading the repository's history"
                )
        return _from_answer(answer, fact, previous)

    def _ask(self, key: Group, fact: DeploymentFact, ask: _Ask) -> None:
        ref = (key[0], fact.name)
        if ref in self._asking:
            return
        self._asking.add(ref)
        task = asyncio.create_task(
            self._fetch(key, fact.name, ask), name=f"git {ask.repository.url}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fetch(self, key: Group, name: str, ask: _Ask) -> None:
        namespace = key[0]
        try:
            credentials = await self._credentials(namespace, ask.repository)
            found = await self.cache.commits(
                ask.repository,
                head=ask.head,
                base=ask.base,
                limit=MAX_COMMITS,
                credentials=credentials,
            )
            answer = _Answer(ask, commit_times=found.commit_times)
        except Unreachable as error:
            log.warning("repository %s unreachable: %s", ask.repository.url, error)
            answer = _Answer(
                ask,
                reason=Unavailable.REPOSITORY_UNREACHABLE,
                message=str(error),
                retry_at=error.retry_at,
            )
            self._later(key, max(0.0, error.retry_at - time.monotonic()))
        except CommitMissing as error:
            reason = (
                Unavailable.COMMIT_NOT_FOUND
                if error.which == "head"
                else Unavailable.PREVIOUS_COMMIT_MISSING
            )
            answer = _Answer(ask, reason=reason, message=str(error))
        except GitFailed as error:
            answer = _Answer(ask, reason=Unavailable.REPOSITORY_UNREACHABLE, message=str(error))
        finally:
            self._asking.discard((namespace, name))
        self._answers[(namespace, name)] = answer
        self.touch([key])

    def _later(self, key: Group, delay: float) -> None:
        asyncio.get_running_loop().call_later(delay, self.touch, [key])

    async def _credentials(self, namespace: str, repository: Repository) -> Credentials | None:
        entry = self.settings.allow_list(namespace).hosts.get(repository.host)
        if entry is None or entry.secret_ref is None:
            return None
        ref = (namespace, entry.secret_ref.name, entry.secret_ref.key)
        cached = self._secrets.get(ref)
        if cached is None or time.monotonic() - cached[0] > SECRET_TTL:
            cached = (time.monotonic(), await self._read_secret(*ref))
            self._secrets[ref] = cached
        return Credentials(username=entry.username, token=cached[1])

    async def _read_secret(self, namespace: str, name: str, key: str) -> str | None:
        try:
            secret = await client.CoreV1Api(self.api).read_namespaced_secret(
                name, namespace, _request_timeout=5
            )
        except ApiException as error:
            log.warning("cannot read Secret %s/%s for git: %s", namespace, name, error.reason)
            return None
        value = (secret.data or {}).get(key)
        if value is None:
            log.warning("Secret %s/%s has no key %r for git", namespace, name, key)
            return None
        return base64.b64decode(value).decode()


def _same_repository(left: str | None, right: str | None) -> bool:
    if left is None or right is None:
        return False
    try:
        return parse(left).key == parse(right).key
    except NotAllowed:
        return left == right


def _from_answer(answer: _Answer, fact: DeploymentFact, previous: DeploymentFact) -> _LeadStatus:
    if answer.reason is not None:
        return _LeadStatus(None, None, answer.reason, answer.message)
    count = len(answer.commit_times)
    if too_many(count):
        return _LeadStatus(
            None,
            None,
            Unavailable.TOO_MANY_COMMITS,
            f"more than {MAX_COMMITS} commits since the previous deployment, {previous.name}",
        )
    times = tuple(commit_lead_times(answer.commit_times, fact.finished_at))
    lead = summarize(times)
    if lead is None:
        return _LeadStatus(0, None, Unavailable.NO_COMMITS, f"no new commits since {previous.name}")
    return _LeadStatus(count, lead, None, f"{count} commits since {previous.name}", times)


def _history_status(
    member: Member, lead: _LeadStatus, failure: ChangeFailure, rollback_of: str | None
) -> dict[str, Any]:
    conditions = [Condition.model_validate(c) for c in member.conditions]
    now = datetime.now(UTC)
    unavailable = lead.reason is not None
    updated = set_condition(
        conditions,
        type=LEAD_TIME_CONDITION,
        status=ConditionStatus.TRUE if unavailable else ConditionStatus.FALSE,
        reason=lead.reason.value if lead.reason else "Computed",
        message=lead.message,
        observed_generation=None,
        now=now,
    )
    return {
        "commits": lead.commits,
        "leadTime": lead.lead_time.to_wire() if lead.lead_time else None,
        "changeFailure": failure.to_wire(),
        "rollback": Rollback(of=rollback_of).to_wire() if rollback_of else None,
        "conditions": [
            c.model_dump(mode="json", by_alias=True, exclude_none=True) for c in updated
        ],
    }
