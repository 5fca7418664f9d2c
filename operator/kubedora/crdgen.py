"""Turn the pydantic models into the CustomResourceDefinitions in crds/.

The models are the single source of truth: `make crds` writes one YAML file
per kind, and `--check` (used by the tests) fails when a file is stale.

pydantic emits JSON Schema 2020-12; the API server wants a *structural*
OpenAPI v3 schema: no `$ref`, no `anyOf` for optional fields, a `type` on
every node. `structural()` does that conversion and refuses what it cannot
express rather than guessing.
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, NoDefault
from pydantic_core import core_schema

from kubedora.models import (
    CATEGORY,
    DEPLOYMENTS,
    DORASOURCES,
    FAILURES,
    GROUP,
    DeploymentSpec,
    DeploymentStatus,
    DoraSourceSpec,
    DoraSourceStatus,
    FailureSpec,
    FailureStatus,
    Resource,
)

HEADER = (
    "# Generated from the pydantic models in operator/kubedora/models/ by\n"
    "# kubedora.crdgen. Do not edit: change the models, then run `make crds`.\n"
)

Schema = dict[str, Any]

# OpenAPI v3 keywords a structural schema may carry, in the order they are
# written out (so that the YAML reads top-down and diffs stay small).
_KEY_ORDER = (
    "description",
    "type",
    "format",
    "nullable",
    "enum",
    "default",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "exclusiveMinimum",
    "maximum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-int-or-string",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-map-type",
    "items",
    "additionalProperties",
    "required",
    "properties",
    "x-kubernetes-validations",
)
_ALLOWED = frozenset(_KEY_ORDER)
_RULE_KEY_ORDER = ("rule", "message", "messageExpression", "reason", "fieldPath", "optionalOldSelf")


class SchemaError(ValueError):
    """The model uses something a structural schema cannot express."""


class _WithFactoryDefaults(GenerateJsonSchema):
    """pydantic leaves out defaults made by a default_factory; a CRD should
    show them (and the API server then fills them in), e.g. failureSources."""

    def get_default_value(self, schema: core_schema.WithDefaultSchema) -> Any:
        factory = schema.get("default_factory")
        if factory is not None and not schema.get("default_factory_takes_data"):
            return factory()  # type: ignore[call-arg]
        return super().get_default_value(schema)


def model_schema(model: type[BaseModel]) -> Schema:
    """The structural schema of one model, camelCase as on the wire."""
    raw = model.model_json_schema(
        by_alias=True, mode="validation", schema_generator=_WithFactoryDefaults
    )
    return structural(raw)


def structural(schema: Schema) -> Schema:
    """Inline `$defs` and rewrite JSON Schema idioms into their OpenAPI v3 form."""
    defs: dict[str, Schema] = schema.get("$defs", {})
    root = {k: v for k, v in schema.items() if k != "$defs"}
    return _convert(root, defs, "")


def _convert(node: Schema, defs: dict[str, Schema], where: str) -> Schema:
    node = _flatten(node, defs, where)
    node.pop("title", None)
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if "enum" in node and node.get("nullable"):
        node = _nullable_enum(node, where)
    if node.get("default", NoDefault) in (None, [], {}):
        # Null and empty defaults only add noise: absent means the same.
        del node["default"]
    if node.pop("uniqueItems", False):
        node.setdefault("x-kubernetes-list-type", "set")
    for bound, keyword in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        # JSON Schema 2020-12 gives the bound; OpenAPI v3.0 a flag next to it.
        value = node.get(bound)
        if isinstance(value, int | float) and not isinstance(value, bool):
            node[keyword] = value
            node[bound] = True

    if "properties" in node:
        node["properties"] = {
            name: _convert(sub, defs, f"{where}.{name}") for name, sub in node["properties"].items()
        }
        node.setdefault("type", "object")
    if "items" in node:
        node["items"] = _convert(node["items"], defs, f"{where}[]")
    if isinstance(node.get("additionalProperties"), dict):
        node["additionalProperties"] = _convert(node["additionalProperties"], defs, f"{where}{{}}")
    elif node.get("additionalProperties") is False:
        # The API server prunes unknown fields anyway, and rejects `false`.
        del node["additionalProperties"]

    unknown = set(node) - _ALLOWED
    if unknown:
        raise SchemaError(f"{where or '<root>'}: cannot express {sorted(unknown)} in a CRD schema")
    if "type" not in node and not (
        node.get("x-kubernetes-int-or-string") or node.get("x-kubernetes-preserve-unknown-fields")
    ):
        raise SchemaError(f"{where or '<root>'}: no type (structural schemas need one everywhere)")
    if "x-kubernetes-validations" in node:
        node["x-kubernetes-validations"] = [
            {key: rule[key] for key in _RULE_KEY_ORDER if key in rule}
            for rule in node["x-kubernetes-validations"]
        ]
    return {key: node[key] for key in _KEY_ORDER if key in node}


def _flatten(node: Schema, defs: dict[str, Schema], where: str) -> Schema:
    """Resolve `$ref` and `X | None` until the node itself says what it is.

    Keywords next to a `$ref` or `anyOf` (a field's description, default or
    list type) win over those of the definition they point to."""
    node = copy.deepcopy(node)
    while True:
        if "$ref" in node:
            target = _resolve(node.pop("$ref"), defs, where)
            node = {**copy.deepcopy(target), **node}
        elif "anyOf" in node:
            choices: list[Schema] = node.pop("anyOf")
            others = [c for c in choices if c != {"type": "null"}]
            if len(others) != 1 or len(others) == len(choices):
                # A structural schema cannot say "this or that".
                raise SchemaError(f"{where or '<root>'}: only `X | None` unions fit a CRD schema")
            node = {**others[0], **node, "nullable": True}
        else:
            return node


def _nullable_enum(node: Schema, where: str) -> Schema:
    """`SomeEnum | None`: the API server checks `enum` against null too and
    rejects it (even with null listed), and without `nullable` server-side
    apply rejects the null that `to_wire()` sends. So check the values with a
    CEL rule instead: rules are not run on null values."""
    values = node.pop("enum")
    if not all(isinstance(v, str) for v in values):
        raise SchemaError(f"{where or '<root>'}: only string enums can be optional")
    choices = ", ".join(f"'{v}'" for v in values)
    rule = {"rule": f"self in [{choices}]", "message": f"must be one of: {', '.join(values)}"}
    return {**node, "x-kubernetes-validations": [rule, *node.get("x-kubernetes-validations", [])]}


def _resolve(ref: str, defs: dict[str, Schema], where: str) -> Schema:
    prefix = "#/$defs/"
    name = ref.removeprefix(prefix)
    if not ref.startswith(prefix) or name not in defs:
        raise SchemaError(f"{where or '<root>'}: unresolvable $ref {ref!r}")
    return defs[name]


@dataclass(frozen=True)
class CustomResource:
    """One of our kinds as a CRD: where it lives (the resource table), its
    models and how `kubectl get` shows it."""

    resource: Resource
    description: str
    spec: type[BaseModel]
    status: type[BaseModel]
    columns: tuple[Schema, ...]

    @property
    def filename(self) -> str:
        return f"{self.resource.crd_name}.yaml"


def _column(name: str, json_path: str, type_: str = "string", **extra: str) -> Schema:
    return {"name": name, "type": type_, "jsonPath": json_path, **extra}


_AGE = _column("Age", ".metadata.creationTimestamp", "date")

CUSTOM_RESOURCES: tuple[CustomResource, ...] = (
    CustomResource(
        resource=FAILURES,
        description=(
            "A production failure (incident) of one or more services. Failures and "
            "Deployments give the change failure rate; restored failures give the time "
            "to restore."
        ),
        spec=FailureSpec,
        status=FailureStatus,
        columns=(
            # The attributed values, not the spec's: matching may have filled them in.
            _column("Services", ".status.attribution.services"),
            _column("Team", ".status.attribution.team"),
            _column("Env", ".status.attribution.env"),
            _column("State", ".status.state"),
            _column(
                "TTR",
                ".status.timeToRestoreSeconds",
                "number",
                description="Time to restore in seconds (time spent active).",
            ),
            _AGE,
        ),
    ),
    CustomResource(
        resource=DEPLOYMENTS,
        description=(
            "A deployment of one service, for DORA metrics. Not apps/v1 Deployment: "
            "use `kubectl get ddeploy` or `deployments.kubedora.io`."
        ),
        spec=DeploymentSpec,
        status=DeploymentStatus,
        columns=(
            _column("Service", ".spec.service"),
            _column("Env", ".spec.env"),
            _column("Version", ".spec.version"),
            _column("Source", ".spec.source"),
            _column("Outcome", ".spec.outcome"),
            _column("Finished", ".spec.finishedAt", "date"),
            _column("Commits", ".status.commits", "integer"),
            _column(
                "Lead Time",
                ".status.leadTime.medianSeconds",
                "number",
                description="Median lead time of the commits shipped, in seconds.",
            ),
            _column(
                "Change Failure",
                ".status.changeFailure.failed",
                "boolean",
                description="Whether the deployment needed remediation.",
            ),
            _AGE,
        ),
    ),
    CustomResource(
        resource=DORASOURCES,
        description=(
            "DORA settings for a scope of services, teams and envs, and the metrics "
            "computed for it over a time window."
        ),
        spec=DoraSourceSpec,
        status=DoraSourceStatus,
        columns=(
            _column("Window", ".spec.window"),
            _column("Deployments", ".status.summary.deployments", "integer"),
            _column("Failures", ".status.summary.failures", "integer"),
            _column("CFR", ".status.display.changeFailureRate", description="Change failure rate."),
            _column(
                "Median TTR",
                ".status.display.medianTimeToRestore",
                description="Median time to restore.",
            ),
            _column(
                "Frequency",
                ".status.display.deploymentFrequency",
                description="Deployment frequency: the DORA band and deployments per day.",
            ),
            _column(
                "Lead Time",
                ".status.display.medianLeadTime",
                description="Median lead time for changes.",
            ),
            _column("Ready", '.status.conditions[?(@.type=="Ready")].status'),
            _column(
                "Backfill",
                ".status.backfill.phase",
                description="The PagerDuty history backfill: Pending, Running, Succeeded, Failed.",
            ),
            _AGE,
        ),
    ),
)


def crd(custom: CustomResource) -> Schema:
    """The apiextensions.k8s.io/v1 CustomResourceDefinition of one kind."""
    schema: Schema = {
        "description": custom.description,
        "type": "object",
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": model_schema(custom.spec),
            "status": model_schema(custom.status),
        },
    }
    resource = custom.resource
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": resource.crd_name},
        "spec": {
            "group": resource.group,
            "names": {
                "kind": resource.kind,
                "listKind": f"{resource.kind}List",
                "plural": resource.plural,
                "singular": resource.kind.lower(),
                "shortNames": list(resource.short_names),
                "categories": [CATEGORY],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": resource.version,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [dict(c) for c in custom.columns],
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


class _Dumper(yaml.SafeDumper):
    """Writes a value seen twice in full: anchors and aliases would make the
    CRDs hard to read and to diff."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render(document: Schema) -> str:
    """YAML with the header; keys keep the order they were built in."""
    # No line folding: a CEL rule or a pattern split over lines is hard to read.
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=1 << 16, allow_unicode=True)
    return HEADER + body


def generated() -> dict[str, str]:
    """File name -> contents, for every CRD."""
    return {custom.filename: render(crd(custom)) for custom in CUSTOM_RESOURCES}


def write(directory: Path) -> list[Path]:
    """Write every CRD file that differs; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, text in generated().items():
        path = directory / filename
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    return written


def stale(directory: Path) -> list[str]:
    """What is wrong with the files in directory: one line per file."""
    problems = []
    expected = generated()
    for filename, text in expected.items():
        path = directory / filename
        if not path.exists():
            problems.append(f"{path}: missing")
        elif path.read_text() != text:
            problems.append(f"{path}: differs from the models")
    for path in sorted(directory.glob(f"*.{GROUP}.yaml")):
        if path.name not in expected:
            problems.append(f"{path}: no model generates it (delete it)")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kubedora.crdgen",
        description="Write the CRDs generated from the pydantic models.",
    )
    parser.add_argument("directory", type=Path, help="where the CRD files live, e.g. crds")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; fail if any file is stale"
    )
    args = parser.parse_args(argv)
    directory: Path = args.directory
    if args.check:
        problems = stale(directory)
        if problems:
            print("CRDs are out of date with the models; run `make crds`:", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
        print(f"{directory}: {len(CUSTOM_RESOURCES)} CRDs up to date")
        return 0
    for path in write(directory):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
