from __future__ import annotations

import kopf
import pytest
from pydantic import ValidationError

from kubedora.config import OperatorConfig
from kubedora.handlers.runtime import configure


def test_settings_come_from_kubedora_environment_variables() -> None:
    config = OperatorConfig.from_env(
        {"KUBEDORA_DEBOUNCE_SECONDS": "0.25", "KUBEDORA_RESYNC_SECONDS": "30", "HOME": "/"}
    )
    assert (config.debounce_seconds, config.resync_seconds) == (0.25, 30.0)


def test_defaults_without_environment() -> None:
    assert OperatorConfig.from_env({}) == OperatorConfig(debounce_seconds=1.0, resync_seconds=60.0)


def test_a_bad_value_is_refused() -> None:
    with pytest.raises(ValidationError, match="resync_seconds"):
        OperatorConfig.from_env({"KUBEDORA_RESYNC_SECONDS": "0"})


def test_kopf_writes_under_our_prefix_and_its_workers_are_bounded() -> None:
    settings = kopf.OperatorSettings()
    configure(settings, OperatorConfig.from_env({"KUBEDORA_WORKER_LIMIT": "8"}))
    assert settings.queueing.worker_limit == 8
    assert settings.persistence.finalizer == "kubedora.io/finalizer"
