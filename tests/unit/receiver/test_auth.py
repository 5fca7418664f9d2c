"""Who may post: API keys, enabled sources, signatures, and the watched credentials."""

from __future__ import annotations

import asyncio
import base64
from typing import Any, cast

import pytest
from kubernetes_asyncio import client

from kubedora.models import DoraSourceSpec, FailureSource, PagerDutySettings, SecretRef
from kubedora.receiver.auth import (
    CredentialWatch,
    Denied,
    SourceCredentials,
    authenticate,
    credentials_of,
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

    def test_a_holder_of_the_key_that_does_not_enable_the_source_is_told_so(self) -> None:
        with pytest.raises(Denied) as denied:
            authenticate(
                [source("a", sources=(FailureSource.API,))], FailureSource.PAGERDUTY, "key-a"
            )
        assert denied.value.status == 403
        assert "enables the pagerduty source" in denied.value.detail

    @pytest.mark.parametrize(
        "sources",
        [
            [],
            [source("a", sources=(FailureSource.API,))],
            [source("a"), source("b", (b"key-b",))],
        ],
        ids=["no DoraSource", "none enabling the source", "other keys"],
    )
    def test_a_key_nobody_holds_gets_one_answer_whatever_exists(
        self, sources: list[SourceCredentials]
    ) -> None:
        with pytest.raises(Denied) as denied:
            authenticate(sources, FailureSource.PAGERDUTY, "guess")
        assert (denied.value.status, denied.value.detail) == (403, "DD-API-KEY is not accepted")

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


def body(name: str, **spec: object) -> dict[str, Any]:
    return {"metadata": {"name": name, "uid": f"uid-{name}"}, "spec": spec}


def secret(name: str, **data: bytes) -> dict[str, Any]:
    encoded = {key: base64.b64encode(value).decode() for key, value in data.items()}
    return {"metadata": {"name": name, "uid": f"uid-{name}"}, "data": encoded}


class TestCredentialsOf:
    def test_keys_and_signing_secrets_resolve_from_the_secrets_by_name(self) -> None:
        sources = [
            body("b", apiKeySecretRef={"name": "keys"}),
            body(
                "a",
                apiKeySecretRef={"name": "keys"},
                pagerduty={"signingSecretRef": {"name": "signing"}},
            ),
        ]
        secrets = {
            "keys": secret("keys", ci=b"key-1\n", other=b"key-2"),
            "signing": secret("signing", s=b"s1"),
        }
        found = credentials_of(sources, secrets)
        assert [c.name for c in found] == ["a", "b"]
        # The newline `kubectl create secret --from-file` keeps is dropped.
        assert found[0].api_keys == (b"key-1", b"key-2")
        assert found[0].signing_secrets == (b"s1",)
        assert found[0].requires_signature
        assert found[1].problems == ()

    def test_what_is_missing_is_a_problem_and_no_key(self) -> None:
        sources = [
            body("gone", apiKeySecretRef={"name": "nowhere"}),
            body("empty", apiKeySecretRef={"name": "empty"}),
            body("broken", window="thirty days"),
        ]
        secrets = {"empty": secret("empty")}
        found = {c.name: c for c in credentials_of(sources, secrets)}
        assert found["gone"].api_keys == ()
        assert found["gone"].problems == ("Secret nowhere not found",)
        assert found["empty"].problems == ("Secret empty holds no values",)
        assert found["broken"].problems[0].startswith("spec does not parse")


class TestCredentialWatch:
    """Fed the way its two informers feed it."""

    def watch(self) -> CredentialWatch:
        return CredentialWatch(cast("client.ApiClient", None), "ns")

    def feed(self, watch: CredentialWatch, kind: int, item: dict[str, Any]) -> None:
        (consumer,) = watch.informers[kind]._consumers
        consumer.upsert(item["metadata"]["uid"], item, listed=False)

    async def test_a_removed_key_is_refused_at_the_next_event(self) -> None:
        watch = self.watch()
        for informer in watch.informers:
            informer.synced.set()
        self.feed(watch, 0, body("a", apiKeySecretRef={"name": "keys"}))
        self.feed(watch, 1, secret("keys", old=b"key-old", new=b"key-new"))
        assert await watch.authorized(FailureSource.API, "key-old")

        self.feed(watch, 1, secret("keys", new=b"key-new"))
        with pytest.raises(Denied):
            await watch.authorized(FailureSource.API, "key-old")
        assert await watch.authorized(FailureSource.API, "key-new")

    async def test_a_deleted_dorasource_takes_its_keys_along(self) -> None:
        watch = self.watch()
        for informer in watch.informers:
            informer.synced.set()
        source_body = body("a", apiKeySecretRef={"name": "keys"})
        self.feed(watch, 0, source_body)
        self.feed(watch, 1, secret("keys", ci=b"key-a"))
        assert await watch.authorized(FailureSource.API, "key-a")
        (consumer,) = watch.informers[0]._consumers
        consumer.retain([])
        with pytest.raises(Denied):
            await watch.authorized(FailureSource.API, "key-a")

    async def test_requests_wait_for_the_first_listing(self) -> None:
        watch = self.watch()
        waiting = asyncio.ensure_future(watch.authorized(FailureSource.API, "key-a"))
        await asyncio.sleep(0.01)
        assert not waiting.done()
        self.feed(watch, 0, body("a", apiKeySecretRef={"name": "keys"}))
        self.feed(watch, 1, secret("keys", ci=b"key-a"))
        for informer in watch.informers:
            informer.synced.set()
        assert [c.name for c in await asyncio.wait_for(waiting, 5)] == ["a"]

    async def test_incomplete_credentials_are_logged_once_per_change(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        watch = self.watch()
        with caplog.at_level("WARNING", logger="kubedora.receiver.auth"):
            self.feed(watch, 0, body("a", apiKeySecretRef={"name": "a-keys"}))
            watch.current()
            self.feed(watch, 1, secret("unrelated", x=b"y"))
            watch.current()
        warnings = [r for r in caplog.records if r.levelname == "WARNING"]
        assert [r.__dict__["detail"] for r in warnings] == ["Secret a-keys not found"]
