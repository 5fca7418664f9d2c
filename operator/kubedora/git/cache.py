"""A shared cache of bare, blobless repositories driven by the git CLI.

Each repository is cloned once (`git clone --bare --filter=blob:none`: commits
and trees, no file contents) into its own directory under the cache root,
and fetched again only when a deployment names a commit it does not have.
Git runs in asyncio subprocesses, at most `concurrency` at a time and one
at a time per repository, each under a deadline, so history never blocks
other work. A repository that cannot be reached is not asked again before
its back-off ends (doubling from 10 s to 10 min).

When the cache grows past its byte limit, the least recently used
repositories are removed (never the one in use)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import shutil
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kubedora.git.access import Repository, git_environment

log = logging.getLogger("kubedora.git")

# git's own "infinite" depth (what --unshallow sends). Asking for a depth
# makes the server say where a shallow history of its own ends; without it,
# a blobless clone of a shallow repository (a mirror made with --depth)
# takes the missing parents for promised objects and fetches them forever.
_ALL_HISTORY = "--depth=2147483647"
FIRST_BACKOFF = 10.0
MAX_BACKOFF = 600.0
_SHA = frozenset("0123456789abcdef")


class GitFailed(Exception):
    """A git command failed; the message is git's own (it never holds a token)."""


class Unreachable(GitFailed):
    """The repository could not be fetched; try again after `retry_at`."""

    def __init__(self, message: str, retry_at: float) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class CommitMissing(GitFailed):
    """A commit is neither in the cache nor on the server."""

    def __init__(self, sha: str, which: str) -> None:
        super().__init__(f"{which} commit {sha} is not in the repository")
        self.sha, self.which = sha, which


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str | None = None
    token: str | None = None


@dataclass(frozen=True, slots=True)
class Range:
    """What `git rev-list --no-merges base..head` lists, newest first, at
    most `limit` + 1 entries (so that "more than limit" can be told)."""

    commit_times: tuple[datetime, ...]

    @property
    def count(self) -> int:
        return len(self.commit_times)


@dataclass
class _Health:
    failures: int = 0
    retry_at: float = 0.0


class RepositoryCache:
    def __init__(
        self,
        root: Path,
        *,
        max_bytes: int,
        concurrency: int = 2,
        timeout: float = 600.0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.timeout = timeout
        self._slots = asyncio.Semaphore(concurrency)
        self._locks: dict[str, asyncio.Lock] = {}
        self._health: dict[str, _Health] = {}
        self._environ = dict(os.environ if environ is None else environ)
        root.mkdir(parents=True, exist_ok=True)

    def directory(self, repository: Repository) -> Path:
        return self.root / f"{repository.key}.git"

    def retry_at(self, repository: Repository) -> float:
        """time.monotonic() before which an unreachable repository is not asked."""
        health = self._health.get(repository.key)
        return health.retry_at if health else 0.0

    async def commits(
        self,
        repository: Repository,
        *,
        head: str,
        base: str,
        limit: int,
        credentials: Credentials | None = None,
    ) -> Range:
        """The commits of base..head, fetching what the cache lacks."""
        lock = self._locks.setdefault(repository.key, asyncio.Lock())
        async with lock:
            path = self.directory(repository)
            environment = git_environment(
                self._environ,
                username=credentials.username if credentials else None,
                token=credentials.token if credentials else None,
            )
            fetched = False
            if not path.exists():
                await self._reach(repository, lambda: self._clone(repository, path, environment))
                fetched = True
            wanted = {"head": head.lower(), "previous": base.lower()}
            missing = [sha for sha in wanted.values() if not await self._has(path, sha)]
            if missing and not fetched:
                await self._reach(repository, lambda: self._fetch(path, environment))
                fetched = True
            for which, sha in wanted.items():
                if await self._has(path, sha):
                    continue
                # A commit no branch or tag holds any more (a force-push):
                # servers still hand it out by its full id until they prune it.
                if len(sha) == 40 and set(sha) <= _SHA:
                    with contextlib.suppress(GitFailed):
                        await self._git(
                            path, environment, "fetch", "--filter=blob:none", "origin", sha
                        )
                if not await self._has(path, sha):
                    raise CommitMissing(sha, which)
            os.utime(path)
            result = await self._range(path, environment, head, base, limit)
        if fetched:
            await self._bound(keep=path)
        return result

    async def _reach(self, repository: Repository, reach: Callable[[], Awaitable[None]]) -> None:
        """Run a clone or fetch, with the repository's back-off."""
        health = self._health.setdefault(repository.key, _Health())
        now = time.monotonic()
        if health.retry_at > now:
            raise Unreachable(f"{repository.url}: still backing off", health.retry_at)
        try:
            await reach()
        except GitFailed as error:
            health.failures += 1
            delay = min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (health.failures - 1))
            health.retry_at = now + delay * random.uniform(0.9, 1.1)
            raise Unreachable(str(error), health.retry_at) from None
        health.failures, health.retry_at = 0, 0.0

    async def _clone(self, repository: Repository, path: Path, environment: dict[str, str]) -> None:
        # Into a side directory first: an interrupted clone never looks complete.
        partial = path.with_suffix(".partial")
        shutil.rmtree(partial, ignore_errors=True)
        try:
            await self._git(
                None,
                environment,
                "clone",
                "--bare",
                "--quiet",
                "--filter=blob:none",
                _ALL_HISTORY,
                "--no-single-branch",
                repository.url,
                str(partial),
            )
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        partial.rename(path)

    async def _fetch(self, path: Path, environment: dict[str, str]) -> None:
        # Branches and tags only: refs/pull/* and the like can be huge.
        await self._git(
            path,
            environment,
            "fetch",
            "--quiet",
            "--filter=blob:none",
            _ALL_HISTORY,
            "origin",
            "+refs/heads/*:refs/heads/*",
            "+refs/tags/*:refs/tags/*",
        )

    async def _has(self, path: Path, sha: str) -> bool:
        try:
            await self._git(
                path, git_environment(self._environ), "cat-file", "-e", f"{sha}^{{commit}}"
            )
        except GitFailed:
            return False
        return True

    async def _range(
        self, path: Path, environment: dict[str, str], head: str, base: str, limit: int
    ) -> Range:
        output = await self._git(
            path,
            environment,
            "rev-list",
            "--no-merges",
            "--timestamp",
            f"--max-count={limit + 1}",
            f"{base}..{head}",
        )
        times = tuple(
            datetime.fromtimestamp(int(line.split(" ", 1)[0]), UTC)
            for line in output.splitlines()
            if line.strip()
        )
        return Range(commit_times=times)

    async def _git(self, path: Path | None, environment: dict[str, str], *args: str) -> str:
        command = ["git", *(["--git-dir", str(path)] if path else []), *args]
        async with self._slots:
            process = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=environment,
            )
            try:
                out, err = await asyncio.wait_for(process.communicate(), self.timeout)
            except TimeoutError:
                process.kill()
                await process.wait()
                raise GitFailed(f"git {args[0]} took longer than {self.timeout:.0f}s") from None
            except asyncio.CancelledError:
                process.kill()
                await process.wait()
                raise
        if process.returncode != 0:
            detail = err.decode(errors="replace").strip().splitlines()
            raise GitFailed(f"git {args[0]}: {detail[-1] if detail else process.returncode}")
        return out.decode(errors="replace")

    async def _bound(self, *, keep: Path) -> None:
        """Remove least recently used repositories while over the byte limit."""
        sizes = await asyncio.to_thread(self._sizes)
        total = sum(size for size, _ in sizes.values())
        for path, (size, _) in sorted(sizes.items(), key=lambda item: item[1][1]):
            if total <= self.max_bytes:
                break
            if path == keep:
                continue
            lock = self._locks.get(path.name.removesuffix(".git"))
            if lock is not None and lock.locked():
                continue
            log.info("git cache over %d bytes: removing %s", self.max_bytes, path.name)
            await asyncio.to_thread(shutil.rmtree, path, True)
            total -= size
        if total > self.max_bytes:
            log.warning(
                "git cache holds %d bytes, over its limit of %d: one repository is larger "
                "than the limit (raise KUBEDORA_GIT_CACHE_BYTES)",
                total,
                self.max_bytes,
            )

    def _sizes(self) -> dict[Path, tuple[int, float]]:
        found: dict[Path, tuple[int, float]] = {}
        for path in self.root.glob("*.git"):
            size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
            found[path] = (size, path.stat().st_mtime)
        return found

    def size(self) -> int:
        return sum(size for size, _ in self._sizes().values())
