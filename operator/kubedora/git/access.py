"""Which repositories kubedora may fetch, and how: the host allow-list of
the DoraSources, the cache key of a repository URL, and the environment a
git process runs with (credentials, no prompts, no redirects, no config
of the machine).

A URL whose host is not allowed never reaches git: no network call is made."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from kubedora.models import GitHost

# Over these only; git's other transports (ext::, file, ssh) are refused.
SCHEMES = ("https", "http")
_DEFAULT_PORTS = {"https": 443, "http": 80}
_UNSAFE = re.compile(r"[^a-z0-9]+")


class NotAllowed(ValueError):
    """The repository URL may not be fetched; the message says why."""


@dataclass(frozen=True, slots=True)
class Repository:
    """A repository URL as kubedora fetches it (credentials stripped)."""

    url: str
    host: str  # host[:port], lower case; the port only when not the default
    path: str

    @property
    def key(self) -> str:
        """The cache directory's name: readable, and unique per repository."""
        identity = f"{self.host}/{self.path}".lower()
        digest = hashlib.sha256(identity.encode()).hexdigest()[:12]
        return f"{_UNSAFE.sub('-', identity).strip('-')[:80]}-{digest}"


def parse(url: str) -> Repository:
    """The repository of an http(s) URL; NotAllowed for anything else."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise NotAllowed(f"not a repository URL: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES or not parts.hostname:
        raise NotAllowed(f"only {' and '.join(SCHEMES)} repository URLs are fetched")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    path = parts.path.strip("/").removesuffix(".git")
    if not path:
        raise NotAllowed("the repository URL has no path")
    # Credentials in the URL are dropped: they come from the host's Secret.
    return Repository(url=f"{scheme}://{host}/{path}.git", host=host, path=path)


@dataclass(frozen=True)
class AllowList:
    """The hosts of every DoraSource in a namespace, each with its token."""

    hosts: Mapping[str, GitHost] = field(default_factory=dict)

    @classmethod
    def of(cls, hosts: Iterable[GitHost]) -> AllowList:
        found: dict[str, GitHost] = {}
        for entry in hosts:
            found.setdefault(_normal_host(entry.host), entry)
        return cls(found)

    def check(self, url: str) -> tuple[Repository, GitHost]:
        repository = parse(url)
        entry = self.hosts.get(repository.host)
        if entry is None:
            allowed = ", ".join(sorted(self.hosts)) or "none"
            raise NotAllowed(
                f"host {repository.host} is not in spec.git.hosts of any DoraSource here "
                f"(allowed: {allowed})"
            )
        return repository, entry


def _normal_host(host: str) -> str:
    # As parse() writes it: no default port.
    return host.strip().lower().removesuffix(":443").removesuffix(":80")


def git_environment(
    base: Mapping[str, str], *, username: str | None = None, token: str | None = None
) -> dict[str, str]:
    """The environment of a git process. The token goes in an HTTP header set
    through GIT_CONFIG_* variables: never on the command line (which other
    processes can read) and never in a URL (which git may print)."""
    settings = {
        # A redirect could lead to a host that is not allowed.
        "http.followRedirects": "false",
        # Commits dropped by a force-push stay for later deployments' ranges.
        "gc.auto": "0",
        "core.askPass": "",
        "credential.helper": "",
    }
    if token:
        pair = f"{username or 'x-access-token'}:{token}".encode()
        settings["http.extraHeader"] = f"Authorization: Basic {base64.b64encode(pair).decode()}"
    environment = {
        key: value
        for key, value in base.items()
        if key in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR")
    }
    environment |= {
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_ALLOW_PROTOCOL": ":".join(SCHEMES),
        "GIT_CONFIG_COUNT": str(len(settings)),
    }
    for index, (key, value) in enumerate(settings.items()):
        environment[f"GIT_CONFIG_KEY_{index}"] = key
        environment[f"GIT_CONFIG_VALUE_{index}"] = value
    return environment
