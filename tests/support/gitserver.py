"""A real git server on loopback for tests and `make run`: smart HTTP through
`git http-backend` behind a small threaded HTTP server, and repositories
whose commits are dated to the second.

The server records every request it gets (path and Authorization header),
so a test can tell that a host kubedora must not contact was not contacted,
and can require a token."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

# Git reads no config of the machine or the user running the tests.
CLEAN_GIT = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_TERMINAL_PROMPT": "0",
}


def git(*args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **CLEAN_GIT, **(env or {})},
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


@dataclass
class Seen:
    path: str
    authorization: str | None


@dataclass
class GitServer:
    root: Path
    host: str
    port: int
    token: str | None = None
    seen: list[Seen] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def url(self, name: str) -> str:
        return f"http://{self.address}/{name}.git"

    def bare(self, name: str) -> Path:
        """A new empty repository the server serves (partial clones allowed)."""
        path = self.root / f"{name}.git"
        git("init", "--quiet", "--bare", "--initial-branch=main", str(path))
        self.allow(path)
        return path

    def allow(self, path: Path) -> None:
        git("config", "uploadpack.allowFilter", "true", cwd=path)
        git("config", "uploadpack.allowAnySHA1InWant", "true", cwd=path)
        git("config", "http.receivepack", "true", cwd=path)


class _Handler(BaseHTTPRequestHandler):
    server_state: GitServer

    def log_message(self, format: str, *args: object) -> None:
        del format, args  # quiet: tests read `seen`

    def do_GET(self) -> None:
        self._backend()

    def do_POST(self) -> None:
        self._backend()

    def _backend(self) -> None:
        state = self.server_state
        authorization = self.headers.get("Authorization")
        state.seen.append(Seen(self.path, authorization))
        if state.token is not None and authorization != state.token:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.end_headers()
            return
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        environment = {
            **os.environ,
            **CLEAN_GIT,
            "GIT_PROJECT_ROOT": str(state.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": parts.path,
            "QUERY_STRING": parts.query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_USER": "test",
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
        }
        result = subprocess.run(
            ["git", "http-backend"], input=body, env=environment, capture_output=True, check=False
        )
        head, _, payload = result.stdout.partition(b"\r\n\r\n")
        status = 200
        headers: list[tuple[str, str]] = []
        for line in head.decode(errors="replace").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split(" ", 1)[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@contextmanager
def serving(root: Path, *, token: str | None = None) -> Iterator[GitServer]:
    """Serve the repositories under root on 127.0.0.1 (a free port)."""
    root.mkdir(parents=True, exist_ok=True)

    class Handler(_Handler):
        pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = GitServer(root=root, host="127.0.0.1", port=server.server_address[1], token=token)
    Handler.server_state = state
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


class WorkTree:
    """A working repository whose commits carry the dates a test gives."""

    def __init__(self, path: Path, remote: str | None = None) -> None:
        self.path = path
        git("init", "--quiet", "--initial-branch=main", str(path))
        git("config", "user.name", "Dev", cwd=path)
        git("config", "user.email", "dev@example.com", cwd=path)
        if remote:
            git("remote", "add", "origin", remote, cwd=path)

    def _dated(self, at: datetime) -> dict[str, str]:
        stamp = f"{int(at.timestamp())} +0000"
        return {"GIT_COMMITTER_DATE": stamp, "GIT_AUTHOR_DATE": stamp}

    def commit(self, message: str, at: datetime) -> str:
        git("commit", "--quiet", "--allow-empty", "-m", message, cwd=self.path, env=self._dated(at))
        return self.head()

    def branch(self, name: str, start: str = "HEAD") -> None:
        git("checkout", "--quiet", "-B", name, start, cwd=self.path)

    def merge(self, branch: str, at: datetime) -> str:
        git(
            "merge", "--quiet", "--no-ff", "-m", f"Merge {branch}", branch,
            cwd=self.path, env=self._dated(at),
        )  # fmt: skip
        return self.head()

    def reset(self, commit: str) -> None:
        git("reset", "--quiet", "--hard", commit, cwd=self.path)

    def head(self) -> str:
        return git("rev-parse", "HEAD", cwd=self.path)

    def push(self, *, force: bool = False) -> None:
        git("push", "--quiet", *(["--force"] if force else []), "origin", "main", cwd=self.path)

    def rev_list(self, base: str, head: str) -> list[tuple[str, int]]:
        """The reference: `git rev-list --no-merges` with committer times."""
        out = git("log", "--no-merges", "--format=%H %ct", f"{base}..{head}", cwd=self.path)
        return [(sha, int(ct)) for sha, ct in (line.split() for line in out.splitlines())]


def fast_import(
    path: Path,
    count: int,
    *,
    start: datetime,
    step_seconds: int = 60,
    branch: str = "main",
    files: int = 0,
) -> list[str]:
    """`count` empty commits in a line on `branch` of the repository at path,
    the first at `start`, one every step: fast enough for 100,000. Returns
    the commit ids, oldest first. With `files`, each commit also rewrites one
    of that many files (so that a clone has blobs to leave out)."""
    first = int(start.timestamp())
    lines: list[str] = []
    for index in range(count):
        when = first + index * step_seconds
        message = f"change {index}\n"
        lines.append(f"commit refs/heads/{branch}")
        lines.append(f"mark :{index + 1}")
        lines.append(f"committer Dev <dev@example.com> {when} +0000")
        lines.append(f"data {len(message.encode())}")
        lines.append(message.rstrip("\n"))
        if index:
            lines.append(f"from :{index}")
        if files:
            content = f"line {index}\n" * 20
            lines.append(f"M 644 inline src/file{index % files}.txt")
            lines.append(f"data {len(content.encode())}")
            lines.append(content)
        lines.append("")
    marks = path / "fast-import.marks"
    subprocess.run(
        ["git", "fast-import", "--quiet", f"--export-marks={marks}"],
        cwd=path,
        input="\n".join(lines).encode() + b"\n",
        env={**os.environ, **CLEAN_GIT},
        check=True,
    )
    by_mark = dict(line.split() for line in marks.read_text().splitlines())
    marks.unlink()
    return [by_mark[f":{index + 1}"] for index in range(count)]
