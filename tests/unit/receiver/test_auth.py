"""Who may post: API keys, enabled sources, signatures, and the credential cache."""

from __future__ import annotations

import asyncio

import pytest

from kubedora.models import DoraSourceSpec, FailureSource, PagerDutySettings, SecretRef
from kubedora.receiver.auth import (
    CredentialCache,
    Denied,
    SourceCredentials,
    authenticate,
    key_matches,
    sign,
    signed_by,
)

BODY = b'{"event": {}}'


def source(
    name: str,
    keys: tuple[bytes, ...] = (b"key-a",),
    *,
    sources: tuple[FailureSource, ...] = tuple(FailureSource),
    signing: tuple[bytes, ...] | None = None,
) -> SourceCredentials:
    pagerduty = (
        PagerDutySettings(signing_secret_ref=SecretRef(name=f"{name}-signing"))
        if signing is not None
        else None
    )
    spec = DoraSourceSpec(
        failure_sources=list(sources),
        api_key_secret_ref=SecretRef(name=f"{name}-keys"),
        pagerduty=pagerduty,
    )
    return SourceCredentials(name, spec, keys, signing or ())


class TestApiKeys:
    def test_a_key_of_an_enabling_source_is_accepted(self) -> None:
        accepted = authenticate([source("a"), source("b", (b"key-b",))], FailureSource.API, "key-b")
        assert [s.name for s in accepted] == ["b"]

    def test_every_source_that_takes_the_key_is_returned(self) -> None:
        accepted = authenticate([source("a"), source("b")], FailureSource.API, "key-a")
        assert [s.name for s in accepted] == ["a", "b"]

    @pytest.mark.parametrize("key", [None, ""])
    def test_no_key_is_401(self, key: str | None) -> None:
        with pytest.raises(Denied) as denied:
            authenticate([source("a")], FailureSource.API, key)
        assert denied.value.status == 401

    def test_a_wrong_key_is_403(self) -> None:
        with pytest.raises(Denied) as denied:
            authenticate([source("a")], FailureSource.API, "key-a ")
        assert denied.value.status == 403

    def test_a_key_of_a_source_that_does_not_enable_it_is_403(self) -> None:
        sources = [source("a", sources=(FailureSource.API,)), source("b", (b"key-b",))]
        with pytest.raises(Denied) as denied:
            authenticate(sources, FailureSource.PAGERDUTY, "key-a")
        assert denied.value.status == 403

    def test_no_enabling_source_is_403_and_says_so(self) -> None:
        with pytest.raises(Denied) as denied:
            authenticate([source("a", sources=(FailureSource.API,))], FailureSource.PAGERDUTY, "k")
        assert denied.value.status == 403
        assert "enables the pagerduty source" in denied.value.detail

    def test_a_source_without_keys_accepts_none(self) -> None:
        with pytest.raises(Denied):
            authenticate([source("a", ())], FailureSource.API, "anything")

    def test_key_matches_every_key(self) -> None:
        assert key_matches(b"b", [b"a", b"b", b"c"])
        assert not key_matches(b"b", [b"a", b"bb"])
        assert not key_matches(b"", [])


class TestSignatures:
    def test_no_signature_rule_accepts_unsigned_deliveries(self) -> None:
        assert signed_by([source("a")], BODY, None).name == "a"

    def test_a_valid_signature_passes(self) -> None:
        signed = source("a", signing=(b"s1",))
        assert signed_by([signed], BODY, sign(BODY, b"s1")) is signed

    def test_a_missing_signature_is_401(self) -> None:
        with pytest.raises(Denied) as denied:
            signed_by([source("a", signing=(b"s1",))], BODY, None)
        assert denied.value.status == 401

    def test_a_wrong_signature_is_403(self) -> None:
        with pytest.raises(Denied) as denied:
            signed_by([source("a", signing=(b"s1",))], BODY, sign(BODY, b"s2"))
        assert denied.value.status == 403

    def test_a_signing_ref_whose_secret_is_missing_fails_closed(self) -> None:
        with pytest.raises(Denied):
            signed_by([source("a", signing=())], BODY, sign(BODY, b""))

    def test_the_first_source_whose_rule_holds_is_chosen(self) -> None:
        strict = source("a", signing=(b"s1",))
        lax = source("b")
        assert signed_by([strict, lax], BODY, None) is lax
        assert signed_by([strict, lax], BODY, sign(BODY, b"s1")) is strict


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Loader:
    """Stands in for the API server: returns what `sources` holds now."""

    def __init__(self, sources: list[SourceCredentials]) -> None:
        self.sources = sources
        self.calls = 0

    async def __call__(self) -> list[SourceCredentials]:
        self.calls += 1
        await asyncio.sleep(0)
        return list(self.sources)


class TestCredentialCache:
    def cache(self, loader: Loader, clock: Clock) -> CredentialCache:
        return CredentialCache(loader, ttl=5.0, min_refresh=1.0, clock=clock)

    async def test_loads_once_within_the_ttl(self) -> None:
        loader, clock = Loader([source("a")]), Clock()
        cache = self.cache(loader, clock)
        for _ in range(3):
            await cache.authorized(FailureSource.API, "key-a")
            clock.now += 1
        assert loader.calls == 1
        clock.now += 5
        await cache.authorized(FailureSource.API, "key-a")
        assert loader.calls == 2

    async def test_a_new_key_works_after_one_second_not_five(self) -> None:
        loader, clock = Loader([source("a")]), Clock()
        cache = self.cache(loader, clock)
        await cache.authorized(FailureSource.API, "key-a")
        loader.sources = [source("a", (b"key-a", b"key-new"))]
        with pytest.raises(Denied):
            await cache.authorized(FailureSource.API, "key-new")
        clock.now += 1.0
        assert [s.name for s in await cache.authorized(FailureSource.API, "key-new")] == ["a"]

    async def test_wrong_keys_reload_at_most_once_per_interval(self) -> None:
        loader, clock = Loader([source("a")]), Clock()
        cache = self.cache(loader, clock)
        await cache.current()
        for _ in range(20):
            clock.now += 0.1
            with pytest.raises(Denied):
                await cache.authorized(FailureSource.API, "wrong")
        # 2 s of wrong keys: the first load and at most two early reloads.
        assert loader.calls <= 3

    async def test_missing_keys_cost_no_reload(self) -> None:
        loader, clock = Loader([source("a")]), Clock()
        cache = self.cache(loader, clock)
        await cache.current()
        clock.now += 3
        with pytest.raises(Denied):
            await cache.authorized(FailureSource.API, None)
        assert loader.calls == 1

    async def test_concurrent_requests_share_one_load(self) -> None:
        loader, clock = Loader([source("a")]), Clock()
        cache = self.cache(loader, clock)
        await asyncio.gather(*(cache.current() for _ in range(10)))
        assert loader.calls == 1

    async def test_a_failing_load_is_raised_and_retried_next_time(self) -> None:
        clock = Clock()
        calls = 0

        async def flaky() -> list[SourceCredentials]:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise ConnectionRefusedError("API server down")
            return [source("a")]

        cache = CredentialCache(flaky, ttl=5.0, min_refresh=1.0, clock=clock)
        with pytest.raises(ConnectionRefusedError):
            await cache.current()
        assert [s.name for s in await cache.current()] == ["a"]

    async def test_incomplete_credentials_are_logged_once(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        broken = SourceCredentials("a", DoraSourceSpec(), problems=("Secret a-keys not found",))
        loader, clock = Loader([broken]), Clock()
        cache = self.cache(loader, clock)
        with caplog.at_level("WARNING", logger="kubedora.receiver.auth"):
            for _ in range(3):
                await cache.current()
                clock.now += 10
        assert loader.calls == 3
        warnings = [r for r in caplog.records if r.levelname == "WARNING"]
        assert len(warnings) == 1
        assert warnings[0].__dict__["detail"] == "Secret a-keys not found"
