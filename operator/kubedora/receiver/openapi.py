"""The receiver's HTTP contract as an OpenAPI 3.1 document: every route, the
request bodies (the JSON Schemas of the ingest models that parse them), the
headers that authenticate a sender, and every answer a route gives.

The document kept beside this module (`openapi.json`, shipped in the wheel
and served at `GET /openapi.json`) is the contract; `document()` is how it
is made, and a test holds the two equal. After changing a model or a route:
`make openapi`.
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from kubedora.config import MAX_BODY_BYTES
from kubedora.ingest import argocd, datadog, flux, pagerduty

KEPT = "openapi.json"
Schema = dict[str, Any]
# Alternatives, each a set of schemes that must all be met.
Security = list[dict[str, list[str]]]

# The request bodies, by the model that parses them.
_BODIES: tuple[type[BaseModel], ...] = (
    pagerduty.PagerDutyWebhook,
    datadog.DoraFailureRequest,
    datadog.DoraDeploymentRequest,
    datadog.DoraDeploymentPatchRequest,
    datadog.DoraDeploymentPatchByVersionRequest,
    flux.FluxEvent,
    argocd.ArgoCDNotification,
)
_REF = "#/components/schemas/{model}"


def _ref(name: str, section: str = "schemas") -> Schema:
    return {"$ref": f"#/components/{section}/{name}"}


def _errors(description: str) -> Schema:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref("Errors")}},
    }


_RESPONSES: dict[str, Schema] = {
    "Accepted": {
        "description": "Stored (or a valid event kubedora ignores): the object is durable.",
        "content": {"application/json": {"schema": _ref("Accepted")}},
    },
    "BadRequest": _errors("The body is not a payload kubedora reads; `detail` names the field."),
    "Unauthorized": _errors("No DD-API-KEY, or a signature is required and missing or wrong."),
    "Forbidden": _errors("The key is not accepted, or no DoraSource holding it enables the route."),
    "NotFound": _errors("No deployment with that id, or with that service, env and version."),
    "RequestTimeout": _errors("The body did not arrive within the body timeout (2 s)."),
    "PayloadTooLarge": _errors(f"The body is over {MAX_BODY_BYTES} bytes (the default limit)."),
    "UnsupportedMediaType": _errors("The Content-Type is not JSON."),
    "Unavailable": {
        "description": "The Kubernetes API server is unreachable or slow: retry later. "
        "Nothing is known to be stored.",
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before retrying.",
                "schema": {"type": "string", "pattern": "^[0-9]+$"},
            }
        },
        "content": {"application/json": {"schema": _ref("Errors")}},
    },
}

_SHARED_SCHEMAS: dict[str, Schema] = {
    "Errors": {
        "description": "Every refusal, in the Datadog API's shape.",
        "type": "object",
        "required": ["errors"],
        "properties": {
            "errors": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["status", "title", "detail"],
                    "properties": {
                        "status": {"type": "string", "pattern": "^[45][0-9]{2}$"},
                        "title": {"type": "string"},
                        "detail": {"type": "string"},
                    },
                },
            }
        },
    },
    "Accepted": {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {
                "description": "The object written; null for an event kubedora ignores.",
                "anyOf": [
                    {
                        "type": "object",
                        "required": ["id", "type"],
                        "properties": {
                            "id": {"type": "string", "minLength": 1},
                            "type": {
                                "enum": [
                                    "dora_failure",
                                    "dora_deployment",
                                ]
                            },
                        },
                    },
                    {"type": "null"},
                ],
            },
            "meta": {
                "type": "object",
                "properties": {
                    "outcome": {"type": "string"},
                    "event_id": {"type": "string"},
                },
            },
        },
    },
}

_SECURITY_SCHEMES: dict[str, Schema] = {
    "ddApiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "DD-API-KEY",
        "description": "A value of the Secret a DoraSource enabling the route's source names "
        "in spec.apiKeySecretRef.",
    },
    "pagerdutySignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-PagerDuty-Signature",
        "description": "Required when the DoraSource sets spec.pagerduty.signingSecretRef: "
        "`v1=<hex HMAC-SHA256 of the raw body>`, comma-separated while a secret rotates.",
    },
    "fluxSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Signature",
        "description": "Required when the DoraSource sets spec.flux.signingSecretRef: "
        "`sha256=<hex HMAC-SHA256 of the raw body>` (a generic-hmac Provider).",
    },
}

_WRITE_ANSWERS = ("202", "400", "401", "403", "408", "413", "415", "503")
_ANSWER_NAMES = {
    "202": "Accepted",
    "400": "BadRequest",
    "401": "Unauthorized",
    "403": "Forbidden",
    "404": "NotFound",
    "408": "RequestTimeout",
    "413": "PayloadTooLarge",
    "415": "UnsupportedMediaType",
    "503": "Unavailable",
}
_ENV_HEADERS = [
    {
        "name": name,
        "in": "header",
        "required": False,
        "description": "The env of the Failure (else the DoraSource's pagerduty.defaultEnv).",
        "schema": {"type": "string"},
    }
    for name in ("dd_env", "dd-env")
]


def _write(
    summary: str,
    body: type[BaseModel],
    security: Security,
    *,
    answers: tuple[str, ...] = _WRITE_ANSWERS,
    parameters: list[Schema] | None = None,
) -> Schema:
    operation: Schema = {
        "summary": summary,
        "security": security,
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ref(body.__name__)}},
        },
        "responses": {code: _ref(_ANSWER_NAMES[code], "responses") for code in answers},
    }
    if parameters:
        operation["parameters"] = parameters
    return operation


def _text(summary: str, *, codes: tuple[str, ...] = ("200",), media: str = "text/plain") -> Schema:
    descriptions = {"200": "OK", "503": "Not ready: the reason, in one line."}
    return {
        "summary": summary,
        "security": [],
        "responses": {
            code: {
                "description": descriptions[code],
                "content": {media: {"schema": {"type": "string"}}},
            }
            for code in codes
        },
    }


def document() -> Schema:
    """The OpenAPI document of the receiver's routes."""
    _, generated = models_json_schema(
        [(model, "validation") for model in _BODIES], ref_template=_REF
    )
    key: Security = [{"ddApiKey": []}]
    pagerduty_auth: Security = [{"ddApiKey": [], "pagerdutySignature": []}, {"ddApiKey": []}]
    flux_auth: Security = [{"ddApiKey": [], "fluxSignature": []}, {"ddApiKey": []}]
    webhook = _write(
        "PagerDuty Generic Webhooks (v3): one incident event",
        pagerduty.PagerDutyWebhook,
        pagerduty_auth,
        parameters=_ENV_HEADERS,
    )
    failure = _write("Datadog: send a failure (incident) event", datadog.DoraFailureRequest, key)
    openapi = {"200": {"description": "This document", "content": {"application/json": {}}}}
    paths: dict[str, Schema] = {
        "/healthz": {"get": _text("Liveness")},
        "/readyz": {"get": _text("API server reachable and keys listed", codes=("200", "503"))},
        "/metrics": {"get": _text("Prometheus exposition")},
        "/openapi.json": {
            "get": {"summary": "This document", "security": [], "responses": openapi}
        },
        "/api/v2/webhook": {"post": webhook},
        "/api/v2/webhook/": {"post": {**webhook, "summary": "The same, with a trailing slash"}},
        "/api/v2/dora/failure": {"post": failure},
        "/api/v2/dora/incident": {"post": {**failure, "summary": "The failure route's old name"}},
        "/api/v2/dora/deployment": {
            "post": _write("Datadog: send a deployment event", datadog.DoraDeploymentRequest, key)
        },
        "/api/v2/dora/deployments/{id}": {
            "patch": {
                **_write(
                    "Datadog: mark a deployment as failed (or not), by id",
                    datadog.DoraDeploymentPatchRequest,
                    key,
                    answers=(*_WRITE_ANSWERS, "404"),
                ),
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "description": "The Deployment's name, or the id it was posted with.",
                        "schema": {"type": "string", "minLength": 1},
                    }
                ],
            }
        },
        "/api/v2/dora/deployments": {
            "patch": _write(
                "Datadog: mark the latest deployment of a service, env and version",
                datadog.DoraDeploymentPatchByVersionRequest,
                key,
                answers=(*_WRITE_ANSWERS, "404"),
            )
        },
        "/hooks/flux": {
            "post": _write("Flux notification-controller event", flux.FluxEvent, flux_auth)
        },
        "/hooks/argocd": {"post": _write("Argo CD notification", argocd.ArgoCDNotification, key)},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "kubedora receiver",
            "version": "1",
            "description": "PagerDuty webhooks, the Datadog DORA API, Flux and Argo CD, "
            "stored as Failures and Deployments. Every write route answers 202 only "
            "once the object is stored, and 503 (with Retry-After) when it can not be.",
        },
        "paths": paths,
        "components": {
            "schemas": {**_SHARED_SCHEMAS, **generated["$defs"]},
            "responses": _RESPONSES,
            "securitySchemes": _SECURITY_SCHEMES,
        },
    }


def render(spec: Schema) -> str:
    return json.dumps(spec, indent=2, sort_keys=True) + "\n"


def kept() -> bytes:
    """The document shipped with the package."""
    return resources.files(__package__).joinpath(KEPT).read_bytes()


if __name__ == "__main__":
    with open(sys.argv[1], "w") as out:
        out.write(render(document()))
