"""The CRDs in crds/ are generated from the models, structural, and carry the
names, printer columns and validation rules users rely on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, Field, ValidationError

from kubedora.crdgen import (
    CUSTOM_RESOURCES,
    HEADER,
    SchemaError,
    crd,
    generated,
    main,
    model_schema,
    stale,
)
from kubedora.models import DeploymentSpec, DoraSourceSpec, FailureSpec

ROOT = Path(__file__).resolve().parents[2]
CRDS = ROOT / "crds"

Schema = dict[str, Any]


def _load(filename: str) -> Schema:
    document: Schema = yaml.safe_load((CRDS / filename).read_text())
    return document


def _kind(name: str) -> Schema:
    return crd(next(c for c in CUSTOM_RESOURCES if c.resource.kind == name))


def _version(document: Schema) -> Schema:
    versions: list[Schema] = document["spec"]["versions"]
    assert len(versions) == 1
    return versions[0]


def _root(document: Schema) -> Schema:
    root: Schema = _version(document)["schema"]["openAPIV3Schema"]
    return root


def _spec(kind: str) -> Schema:
    spec: Schema = _root(_kind(kind))["properties"]["spec"]
    return spec


def _nodes(node: Schema, path: str = "") -> Iterator[tuple[str, Schema]]:
    """Every schema node, with a readable path."""
    yield path or "<root>", node
    for name, sub in node.get("properties", {}).items():
        yield from _nodes(sub, f"{path}.{name}")
    if "items" in node:
        yield from _nodes(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _nodes(node["additionalProperties"], f"{path}{{}}")


def _messages(node: Schema) -> dict[str, Schema]:
    return {rule["message"]: rule for rule in node.get("x-kubernetes-validations", [])}


# (a) the files are what the generator makes now


@pytest.mark.parametrize("filename", sorted(generated()))
def test_checked_in_crd_is_up_to_date(filename: str) -> None:
    path = CRDS / filename
    assert path.exists(), f"{path} is missing: run `make crds`"
    assert path.read_text() == generated()[filename], (
        f"{path} is stale: the models changed; run `make crds` and commit crds/"
    )


def test_crds_directory_has_no_leftovers() -> None:
    assert stale(CRDS) == [], "run `make crds` (and delete CRDs no model generates)"


def test_one_crd_per_kind_with_the_header() -> None:
    assert sorted(generated()) == [
        "deployments.kubedora.io.yaml",
        "dorasources.kubedora.io.yaml",
        "failures.kubedora.io.yaml",
    ]
    for filename, text in generated().items():
        assert text.startswith(HEADER)
        assert "make crds" in HEADER
        documents = [d for d in yaml.safe_load_all(text) if d]
        assert len(documents) == 1, filename
        assert documents[0]["metadata"]["name"] == filename.removesuffix(".yaml")


def test_generation_is_deterministic() -> None:
    assert generated() == generated()


def test_check_mode_lists_stale_missing_and_extra_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path)]) == 0
    assert main(["--check", str(tmp_path)]) == 0

    (tmp_path / "failures.kubedora.io.yaml").write_text("# edited by hand\n")
    (tmp_path / "deployments.kubedora.io.yaml").unlink()
    (tmp_path / "widgets.kubedora.io.yaml").write_text("{}\n")
    capsys.readouterr()
    assert main(["--check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "make crds" in err
    assert "failures.kubedora.io.yaml: differs from the models" in err
    assert "deployments.kubedora.io.yaml: missing" in err
    assert "widgets.kubedora.io.yaml: no model generates it" in err
    assert "dorasources" not in err

    assert main([str(tmp_path)]) == 0
    assert (tmp_path / "failures.kubedora.io.yaml").read_text() == generated()[
        "failures.kubedora.io.yaml"
    ]


# (b) structural schemas


@pytest.mark.parametrize("filename", sorted(generated()))
def test_schema_is_structural(filename: str) -> None:
    root = _root(_load(filename))
    for path, node in _nodes(root):
        for keyword in ("$ref", "$defs", "anyOf", "oneOf", "allOf", "title", "const"):
            assert keyword not in node, f"{path}: {keyword}"
        assert (
            "type" in node
            or node.get("x-kubernetes-int-or-string")
            or node.get("x-kubernetes-preserve-unknown-fields")
        ), f"{path}: no type"
        if "properties" in node:
            assert node["type"] == "object", path
            assert set(node.get("required", [])) <= set(node["properties"]), path
        if node.get("type") == "array":
            assert "items" in node, path
        assert not node.get("uniqueItems"), f"{path}: the API server forbids uniqueItems"
        if "default" in node:
            assert node["default"] not in (None, []), f"{path}: empty default"
        # A null never passes `enum`, so nullable enums must not exist.
        assert not (node.get("nullable") and "enum" in node), path


@pytest.mark.parametrize("kind", [c.resource.kind for c in CUSTOM_RESOURCES])
def test_top_level_shape(kind: str) -> None:
    root = _root(_kind(kind))
    assert root["type"] == "object"
    assert root["required"] == ["spec"]
    properties = root["properties"]
    assert list(properties) == ["apiVersion", "kind", "metadata", "spec", "status"]
    assert properties["apiVersion"] == {"type": "string"}
    assert properties["metadata"] == {"type": "object"}
    assert properties["spec"]["type"] == properties["status"]["type"] == "object"


@pytest.mark.parametrize(
    ("kind", "model"),
    [("Failure", FailureSpec), ("Deployment", DeploymentSpec), ("DoraSource", DoraSourceSpec)],
)
def test_spec_has_every_model_field_in_camel_case(kind: str, model: type[BaseModel]) -> None:
    aliases = [field.alias or name for name, field in model.model_fields.items()]
    assert list(_spec(kind)["properties"]) == aliases
    assert all("_" not in alias for alias in aliases)


def test_optional_fields_are_nullable_and_required_fields_are_required() -> None:
    spec = _spec("Failure")
    assert spec["required"] == ["startedAt"]
    assert spec["properties"]["team"] == {
        "description": "The team that owns the failure.",
        "type": "string",
        "nullable": True,
    }
    assert spec["properties"]["git"]["nullable"] is True
    assert spec["properties"]["git"]["type"] == "object"
    assert "nullable" not in spec["properties"]["startedAt"]
    assert _spec("Deployment")["required"] == ["service", "startedAt", "finishedAt"]


def test_formats_enums_bounds_and_defaults() -> None:
    spec = _spec("Failure")["properties"]
    assert spec["startedAt"]["format"] == "date-time"
    assert spec["source"]["enum"] == ["api", "incident", "pagerduty"]
    assert spec["source"]["default"] == "api"
    assert spec["name"]["maxLength"] == 1024
    assert spec["customTags"]["maxItems"] == 100
    assert "default" not in spec["services"]
    assert "default" not in spec["team"]
    assert spec["pagerduty"]["properties"]["incidentId"]["minLength"] == 1

    dsrc = _spec("DoraSource")["properties"]
    assert dsrc["window"]["default"] == "30d"
    assert dsrc["window"]["pattern"].startswith("^(")
    assert dsrc["failureSources"]["default"] == ["api", "incident", "pagerduty"]

    status = _root(_kind("DoraSource"))["properties"]["status"]["properties"]
    condition = status["conditions"]["items"]["properties"]
    assert condition["observedGeneration"]["minimum"] == 0
    assert condition["status"]["enum"] == ["True", "False", "Unknown"]


def test_optional_enum_is_checked_by_cel_so_null_stays_valid() -> None:
    state = _spec("Failure")["properties"]["state"]
    assert state["type"] == "string"
    assert state["nullable"] is True
    assert "enum" not in state
    [rule] = state["x-kubernetes-validations"]
    assert rule["rule"] == "self in ['active', 'stable', 'resolved']"
    assert rule["message"] == "must be one of: active, stable, resolved"


def test_list_types() -> None:
    dsrc = _spec("DoraSource")["properties"]
    assert dsrc["failureSources"]["x-kubernetes-list-type"] == "set"
    for name in ("services", "teams", "envs"):
        assert dsrc["scope"]["properties"][name]["x-kubernetes-list-type"] == "set"
    for kind in CUSTOM_RESOURCES:
        conditions = _root(crd(kind))["properties"]["status"]["properties"]["conditions"]
        assert conditions["x-kubernetes-list-type"] == "map"
        assert conditions["x-kubernetes-list-map-keys"] == ["type"]
        assert conditions["items"]["required"][0] == "type"


# (c) names, scope, versions and printer columns


@pytest.mark.parametrize(
    ("kind", "plural", "short"),
    [("Failure", "failures", "fail"), ("Deployment", "deployments", "ddeploy"),
     ("DoraSource", "dorasources", "dsrc")],
)  # fmt: skip
def test_names(kind: str, plural: str, short: str) -> None:
    document = _load(f"{plural}.kubedora.io.yaml")
    assert document["apiVersion"] == "apiextensions.k8s.io/v1"
    assert document["kind"] == "CustomResourceDefinition"
    assert document["metadata"]["name"] == f"{plural}.kubedora.io"
    spec = document["spec"]
    assert spec["group"] == "kubedora.io"
    assert spec["scope"] == "Namespaced"
    assert spec["names"] == {
        "kind": kind,
        "listKind": f"{kind}List",
        "plural": plural,
        "singular": kind.lower(),
        "shortNames": [short],
        "categories": ["dora"],
    }
    version = _version(document)
    assert version["name"] == "v1alpha1"
    assert version["served"] is True
    assert version["storage"] is True
    assert version["subresources"] == {"status": {}}


def _columns(kind: str) -> list[tuple[str, str, str]]:
    version = _version(_kind(kind))
    return [(c["name"], c["type"], c["jsonPath"]) for c in version["additionalPrinterColumns"]]


AGE = ("Age", "date", ".metadata.creationTimestamp")


def test_failure_columns() -> None:
    assert _columns("Failure") == [
        ("Services", "string", ".status.attribution.services"),
        ("Team", "string", ".status.attribution.team"),
        ("Env", "string", ".status.attribution.env"),
        ("State", "string", ".status.state"),
        ("TTR", "number", ".status.timeToRestoreSeconds"),
        AGE,
    ]


def test_deployment_columns() -> None:
    assert _columns("Deployment") == [
        ("Service", "string", ".spec.service"),
        ("Env", "string", ".spec.env"),
        ("Version", "string", ".spec.version"),
        ("Source", "string", ".spec.source"),
        ("Outcome", "string", ".spec.outcome"),
        ("Finished", "date", ".spec.finishedAt"),
        ("Commits", "integer", ".status.commits"),
        ("Lead Time", "number", ".status.leadTime.medianSeconds"),
        ("Change Failure", "boolean", ".status.changeFailure.failed"),
        AGE,
    ]


def test_dorasource_columns() -> None:
    assert _columns("DoraSource") == [
        ("Window", "string", ".spec.window"),
        ("Deployments", "integer", ".status.summary.deployments"),
        ("Failures", "integer", ".status.summary.failures"),
        ("CFR", "string", ".status.display.changeFailureRate"),
        ("Median TTR", "string", ".status.display.medianTimeToRestore"),
        ("Frequency", "string", ".status.display.deploymentFrequency"),
        ("Lead Time", "string", ".status.display.medianLeadTime"),
        ("Ready", "string", '.status.conditions[?(@.type=="Ready")].status'),
        ("Backfill", "string", ".status.backfill.phase"),
        AGE,
    ]


_COLUMN_TYPES = {
    "string": {"string"},
    "integer": {"integer"},
    "number": {"number", "integer"},
    "boolean": {"boolean"},
}


@pytest.mark.parametrize("kind", [c.resource.kind for c in CUSTOM_RESOURCES])
def test_columns_point_at_fields_of_the_right_type(kind: str) -> None:
    """A renamed field would otherwise leave an empty column behind."""
    root = _root(_kind(kind))
    for name, type_, json_path in _columns(kind):
        if json_path.startswith(".metadata."):
            continue
        node = root
        # A filter on a list, [?(...)], selects items: what follows applies to them.
        for step in re.sub(r"\[\?\(.*?\)\]", "[]", json_path).split(".")[1:]:
            node = node["properties"][step.removesuffix("[]")]
            if step.endswith("[]"):
                node = node["items"]
        if type_ == "date":
            assert node.get("format") == "date-time", name
        elif node["type"] != "array":  # a list prints as JSON in a string column
            assert node["type"] in _COLUMN_TYPES[type_], name


# (d) validation rules


def test_failure_rules() -> None:
    rules = _messages(_spec("Failure"))
    required = rules["spec.services or spec.team is required"]
    assert "size(self.services) > 0" in required["rule"]
    assert "self.team" in required["rule"]
    assert required["reason"] == "FieldValueRequired"

    order = rules["spec.finishedAt must not be before spec.startedAt"]
    assert order["rule"] == "!has(self.finishedAt) || self.finishedAt >= self.startedAt"
    assert order["fieldPath"] == ".finishedAt"

    [active] = [m for m in rules if m.startswith("spec.state cannot be active")]
    assert "self.state != 'active'" in rules[active]["rule"]
    assert "has(self.finishedAt)" in rules[active]["rule"]

    pagerduty = rules["spec.pagerduty is required when spec.source is pagerduty"]
    assert "has(self.pagerduty)" in pagerduty["rule"]
    assert pagerduty["fieldPath"] == ".pagerduty"


def test_timestamps_compare_as_timestamps() -> None:
    """CEL sees `format: date-time` strings as timestamps; as plain strings,
    "10:00+02:00" would sort after "09:00Z"."""
    for kind in ("Failure", "Deployment"):
        properties = _spec(kind)["properties"]
        assert properties["startedAt"]["format"] == "date-time"
        assert properties["finishedAt"]["format"] == "date-time"


def test_deployment_rules_and_id_pattern() -> None:
    spec = _spec("Deployment")
    rules = _messages(spec)
    order = rules["spec.finishedAt must not be before spec.startedAt"]
    assert order["rule"] == "self.finishedAt >= self.startedAt"
    assert spec["properties"]["id"]["pattern"] == r"^[A-Za-z0-9\-_.:]{16,128}$"


def test_deployment_id_pattern_is_enforced_by_the_model_too() -> None:
    base = {"service": "checkout", "startedAt": "2024-01-01T00:00:00Z"}
    base["finishedAt"] = base["startedAt"]
    assert DeploymentSpec.model_validate({**base, "id": "release-2024.01.01:42"}).id
    for bad in ("too-short", "has spaces in the id!", "x" * 129):
        with pytest.raises(ValidationError):
            DeploymentSpec.model_validate({**base, "id": bad})


def test_custom_tags_are_key_value() -> None:
    for kind in ("Failure", "Deployment"):
        items = _spec(kind)["properties"]["customTags"]["items"]
        assert items["pattern"] == r"^[^:\s][^:]*:.*$"
        assert items["maxLength"] == 512


def test_every_rule_has_a_message() -> None:
    for kind in CUSTOM_RESOURCES:
        for path, node in _nodes(_root(crd(kind))):
            for rule in node.get("x-kubernetes-validations", []):
                assert rule["rule"].strip(), path
                assert len(rule["message"]) > 10, path
                assert list(rule)[:2] == ["rule", "message"], path


# the conversion itself, on small models


class _Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class _Inner(BaseModel):
    """An inner object."""

    label: str


class _Sample(BaseModel):
    when: datetime
    maybe: _Inner | None = None
    colour: _Colour = _Colour.RED
    tags: set[str] = Field(default_factory=set)
    picks: list[str] = Field(default_factory=lambda: ["a", "b"])
    count: int = Field(default=1, gt=0)


def test_conversion_of_a_small_model() -> None:
    schema = model_schema(_Sample)
    properties = schema["properties"]
    assert schema["required"] == ["when"]
    assert properties["when"] == {"type": "string", "format": "date-time"}
    assert properties["maybe"] == {
        "description": "An inner object.",
        "type": "object",
        "nullable": True,
        "required": ["label"],
        "properties": {"label": {"type": "string"}},
    }
    assert properties["colour"] == {"type": "string", "enum": ["red", "blue"], "default": "red"}
    assert properties["tags"] == {
        "type": "array",
        "x-kubernetes-list-type": "set",
        "items": {"type": "string"},
    }
    assert properties["picks"]["default"] == ["a", "b"]
    assert properties["count"] == {
        "type": "integer",
        "default": 1,
        "minimum": 0,
        "exclusiveMinimum": True,
    }


class _Union(BaseModel):
    either: int | str


class _Loose(BaseModel):
    anything: Any


def test_unions_and_untyped_fields_are_refused() -> None:
    with pytest.raises(SchemaError, match="either"):
        model_schema(_Union)
    with pytest.raises(SchemaError, match="no type"):
        model_schema(_Loose)
