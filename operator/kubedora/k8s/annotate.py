"""Write metadata of our own kinds."""

from __future__ import annotations

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from kubedora.k8s.client import MERGE_PATCH
from kubedora.models import GROUP, VERSION


async def annotate(
    api: client.ApiClient, plural: str, namespace: str, name: str, annotations: dict[str, str]
) -> bool:
    """Merge these annotations into a kubedora.io object; False when it is gone."""
    objects = client.CustomObjectsApi(api)
    try:
        # The client's stub omits _content_type, which it accepts at run time.
        await objects.patch_namespaced_custom_object(  # type: ignore[call-arg]
            GROUP,
            VERSION,
            namespace,
            plural,
            name,
            {"metadata": {"annotations": annotations}},
            _content_type=MERGE_PATCH,
        )
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True
