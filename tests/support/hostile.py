"""Hostile callers of the receiver: `kubedora receiver` as its own process
(so that its memory can be read), raw HTTP over a socket (for what a
well-behaved client library refuses to send: a body cut short, CR/LF in a
header, bytes that are no UTF-8), and the catalogue of hostile requests the
tests and the fuzz benchmark send. Every one must get a clear 4xx and write
nothing."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client as sync_client

from tests.support.kube import poll
from tests.support.operator import free_port
from tests.support.processes import KUBEDORA, terminate
from tests.support.receiver import (
    API_KEY,
    DORA_DEPLOYMENT,
    DORA_FAILURE,
    WEBHOOK,
    Reply,
    fixture_bytes,
    http_request,
    objects_of,
)

LIMIT = 256 * 1024
FLUX = "/hooks/flux"
ARGOCD = "/hooks/argocd"
PATCH_BY_VERSION = "/api/v2/dora/deployments"


@dataclass
class ReceiverProcess:
    """`kubedora receiver` serving one namespace on 127.0.0.1:port."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_kib(self) -> int:
        """VmRSS from /proc/PID/status, in KiB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        return http_request(self.port, method, path, body, headers)

    def stop(self) -> None:
        terminate(self.process, timeout=20)


def start_receiver_process(
    kubeconfig: Path, namespace: str, log: Path, **settings: str
) -> ReceiverProcess:
    """Started and ready (credentials listed); settings become KUBEDORA_* variables."""
    port = free_port()
    environ = {
        **os.environ,
        "KUBECONFIG": str(kubeconfig),
        # Shared slow machines: a busy API server is not what these tests are about.
        "KUBEDORA_API_TIMEOUT": "10",
        "KUBEDORA_DEADLINE": "20",
        **{f"KUBEDORA_{key.upper()}": value for key, value in settings.items()},
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [KUBEDORA, "receiver", "--namespace", namespace, "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=environ,
        )
    running = ReceiverProcess(process, port)

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the receiver exited: {log.read_text()[-2000:]}")
        try:
            return running.request("GET", "/readyz").status == 200
        except OSError:
            return False

    poll(ready, timeout=60, what="the receiver to be ready")
    return running


# --- raw HTTP ----------------------------------------------------------------------


def exchange(port: int, request: bytes, *, timeout: float = 30.0) -> Reply:
    """Send request as is and read the answer (status 0: the receiver
    closed the connection without one). Our side stays open: a client that
    half-closes gets no answer from aiohttp. The answer is complete at its
    Content-Length: aiohttp may linger, reading what the request still
    owes, before it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        # It may answer (413) and close before taking the whole body.
        with contextlib.suppress(OSError):
            sock.sendall(request)
        received = b""
        with contextlib.suppress(ConnectionResetError):
            while not _complete(received) and (chunk := sock.recv(65536)):
                received += chunk
    return parse_reply(received)


def _complete(raw: bytes) -> bool:
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator:
        return False
    length = parse_reply(head + separator).headers.get("Content-Length")
    return length is not None and len(body) >= int(length)


def parse_reply(raw: bytes) -> Reply:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/"):
        return Reply(0, {}, raw)
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    return Reply(status, headers, body)


def raw_post(
    path: str,
    body: bytes,
    *,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
    length: int | None = None,
    extra: bytes = b"",
) -> bytes:
    """A POST as bytes; `length` overrides Content-Length, `extra` is
    spliced into the header block verbatim."""
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: receiver",
        "Connection: close",
        f"Content-Type: {content_type}",
        f"DD-API-KEY: {API_KEY}",
        f"Content-Length: {len(body) if length is None else length}",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    return "\r\n".join(lines).encode() + b"\r\n" + extra + b"\r\n" + body


def chunked_post(path: str, body: bytes, chunk: int = 65536) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: receiver",
        "Connection: close",
        "Content-Type: application/json",
        f"DD-API-KEY: {API_KEY}",
        "Transfer-Encoding: chunked",
    ]
    out = "\r\n".join(lines).encode() + b"\r\n\r\n"
    for start in range(0, len(body), chunk):
        part = body[start : start + chunk]
        out += f"{len(part):x}\r\n".encode() + part + b"\r\n"
    return out + b"0\r\n\r\n"


# --- what is stored ------------------------------------------------------------------


def snapshot(custom_objects: sync_client.CustomObjectsApi, namespace: str) -> dict[str, str]:
    """`kind/name` → resourceVersion of every Failure and Deployment."""
    return {
        f"{plural}/{item['metadata']['name']}": item["metadata"]["resourceVersion"]
        for plural in ("failures", "deployments")
        for item in objects_of(custom_objects, namespace, plural)
    }


# --- the catalogue ---------------------------------------------------------------------

PD_TRIGGER: dict[str, Any] = json.loads(fixture_bytes("pagerduty", "incident.triggered.json"))
DD_DEPLOYMENT: dict[str, Any] = json.loads(fixture_bytes("datadog", "datadog-ci-deployment.json"))
DD_FAILURE: dict[str, Any] = json.loads(fixture_bytes("datadog", "api-reference-failure.json"))
FLUX_EVENT: dict[str, Any] = json.loads(
    fixture_bytes("flux", "kustomization.reconciliation-succeeded.json")
)
ARGOCD_SYNC: dict[str, Any] = {
    "app": "checkout",
    "phase": "Succeeded",
    "startedAt": "2026-02-01T09:00:00Z",
    "finishedAt": "2026-02-01T09:01:00Z",
    "revision": "731f7eaddfb6af01cb2173e18f0f75b0ba780ef1",
}


def _dumps(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


def _changed(template: dict[str, Any], at: tuple[str, ...], changes: dict[str, Any]) -> bytes:
    """A copy of the template with `changes` merged into the mapping at `at`."""
    body = copy.deepcopy(template)
    target = body
    for key in at:
        target = target[key]
    target.update(changes)
    return _dumps(body)


def pd_event(**event: Any) -> bytes:
    return _changed(PD_TRIGGER, ("event",), event)


def pd_incident(**data: Any) -> bytes:
    return _changed(PD_TRIGGER, ("event", "data"), data)


def dd_deployment(**attributes: Any) -> bytes:
    return _changed(DD_DEPLOYMENT, ("data", "attributes"), attributes)


def dd_failure(**attributes: Any) -> bytes:
    return _changed(DD_FAILURE, ("data", "attributes"), attributes)


def flux_event(**fields: Any) -> bytes:
    return _dumps({**FLUX_EVENT, **fields})


def argocd_sync(**fields: Any) -> bytes:
    return _dumps({**ARGOCD_SYNC, **fields})


@dataclass(frozen=True)
class Hostile:
    """One hostile request (raw bytes) and the status it must get."""

    name: str
    request: bytes
    status: int

    def send(self, port: int) -> Reply:
        return exchange(port, self.request)


def _post(name: str, path: str, body: bytes, status: int = 400, **how: Any) -> Hostile:
    return Hostile(name, raw_post(path, body, **how), status)


def _times() -> list[Hostile]:
    # Years 0 and 10000, and instants whose UTC is out of range.
    iso = [
        ("year-0", "0000-01-01T00:00:00Z"),
        ("year-10000", "10000-01-01T00:00:00Z"),
        ("year-1-east-of-utc", "0001-01-01T00:30:00+01:00"),
        ("year-9999-west-of-utc", "9999-12-31T23:30:00-01:00"),
        ("negative-year", "-0001-01-01T00:00:00Z"),
        ("no-zone", "2026-02-01T09:00:00"),
        ("number", "1700000000"),
    ]
    cases = []
    for label, value in iso:
        cases += [
            _post(f"pd-occurred-at-{label}", WEBHOOK, pd_event(occurred_at=value)),
            _post(f"pd-created-at-{label}", WEBHOOK, pd_incident(created_at=value)),
            _post(f"flux-timestamp-{label}", FLUX, flux_event(timestamp=value)),
            _post(f"argocd-started-at-{label}", ARGOCD, argocd_sync(startedAt=value)),
        ]
    # Unix times: zero, negative, fractions, NaN, infinities, huge.
    numbers: list[tuple[str, Any]] = [
        ("zero", 0),
        ("negative", -1),
        ("fraction", 1.5),
        ("nan", float("nan")),
        ("infinity", float("inf")),
        ("minus-infinity", float("-inf")),
        ("huge-int", 10**30),
        ("huge-float", 1e300),
        ("beyond-float", 10**400),
        ("string", "1700000000"),
        ("bool", True),
    ]
    for label, value in numbers:
        cases += [
            _post(
                f"dd-deployment-started-at-{label}",
                DORA_DEPLOYMENT,
                dd_deployment(started_at=value),
            ),
            _post(f"dd-failure-started-at-{label}", DORA_FAILURE, dd_failure(started_at=value)),
        ]
    cases.append(
        _post(
            "dd-json-1e400",
            DORA_FAILURE,
            dd_failure(started_at=1).replace(b'"started_at": 1', b'"started_at": 1e400'),
        )
    )
    return cases


def _injections() -> list[Hostile]:
    """CR, LF and other controls where a value becomes an env, a service
    or a header of ours."""
    body = pd_event()
    cases = [
        # A bare CR, obs-fold continuation, NUL: not HTTP (the parser's 400).
        Hostile(
            "dd-env-bare-cr", raw_post(WEBHOOK, body, extra=b"dd_env: prod\rX-Evil: 1\r\n"), 400
        ),
        Hostile(
            "dd-env-obs-fold", raw_post(WEBHOOK, body, extra=b"dd_env: prod\r\n X-Evil: 1\r\n"), 400
        ),
        Hostile("dd-env-nul", raw_post(WEBHOOK, body, extra=b"dd_env: prod\x00evil\r\n"), 400),
        Hostile(
            "dd-env-bare-lf", raw_post(WEBHOOK, body, extra=b"dd_env: prod\nX-Evil: 1\r\n"), 400
        ),
        # Bytes that are no UTF-8, in a header value.
        Hostile("dd-env-latin-1", raw_post(WEBHOOK, body, extra=b"dd_env: pr\xf6d\r\n"), 400),
        Hostile("dd-env-invalid-utf8", raw_post(WEBHOOK, body, extra=b"dd_env: \xff\xfe\r\n"), 400),
        Hostile("dd-env-tab", raw_post(WEBHOOK, body, extra=b"dd-env: pr\tod\r\n"), 400),
    ]
    controls = ["prod\r\nX-Evil: 1", "prod\n", "\x00", "prod\x1b[31m", "p\u2028d"]
    for i, value in enumerate(controls):
        cases += [
            _post(f"dd-deployment-env-control-{i}", DORA_DEPLOYMENT, dd_deployment(env=value)),
            _post(f"dd-failure-env-control-{i}", DORA_FAILURE, dd_failure(env=value)),
            _post(
                f"dd-deployment-service-control-{i}", DORA_DEPLOYMENT, dd_deployment(service=value)
            ),
            _post(f"argocd-env-control-{i}", ARGOCD, argocd_sync(env=value)),
        ]
    return cases


def _encodings() -> list[Hostile]:
    deployment = dd_deployment(service="checkout")
    return [
        _post(
            "invalid-utf8-in-a-string",
            DORA_DEPLOYMENT,
            deployment.replace(b'"checkout"', b'"che\xffkout"'),
        ),
        _post(
            "overlong-utf8",
            DORA_DEPLOYMENT,
            deployment.replace(b'"checkout"', b'"\xc0\xafcheckout"'),
        ),
        _post(
            "utf8-encoded-surrogate",
            DORA_DEPLOYMENT,
            deployment.replace(b'"checkout"', b'"\xed\xa0\x80"'),
        ),
        _post(
            "lone-surrogate-escape",
            DORA_DEPLOYMENT,
            deployment.replace(b'"checkout"', b'"\\ud800"'),
        ),
        _post(
            "lone-surrogate-in-pd-id", WEBHOOK, pd_incident(id="PX").replace(b'"PX"', b'"P\\udfff"')
        ),
        _post(
            "lone-surrogate-in-flux-name",
            FLUX,
            flux_event().replace(b'"kind":', b'"x": "\\ud800", "kind":', 1),
        ),
        _post("utf16-body", DORA_DEPLOYMENT, deployment.decode().encode("utf-16")),
        _post("bom-then-json", DORA_DEPLOYMENT, b"\xef\xbb\xbf" + deployment),
        _post(
            "latin-1-charset",
            DORA_DEPLOYMENT,
            deployment.replace(b'"checkout"', b'"ch\xe9ckout"'),
            content_type="application/json; charset=latin-1",
        ),
    ]


def _shapes() -> list[Hostile]:
    deployment = dd_deployment()
    half = deployment[: len(deployment) // 2]
    return [
        # Truncated: the body ends before its Content-Length.
        # (the receiver gives up after its body timeout).
        Hostile("truncated-body", raw_post(DORA_DEPLOYMENT, half, length=len(deployment)), 408),
        Hostile("truncated-webhook", raw_post(WEBHOOK, pd_event()[:100], length=2000), 408),
        Hostile("truncated-to-nothing", raw_post(DORA_FAILURE, b"", length=500), 408),
        # Truncated JSON with an honest length.
        _post("truncated-json", DORA_DEPLOYMENT, half),
        _post("empty-body", DORA_DEPLOYMENT, b""),
        _post("json-null", DORA_DEPLOYMENT, b"null"),
        _post("json-string", WEBHOOK, b'"event"'),
        _post("nan-literal", DORA_FAILURE, b"NaN"),
        # Deep nesting, within the size limit.
        _post("deep-arrays", DORA_DEPLOYMENT, b"[" * 100_000),
        _post("deep-arrays-closed", WEBHOOK, b"[" * 100_000 + b"]" * 100_000),
        _post("deep-objects", DORA_FAILURE, b'{"a":' * 40_000 + b"1" + b"}" * 40_000),
        _post(
            "deep-in-pd-data",
            WEBHOOK,
            pd_incident(x=None).replace(b'"x": null', b'"x": ' + b"[" * 50_000 + b"]" * 50_000),
        ),
        _post(
            "deep-in-flux-metadata",
            FLUX,
            flux_event(metadata=None).replace(
                b'"metadata": null', b'"metadata": ' + b"[" * 50_000 + b"]" * 50_000
            ),
        ),
        # Huge: declared, sent, chunked.
        Hostile("huge-declared", raw_post(DORA_DEPLOYMENT, b"{}", length=10**12), 413),
        Hostile("huge-negative-length", raw_post(DORA_DEPLOYMENT, b"{}", length=-1), 400),
        _post("huge-sent", DORA_DEPLOYMENT, b"[" + b"1," * LIMIT + b"1]", 413),
        Hostile("huge-chunked", chunked_post(WEBHOOK, b"[" + b"1," * LIMIT + b"1]"), 413),
        _post(
            "many-keys",
            DORA_FAILURE,
            b"{" + b",".join(b'"k%d":1' % i for i in range(20_000)) + b"}",
        ),
        _post("long-string", DORA_DEPLOYMENT, dd_deployment(service="s" * (LIMIT - 1000))),
        _post(
            "many-tags", DORA_DEPLOYMENT, dd_deployment(custom_tags=[f"k:{i}" for i in range(5000)])
        ),
        _post("huge-id", DORA_DEPLOYMENT, dd_deployment(id="x" * 10_000)),
        # Wrong content types.
        _post("text-plain", DORA_DEPLOYMENT, deployment, 415, content_type="text/plain"),
        _post("form", WEBHOOK, pd_event(), 415, content_type="application/x-www-form-urlencoded"),
        _post(
            "multipart",
            DORA_FAILURE,
            dd_failure(),
            415,
            content_type="multipart/form-data; boundary=x",
        ),
        _post("json-lookalike", DORA_FAILURE, dd_failure(), 415, content_type="application/jsonx"),
        _post("xml", FLUX, flux_event(), 415, content_type="application/xml"),
        _post("empty-type", ARGOCD, argocd_sync(), 415, content_type=""),
    ]


def catalogue() -> list[Hostile]:
    return [*_shapes(), *_encodings(), *_injections(), *_times()]


def flood(prefix: str, count: int) -> Callable[[int], bytes]:
    """The i-th of `count` triggers of distinct incidents from one caller."""

    def body(i: int) -> bytes:
        return pd_incident(id=f"{prefix}{i:05d}")

    return body
