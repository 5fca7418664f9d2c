"""The OpenAPI document kept in the package is what the models and routes
make, and it names every route the app serves, and no other."""

from __future__ import annotations

import json
from pathlib import Path

import schemathesis
from kubernetes_asyncio import client

from kubedora.config import ReceiverConfig
from kubedora.receiver import openapi
from kubedora.receiver.app import create_app

KEPT = Path(openapi.__file__).with_name(openapi.KEPT)
REGENERATE = "make openapi"


def test_the_kept_document_is_what_generation_gives() -> None:
    assert KEPT.read_text() == openapi.render(openapi.document()), f"run: {REGENERATE}"


async def test_its_paths_and_methods_are_the_routers() -> None:
    api = client.ApiClient()
    try:
        app = create_app(api, ReceiverConfig(namespace="ns"))
    finally:
        await api.close()
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        # aiohttp answers HEAD for every GET by itself.
        if route.resource is not None and route.method != "HEAD"
    }
    documented = {
        (method, path)
        for path, operations in json.loads(openapi.kept())["paths"].items()
        for method in operations
    }
    assert documented == served


def test_it_loads_as_openapi_and_every_write_route_documents_503() -> None:
    spec = json.loads(openapi.kept())
    operations = list(schemathesis.openapi.from_dict(spec).get_all_operations())
    assert len(operations) == sum(len(methods) for methods in spec["paths"].values())
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            if method in ("post", "patch"):
                assert "503" in operation["responses"], path
                assert operation["security"], path


def test_timestamps_are_documented_as_sent() -> None:
    # Unix integers, not the datetimes they parse into.
    attributes = openapi.document()["components"]["schemas"]["DoraDeploymentAttributes"]
    assert attributes["properties"]["started_at"]["type"] == "integer"
