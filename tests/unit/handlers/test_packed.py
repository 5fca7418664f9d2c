"""Packed status JSON comes back exactly as it went in, and smaller."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kubedora.handlers.packed import pack, unpack

FAILURE_STATUS = {
    "state": "resolved",
    "timeToRestoreSeconds": 4588.0,
    "restoredAt": "2026-11-25T21:49:29Z",
    "timeline": [
        {"state": "active", "at": "2026-11-25T20:33:01Z"},
        {"state": "resolved", "at": "2026-11-25T21:49:29Z"},
    ],
    "attribution": {
        "services": ["service-159"],
        "team": "team-6",
        "env": "staging",
        "severity": None,
        "customTags": [],
        "matchedBy": "spec",
    },
    "conditions": [
        {
            "type": "Ready",
            "status": "True",
            "observedGeneration": 1,
            "lastTransitionTime": "2026-12-02T07:18:28.561469Z",
            "reason": "Reconciled",
            "message": "status reflects the current spec",
        }
    ],
    "observedGeneration": 1,
}


@pytest.mark.parametrize(
    "value",
    [
        FAILURE_STATUS,
        [],
        {"message": 'ünïcödé ✓ and "quotes"', "none": None, "big": 2**70, "x": 1e-300},
        {"words": "nothing like a status " * 100},
    ],
)
def test_what_is_packed_comes_back_the_same(value: Any) -> None:
    assert unpack(pack(value)) == value


def test_a_status_packs_to_a_fraction_of_its_json() -> None:
    plain = json.dumps(FAILURE_STATUS, separators=(",", ":")).encode()
    assert len(pack(FAILURE_STATUS)) < len(plain) / 3
