"""Run the receiver until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiohttp import web

from kubedora.k8s.client import connect
from kubedora.receiver import logs
from kubedora.receiver.app import create_app
from kubedora.receiver.settings import ReceiverSettings

log = logging.getLogger("kubedora.receiver")


async def serve(host: str, port: int, namespace: str) -> None:
    logs.configure()
    api = await connect()
    try:
        app = create_app(api, ReceiverSettings(namespace=namespace))
        # No access log: every request that reaches a route logs one JSON
        # line of its own, with the ids an access log would not have.
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        log.info("receiver listening on http://%s:%d for namespace %s", host, port, namespace)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await runner.cleanup()
    finally:
        await api.close()
