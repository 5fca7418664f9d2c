"""The local control plane is a real kube-apiserver: it serves core/v1 and
OpenAPI v3, enforces RBAC, issues ServiceAccount tokens and serves CRDs."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support.kube import poll, unique_name


def _as_user(api_client: client.ApiClient, user: str) -> client.ApiClient:
    return client.ApiClient(
        api_client.configuration, header_name="Impersonate-User", header_value=user
    )


def _get_json(api_client: client.ApiClient, path: str) -> object:
    request = api_client.param_serialize("GET", path, auth_settings=["BearerToken"])
    response = api_client.call_api(*request)
    assert response.status == 200
    raw: bytes = response.read()  # type: ignore[no-untyped-call]  # RESTResponse.read is unannotated
    return json.loads(raw)


def test_reports_a_real_kubernetes_version(api_client: client.ApiClient) -> None:
    info = client.VersionApi(api_client).get_code()
    match = re.fullmatch(r"v1\.(\d+)\.\d+", info.git_version)
    assert match, f"gitVersion {info.git_version!r} is not a release version"
    assert int(match.group(1)) >= 33
    assert info.major == "1"


def test_serves_core_v1(core_v1: client.CoreV1Api, namespace: str) -> None:
    service = client.V1Service(
        metadata=client.V1ObjectMeta(name="checkout", annotations={"kubedora.io/service": ""}),
        spec=client.V1ServiceSpec(ports=[client.V1ServicePort(port=80, target_port=8080)]),
    )
    core_v1.create_namespaced_service(namespace, service)

    read = core_v1.read_namespaced_service("checkout", namespace)
    # The model types every field as optional; a stored Service has these.
    metadata = cast("client.V1ObjectMeta", read.metadata)
    spec = cast("client.V1ServiceSpec", read.spec)
    assert metadata.annotations == {"kubedora.io/service": ""}
    assert cast("list[client.V1ServicePort]", spec.ports)[0].port == 80
    # A cluster IP from --service-cluster-ip-range proves the allocator runs.
    assert cast(str, spec.cluster_ip).startswith("10.96.")


def test_serves_openapi_v3(api_client: client.ApiClient) -> None:
    index = _get_json(api_client, "/openapi/v3")
    assert isinstance(index, dict)
    assert "api/v1" in index["paths"]
    core = _get_json(api_client, "/openapi/v3/api/v1")
    assert isinstance(core, dict)
    assert "io.k8s.api.core.v1.Service" in core["components"]["schemas"]


def test_rbac_denies_a_user_without_roles(api_client: client.ApiClient, namespace: str) -> None:
    nobody = client.CoreV1Api(_as_user(api_client, "nobody"))
    with pytest.raises(ApiException) as denied:
        nobody.list_namespaced_service(namespace)
    assert denied.value.status == 403


def test_rbac_grants_what_a_role_binds(api_client: client.ApiClient, namespace: str) -> None:
    rbac = client.RbacAuthorizationV1Api(api_client)
    rbac.create_namespaced_role(
        namespace,
        client.V1Role(
            metadata=client.V1ObjectMeta(name="service-reader"),
            rules=[client.V1PolicyRule(api_groups=[""], resources=["services"], verbs=["list"])],
        ),
    )
    rbac.create_namespaced_role_binding(
        namespace,
        client.V1RoleBinding(
            metadata=client.V1ObjectMeta(name="reader"),
            role_ref=client.V1RoleRef(
                api_group="rbac.authorization.k8s.io", kind="Role", name="service-reader"
            ),
            subjects=[
                client.RbacV1Subject(
                    kind="User", name="reader", api_group="rbac.authorization.k8s.io"
                )
            ],
        ),
    )
    reader = client.CoreV1Api(_as_user(api_client, "reader"))
    poll(lambda: _can_list(reader, namespace), what="RBAC to grant the bound role")
    with pytest.raises(ApiException) as denied:
        reader.list_namespaced_secret(namespace)
    assert denied.value.status == 403


def _can_list(api: client.CoreV1Api, namespace: str) -> bool:
    try:
        api.list_namespaced_service(namespace)
    except ApiException as exc:
        if exc.status == 403:
            return False
        raise
    return True


def test_token_request_issues_service_account_tokens(
    api_client: client.ApiClient, core_v1: client.CoreV1Api, namespace: str
) -> None:
    core_v1.create_namespaced_service_account(
        namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="operator"))
    )
    issued = core_v1.create_namespaced_service_account_token(
        "operator",
        namespace,
        client.AuthenticationV1TokenRequest(
            spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=600)
        ),
    )
    configuration = client.Configuration()
    configuration.host = api_client.configuration.host
    configuration.ssl_ca_cert = api_client.configuration.ssl_ca_cert
    # The model types status and token as optional; a TokenRequest's reply has both.
    token = cast(str, cast("client.V1TokenRequestStatus", issued.status).token)
    configuration.api_key = {"authorization": token}
    configuration.api_key_prefix = {"authorization": "Bearer"}
    with client.ApiClient(configuration) as as_sa:
        review = client.AuthenticationV1Api(as_sa).create_self_subject_review(
            client.V1SelfSubjectReview()
        )
        status = cast("client.V1SelfSubjectReviewStatus", review.status)
        user_info = cast("client.V1UserInfo", status.user_info)
        assert user_info.username == f"system:serviceaccount:{namespace}:operator"
        with pytest.raises(ApiException) as denied:
            client.CoreV1Api(as_sa).list_namespaced_service(namespace)
        assert denied.value.status == 403


@pytest.fixture
def widget_crd(api_client: client.ApiClient) -> Iterator[str]:
    ext = client.ApiextensionsV1Api(api_client)
    group = f"{unique_name('g')}.test.kubedora.io"
    name = f"widgets.{group}"
    # The client validates a plain manifest into its model.
    ext.create_custom_resource_definition(
        cast(
            "client.V1CustomResourceDefinition",
            {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {"name": name},
                "spec": {
                    "group": group,
                    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                    "scope": "Namespaced",
                    "versions": [
                        {
                            "name": "v1",
                            "served": True,
                            "storage": True,
                            "schema": {
                                "openAPIV3Schema": {
                                    "type": "object",
                                    "properties": {
                                        "spec": {
                                            "type": "object",
                                            "required": ["size"],
                                            "properties": {
                                                "size": {"type": "integer", "minimum": 1}
                                            },
                                        }
                                    },
                                }
                            },
                        }
                    ],
                },
            },
        )
    )
    yield group
    ext.delete_custom_resource_definition(name)


def test_a_crd_becomes_established_and_is_served(
    api_client: client.ApiClient,
    custom_objects: client.CustomObjectsApi,
    widget_crd: str,
    namespace: str,
) -> None:
    ext = client.ApiextensionsV1Api(api_client)

    def established() -> bool:
        crd = ext.read_custom_resource_definition(f"widgets.{widget_crd}")
        status = cast("client.V1CustomResourceDefinitionStatus", crd.status)
        return any(
            c.type == "Established" and c.status == "True" for c in (status.conditions or [])
        )

    poll(established, what="the CRD to be Established")
    body = {"apiVersion": f"{widget_crd}/v1", "kind": "Widget", "metadata": {"name": "w"}}

    def create(size: int) -> object:
        return custom_objects.create_namespaced_custom_object(
            widget_crd, "v1", namespace, "widgets", {**body, "spec": {"size": size}}
        )

    # Established can precede the first successful create by a moment.
    poll(lambda: _created(create, 3), what="the CRD to be served")
    read = cast(
        "dict[str, Any]",
        custom_objects.get_namespaced_custom_object(widget_crd, "v1", namespace, "widgets", "w"),
    )
    assert read["spec"] == {"size": 3}
    # Its OpenAPI schema is enforced by the API server.
    with pytest.raises(ApiException) as invalid:
        custom_objects.create_namespaced_custom_object(
            widget_crd,
            "v1",
            namespace,
            "widgets",
            {**body, "metadata": {"name": "bad"}, "spec": {"size": 0}},
        )
    assert invalid.value.status == 422
    assert "spec.size" in cast(str, invalid.value.body)


def _created(create: Callable[[int], object], size: int) -> bool:
    try:
        create(size)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True
