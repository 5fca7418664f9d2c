"""The git cache against a real git server on loopback (git http-backend):
commits shipped and their times equal what git itself says."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kubedora.git.access import AllowList, NotAllowed, parse
from kubedora.git.cache import CommitMissing, Credentials, RepositoryCache, Unreachable
from kubedora.metrics import MAX_COMMITS, too_many
from kubedora.models import GitHost
from tests.support.gitserver import GitServer, WorkTree, fast_import, git, serving

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[GitServer]:
    with serving(tmp_path / "served") as running:
        yield running


def cache(tmp_path: Path, name: str = "cache") -> RepositoryCache:
    return RepositoryCache(tmp_path / name, max_bytes=1 << 30)


def history(server: GitServer, tmp_path: Path, name: str = "shop") -> tuple[WorkTree, list[str]]:
    """main: c1 ← c2 ← m(c2, f2) ← c3, with a feature branch f1 ← f2 from c1."""
    server.bare(name)
    tree = WorkTree(tmp_path / f"work-{name}", server.url(name))
    c1 = tree.commit("c1", at(0))
    tree.branch("feature")
    f1 = tree.commit("f1", at(1))
    f2 = tree.commit("f2", at(2.5))
    tree.branch("main", c1)
    c2 = tree.commit("c2", at(3))
    m = tree.merge("feature", at(4))
    c3 = tree.commit("c3", at(5))
    tree.push()
    return tree, [c1, f1, f2, c2, m, c3]


async def test_commits_and_times_equal_git_and_merges_are_left_out(
    server: GitServer, tmp_path: Path
) -> None:
    tree, (c1, _, _, _, merge, c3) = history(server, tmp_path)
    repository = parse(server.url("shop"))
    found = await cache(tmp_path).commits(repository, head=c3, base=c1, limit=MAX_COMMITS)
    reference = tree.rev_list(c1, c3)
    assert merge not in {sha for sha, _ in reference}
    assert found.count == len(reference) == 4
    assert [int(t.timestamp()) for t in found.commit_times] == [ct for _, ct in reference]
    # Abbreviated ids work as datadog-ci may send them.
    short = await cache(tmp_path).commits(repository, head=c3[:10], base=c1[:8], limit=10)
    assert short.commit_times == found.commit_times


async def test_a_new_commit_is_fetched_into_a_warm_cache(server: GitServer, tmp_path: Path) -> None:
    tree, shas = history(server, tmp_path)
    shared = cache(tmp_path)
    repository = parse(server.url("shop"))
    await shared.commits(repository, head=shas[-1], base=shas[0], limit=10)
    c4 = tree.commit("c4", at(6))
    tree.push()
    found = await shared.commits(repository, head=c4, base=shas[-1], limit=10)
    assert [int(t.timestamp()) for t in found.commit_times] == [int(at(6).timestamp())]
    # A blobless clone: no file contents are stored.
    directory = shared.directory(repository)
    assert git("config", "remote.origin.partialclonefilter", cwd=directory) == "blob:none"


async def test_force_push_dropping_the_previous_commit(server: GitServer, tmp_path: Path) -> None:
    """The previous deployment's commit is gone from every branch. Its range
    is still `previous..this` (what this commit has that the previous did
    not): from the cache when it saw the old commit, else fetched by id
    while the server keeps it; when neither has it, PreviousCommitMissing."""
    tree, (c1, _, _, c2, _, c3) = history(server, tmp_path)
    shared = cache(tmp_path)
    repository = parse(server.url("shop"))
    await shared.commits(repository, head=c3, base=c1, limit=10)
    tree.reset(c2)
    rewritten = tree.commit("c3 rewritten", at(7))
    tree.push(force=True)
    reference = tree.rev_list(c3, rewritten)
    assert len(reference) == 1
    warm = await shared.commits(repository, head=rewritten, base=c3, limit=10)
    assert [int(t.timestamp()) for t in warm.commit_times] == [ct for _, ct in reference]
    cold = await cache(tmp_path, "cold").commits(repository, head=rewritten, base=c3, limit=10)
    assert cold.commit_times == warm.commit_times
    # The server prunes the dropped commit: a cold cache cannot know it.
    served = server.root / "shop.git"
    git("reflog", "expire", "--expire=now", "--all", cwd=served)
    git("gc", "--quiet", "--prune=now", cwd=served)
    with pytest.raises(CommitMissing) as missing:
        await cache(tmp_path, "colder").commits(repository, head=rewritten, base=c3, limit=10)
    assert missing.value.which == "previous"


async def test_a_shallow_history_counts_what_it_holds(server: GitServer, tmp_path: Path) -> None:
    tree, (c1, _, _, c2, merge, c3) = history(server, tmp_path, "full")
    # The served repository keeps the last two first-parent commits only.
    shallow = server.root / "shallow.git"
    git("clone", "--quiet", "--bare", "--depth=2", f"file://{tree.path}", str(shallow))
    server.allow(shallow)
    repository = parse(server.url("shallow"))
    found = await cache(tmp_path).commits(repository, head=c3, base=merge, limit=10)
    assert [int(t.timestamp()) for t in found.commit_times] == [
        ct for _, ct in tree.rev_list(merge, c3)
    ]
    with pytest.raises(CommitMissing) as missing:
        await cache(tmp_path).commits(repository, head=c3, base=c1, limit=10)
    assert missing.value.which == "previous"
    del c2


async def test_more_than_5000_commits_is_told_apart(server: GitServer, tmp_path: Path) -> None:
    served = server.bare("big")
    shas = fast_import(served, MAX_COMMITS + 2, start=T0)
    repository = parse(server.url("big"))
    shared = cache(tmp_path)
    exactly = await shared.commits(repository, head=shas[-2], base=shas[0], limit=MAX_COMMITS)
    assert exactly.count == MAX_COMMITS
    assert not too_many(exactly.count)
    over = await shared.commits(repository, head=shas[-1], base=shas[0], limit=MAX_COMMITS)
    assert too_many(over.count)


async def test_a_token_is_sent_and_an_unreachable_repository_backs_off(tmp_path: Path) -> None:
    with serving(tmp_path / "private", token="Basic Y2k6czNjcmV0") as private:  # ci:s3cret
        tree = WorkTree(tmp_path / "work", private.url("app"))
        private.bare("app")
        c1, c2 = tree.commit("one", at(0)), tree.commit("two", at(1))
        private.token = None
        tree.push()
        private.token = "Basic Y2k6czNjcmV0"
        repository = parse(private.url("app"))
        shared = cache(tmp_path)
        with pytest.raises(Unreachable):
            await shared.commits(repository, head=c2, base=c1, limit=10)
        asked = len(private.seen)
        # Backing off: not asked again at once.
        with pytest.raises(Unreachable):
            await shared.commits(repository, head=c2, base=c1, limit=10)
        assert len(private.seen) == asked
        fresh = cache(tmp_path, "with-token")
        found = await fresh.commits(
            repository, head=c2, base=c1, limit=10, credentials=Credentials("ci", "s3cret")
        )
        assert found.count == 1


def test_only_listed_hosts_and_http_schemes_are_allowed() -> None:
    allowed = AllowList.of([GitHost(host="git.example.com"), GitHost(host="127.0.0.1:9418")])
    repository, host = allowed.check("https://git.example.com/acme/shop")
    assert (repository.url, host.host) == (
        "https://git.example.com/acme/shop.git",
        "git.example.com",
    )
    assert allowed.check("http://127.0.0.1:9418/a.git")[0].host == "127.0.0.1:9418"
    assert allowed.check("https://GIT.example.com:443/acme/shop.git")[0].host == "git.example.com"
    for url in (
        "https://github.com/acme/shop",
        "https://git.example.com:8443/acme/shop",
        "ssh://git.example.com/acme/shop",
        "ext::sh -c touch% /tmp/pwned",
        "file:///etc",
        "https://git.example.com/",
    ):
        with pytest.raises(NotAllowed):
            allowed.check(url)
    # Credentials in a URL are dropped from what git is given.
    assert "secret" not in allowed.check("https://u:secret@git.example.com/a")[0].url
