"""X-PagerDuty-Signature: recorded vectors, tampering, rotation."""

from __future__ import annotations

from typing import Any

import pytest

from kubedora.receiver.auth import sign, signatures_in, verify
from tests.support.receiver import fixture_bytes, fixture_json

RECORDED: dict[str, Any] = fixture_json("pagerduty", "signatures.json")
SECRETS = {name: value.encode() for name, value in RECORDED["secrets"].items()}
DELIVERIES = [(d["file"], SECRETS[d["secret"]], d["signature"]) for d in RECORDED["deliveries"]]


class TestRecordedDeliveries:
    @pytest.mark.parametrize(("file", "secret", "signature"), DELIVERIES)
    def test_verify_with_the_secret_they_were_signed_with(
        self, file: str, secret: bytes, signature: str
    ) -> None:
        body = fixture_bytes("pagerduty", file)
        assert verify(body, signature, [secret])
        assert sign(body, secret) == signature

    @pytest.mark.parametrize(("file", "secret", "signature"), DELIVERIES)
    def test_fail_with_another_secret(self, file: str, secret: bytes, signature: str) -> None:
        body = fixture_bytes("pagerduty", file)
        assert not verify(body, signature, [secret + b"x"])


class TestTampering:
    BODY = fixture_bytes("pagerduty", "incident.resolved.json")
    SECRET = SECRETS["aldaviva"]

    def test_one_changed_byte_fails(self) -> None:
        signature = sign(self.BODY, self.SECRET)
        tampered = self.BODY.replace(b'"status":"resolved"', b'"status":"resolveD"')
        assert tampered != self.BODY
        assert not verify(tampered, signature, [self.SECRET])

    def test_reformatted_json_fails(self) -> None:
        # The signature covers the raw bytes, not the JSON they mean.
        signature = sign(self.BODY, self.SECRET)
        assert not verify(self.BODY + b"\n", signature, [self.SECRET])

    def test_a_forged_digest_fails(self) -> None:
        assert not verify(self.BODY, "v1=" + "0" * 64, [self.SECRET])

    @pytest.mark.parametrize("header", [None, "", "v1=", "garbage", ","])
    def test_missing_or_malformed_headers_fail(self, header: str | None) -> None:
        assert not verify(self.BODY, header, [self.SECRET])

    def test_no_secret_verifies_nothing(self) -> None:
        assert not verify(self.BODY, sign(self.BODY, self.SECRET), [])

    def test_other_versions_are_ignored(self) -> None:
        digest = sign(self.BODY, self.SECRET).removeprefix("v1=")
        assert not verify(self.BODY, f"v0={digest}", [self.SECRET])


class TestRotation:
    BODY = fixture_bytes("pagerduty", "incident.triggered.json")
    OLD, NEW = b"old-signing-secret", b"new-signing-secret"

    def header(self, *secrets: bytes, separator: str = ",") -> str:
        return separator.join(sign(self.BODY, s) for s in secrets)

    def test_either_secret_verifies_a_doubly_signed_delivery(self) -> None:
        header = self.header(self.OLD, self.NEW)
        assert verify(self.BODY, header, [self.OLD])
        assert verify(self.BODY, header, [self.NEW])

    def test_the_match_need_not_be_first_or_last(self) -> None:
        header = self.header(b"a", self.NEW, b"b")
        assert verify(self.BODY, header, [self.NEW])

    def test_receiver_side_rotation_holds_both_secrets(self) -> None:
        assert verify(self.BODY, self.header(self.NEW), [self.OLD, self.NEW])
        assert verify(self.BODY, self.header(self.OLD), [self.OLD, self.NEW])

    def test_spaces_after_commas_and_upper_case_hex_are_tolerated(self) -> None:
        header = ", ".join([sign(self.BODY, b"a"), "v1=" + sign(self.BODY, self.NEW)[3:].upper()])
        assert verify(self.BODY, header, [self.NEW])

    def test_no_listed_secret_fails(self) -> None:
        assert not verify(self.BODY, self.header(self.OLD, self.NEW), [b"third"])

    def test_signatures_in_keeps_only_v1_digests(self) -> None:
        assert signatures_in("v1=AB, v0=cd,v1=ef,junk") == [b"ab", b"ef"]
