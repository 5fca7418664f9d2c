"""The keys catalog entries are found by, and how values are normalised into them.

Three kinds of key, one namespace-free space (the catalog spans the cluster):

- ``("service", name)`` and ``("team", name)``: names are compared
  case-insensitively with surrounding and repeated whitespace ignored
  (``" Checkout  API"`` finds ``"checkout api"``).
- ``("pagerduty-url", url)``: see :func:`normalize_pagerduty_url`.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import urlsplit

CatalogKey = tuple[str, str]

SERVICE: Final = "service"
TEAM: Final = "team"
PAGERDUTY_URL: Final = "pagerduty-url"

_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# PagerDuty's web UI shows a service at /service-directory/<ID>; webhooks and
# the REST API give its html_url as /services/<ID>. Both name one service.
_SERVICE_DIRECTORY = re.compile(r"^/service-directory/([^/]+)$")


def normalize_name(name: str) -> str:
    folded = " ".join(name.split()).casefold()
    # The same string object when nothing changed: keys then share the
    # entry's strings instead of holding equal copies.
    return name if folded == name else folded


def normalize_pagerduty_url(url: str) -> str | None:
    """The form two PagerDuty service URLs are compared in, or None when
    `url` is not an absolute http(s) URL with a host.

    - ``http`` and ``https`` are the same (PagerDuty serves only https);
    - the host is lower-cased and a default port dropped;
    - the path is lower-cased (PagerDuty ids are upper-case letters and
      digits, so case never tells two services apart) and trailing slashes
      are stripped;
    - the query and fragment are dropped;
    - ``/service-directory/<ID>`` is read as ``/services/<ID>``.

    So ``HTTPS://Acme.PagerDuty.com/service-directory/PF9KMXH/?tab=x`` and
    ``https://acme.pagerduty.com/services/PF9KMXH`` are equal.
    """
    text = url.strip()
    if not text or any(ch.isspace() for ch in text):
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:  # an unbalanced IPv6 bracket or a port that is not a number
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname  # already lower-cased
    if scheme not in _DEFAULT_PORTS or not host or not _HOST.match(host):
        return None
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    path = parts.path.rstrip("/").lower()
    directory = _SERVICE_DIRECTORY.match(path)
    if directory:
        path = f"/services/{directory.group(1)}"
    return f"https://{host}{path}"


def service_key(name: str) -> CatalogKey:
    return (SERVICE, normalize_name(name))


def team_key(name: str) -> CatalogKey:
    return (TEAM, normalize_name(name))


def url_key(url: str) -> CatalogKey | None:
    normalized = normalize_pagerduty_url(url)
    return None if normalized is None else (PAGERDUTY_URL, normalized)
