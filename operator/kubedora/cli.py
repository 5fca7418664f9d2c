"""The `kubedora` command: `kubedora operator`, `kubedora receiver` and
`kubedora metrics`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import sys
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

POD_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
DEFAULT_PEERING = "kubedora"


def _default_namespace() -> str | None:
    if env := os.environ.get("KUBEDORA_NAMESPACE"):
        return env
    if POD_NAMESPACE_FILE.exists():
        return POD_NAMESPACE_FILE.read_text().strip()
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kubedora", description=__doc__)
    # The version is written once, in pyproject.toml.
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('kubedora')}")
    commands = parser.add_subparsers(dest="command", required=True)

    operator = commands.add_parser("operator", help="run the kopf operator")
    scope = operator.add_mutually_exclusive_group()
    scope.add_argument(
        "--namespace",
        "-n",
        action="append",
        help="namespace to serve (repeatable; default: $KUBEDORA_NAMESPACE or the pod's)",
    )
    scope.add_argument("--all-namespaces", "-A", action="store_true", help="serve every namespace")
    peering = operator.add_mutually_exclusive_group()
    peering.add_argument(
        "--standalone", action="store_true", help="never coordinate with other operator replicas"
    )
    peering.add_argument(
        "--peering",
        metavar="NAME",
        default=None,
        help="kopf peering object that elects the active replica; when given, it must exist "
        f"or the operator exits (default: {DEFAULT_PEERING}; standalone, with a warning, "
        "when the cluster has no peering CRD)",
    )
    operator.add_argument(
        "--priority",
        type=int,
        default=None,
        help="peering priority; the highest live one works (default: random, so that "
        "replicas never tie: kopf pauses every replica of an equal priority)",
    )
    operator.add_argument(
        "--liveness", metavar="URL", help="kopf liveness endpoint, e.g. http://0.0.0.0:8081/healthz"
    )
    operator.add_argument(
        "--http-address",
        metavar="HOST:PORT",
        default=os.environ.get("KUBEDORA_HTTP_ADDRESS", "127.0.0.1:8082"),
        help="serve /metrics (Prometheus) and the dashboard page here (default: "
        "$KUBEDORA_HTTP_ADDRESS or 127.0.0.1:8082); never the receiver's port",
    )
    operator.add_argument("--verbose", "-v", action="store_true")

    metrics = commands.add_parser("metrics", help="print the DoraSource scoreboards")
    where = metrics.add_mutually_exclusive_group()
    where.add_argument("--namespace", "-n", help="namespace (default: the kubeconfig's)")
    where.add_argument("--all-namespaces", "-A", action="store_true")
    metrics.add_argument("--source", metavar="NAME", help="only the DoraSource of that name")
    metrics.add_argument("--output", "-o", choices=["table", "json"], default="table")
    metrics.add_argument(
        "--breakdown", action="store_true", help="also the rows per service, team and env"
    )
    metrics.add_argument(
        "--trend",
        action="store_true",
        help="draw each figure of status.trend as a sparkline (per breakdown row with --breakdown)",
    )

    receiver = commands.add_parser("receiver", help="run the webhook receiver")
    receiver.add_argument("--host", default=os.environ.get("KUBEDORA_RECEIVER_HOST", "127.0.0.1"))
    receiver.add_argument(
        "--port", type=int, default=int(os.environ.get("KUBEDORA_RECEIVER_PORT", "8080"))
    )
    receiver.add_argument(
        "--namespace", "-n", default=None, help="where to write Failures and Deployments"
    )
    return parser


def home_namespace(args: argparse.Namespace) -> str | None:
    """Where the operator records rollouts: the first --namespace, else
    $KUBEDORA_NAMESPACE or the pod's namespace (what the receiver writes to)."""
    given: list[str] = args.namespace or []
    return given[0] if given else _default_namespace()


def run_operator(args: argparse.Namespace) -> int:
    import kopf

    import kubedora.handlers.registry  # noqa: F401  (registers the handlers)
    from kubedora.config import OperatorConfig
    from kubedora.handlers.runtime import surface_pauses
    from kubedora.handlers.web import parse_address
    from kubedora.k8s.peering import CheckFailed, Peering, check

    try:
        parse_address(args.http_address)
    except ValueError as error:
        print(f"kubedora operator: {error}", file=sys.stderr)
        return 2
    namespaces: list[str] = args.namespace or []
    if not args.all_namespaces and not namespaces:
        default = _default_namespace()
        if default is None:
            print("kubedora operator: pass --namespace NS or --all-namespaces", file=sys.stderr)
            return 2
        namespaces = [default]
    # The level on every line, so that a warning reads as one. kopf takes a
    # format string too (its signature names only the presets).
    log_format: Any = "%(levelname)s %(message)s"
    kopf.configure(verbose=args.verbose, log_format=log_format)
    surface_pauses(verbose=args.verbose)
    standalone: bool = args.standalone
    peering_name: str = args.peering or DEFAULT_PEERING
    if not standalone:
        peering = Peering(peering_name, () if args.all_namespaces else tuple(namespaces))
        try:
            missing = asyncio.run(check(peering))
        except CheckFailed as failed:
            print(
                f"kubedora operator: cannot check the peering {peering.kind} "
                f"{peering.name!r}: {failed}",
                file=sys.stderr,
            )
            return 1
        if missing is not None:
            # Without --peering, and with no peering CRD in the cluster, nobody
            # asked for HA: work alone, loudly. Otherwise peering was meant to
            # work, and two replicas falling back would both write: stop.
            if args.peering is None and missing.crd_missing:
                logging.getLogger("kubedora.operator").warning(
                    "Running standalone: %s. Run only one replica like this. For high "
                    "availability: %s, then pass --peering %s.",
                    missing.describe(),
                    missing.fix,
                    peering.name,
                )
                standalone = True
            else:
                print(
                    f"kubedora operator: {missing.describe()}. Fix: {missing.fix}; "
                    "or pass --standalone to run a single replica without peering.",
                    file=sys.stderr,
                )
                return 2
    asyncio.run(
        kopf.operator(
            clusterwide=args.all_namespaces,
            namespaces=namespaces,
            standalone=True if standalone else None,
            peering_name=None if standalone else peering_name,
            priority=args.priority if args.priority is not None else secrets.randbelow(2**31),
            liveness_endpoint=args.liveness,
            memo=kopf.Memo(
                config=OperatorConfig.from_env(
                    os.environ,
                    namespaces=None if args.all_namespaces else namespaces,
                    home_namespace=home_namespace(args),
                    http_address=args.http_address,
                    peering=not standalone,
                )
            ),
        )
    )
    return 0


def run_receiver(args: argparse.Namespace) -> int:
    from kubedora.config import ReceiverConfig
    from kubedora.receiver.app import serve

    namespace = args.namespace or _default_namespace() or "default"
    config = ReceiverConfig.from_env(os.environ, namespace=namespace)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(serve(args.host, args.port, config))
    return 0


def run_metrics(args: argparse.Namespace) -> int:
    from kubedora.k8s.client import list_dorasources
    from kubedora.report import SourceReport, render_json, render_table, render_trends

    async def fetch() -> list[SourceReport]:
        items = await list_dorasources(
            None if args.all_namespaces else args.namespace, all_namespaces=args.all_namespaces
        )
        return [
            SourceReport.model_validate(
                {
                    "namespace": item["metadata"]["namespace"],
                    "name": item["metadata"]["name"],
                    "spec": item.get("spec") or {},
                    "status": item.get("status") or {},
                }
            )
            for item in items
            if args.source is None or item["metadata"]["name"] == args.source
        ]

    boards = asyncio.run(fetch())
    if args.output == "json":
        print(render_json(boards))
    else:
        print(render_table(boards, breakdown=args.breakdown))
        if args.trend:
            print()
            print(render_trends(boards, breakdown=args.breakdown))
    return 0 if boards or args.source is None else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "operator":
        return run_operator(args)
    if args.command == "metrics":
        return run_metrics(args)
    return run_receiver(args)


if __name__ == "__main__":
    sys.exit(main())
