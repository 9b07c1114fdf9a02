"""URL normalisation as a reviewer would do it, and the agency's portal scope."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import safe_url_string

from crawler.settings import TRACKING_PARAMS

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9-]{0,61}[a-z0-9])?$")

# Paths that are a portal's home page on the platforms DOMAIN.md lists.
_HOME_PATHS = re.compile(
    r"^/?(index\.(php|html?|aspx?|jsp)|default\.aspx?|home(page)?|trang-?chu(\.html?)?|"
    r"pages/(home|default|trangchu)\.aspx|portal(/pages/default\.aspx)?|vi|vn|vi-vn|web/guest(/home)?|"
    r"web/guest/trang-chu)?/?$",
    re.IGNORECASE,
)
_HOME_QUERY_KEYS = {"language", "lang", "l", "nv"}
_LIFERAY_SITE = re.compile(r"^/web/([^/]+)/?(trang-chu|home)?/?$", re.IGNORECASE)


class BadURL(ValueError):
    """Malformed URL"""


def normalise_url(raw: str, *, default_scheme: str = "http") -> str:
    """A reported URL made fetchable: scheme added, host lower-cased and IDNA-encoded,
    default port, fragment and tracking parameters dropped. Raises BadURL."""
    text = (raw or "").strip().strip("<>\"'")
    if not text:
        raise BadURL("empty URL")
    if any(ch.isspace() for ch in text):
        raise BadURL(f"{raw!r} contains white space")
    if text.startswith("//"):
        text = f"{default_scheme}:{text}"
    elif not _SCHEME.match(text):
        text = f"{default_scheme}://{text}"
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https"):
        raise BadURL(f"{raw!r}: only http and https links can be checked")
    try:
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError as exc:
        raise BadURL(f"{raw!r}: {exc}") from None
    if not host:
        raise BadURL(f"{raw!r} has no host name")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise BadURL(f"{raw!r}: invalid host name") from None
    if not (_HOST.match(host) or _is_ip(host)) or ("." not in host and host != "localhost" and not _is_ip(host)):
        raise BadURL(f"{raw!r}: invalid host name {host!r}")
    scheme = parts.scheme.lower()
    netloc = host if _is_ipv4_or_name(host) else f"[{host}]"
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        netloc = f"{netloc}:{port}"
    query = _clean_query(parts.query)
    path = parts.path or "/"
    return safe_url_string(urlunsplit((scheme, netloc, path, query, "")))


def _clean_query(query: str) -> str:
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if k.lower() not in TRACKING_PARAMS and not k.lower().startswith("utm_")]
    return urlencode(kept, doseq=True) if len(kept) != len(pairs) else query


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def _is_ipv4_or_name(host: str) -> bool:
    return ":" not in host


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def bare_host(host: str) -> str:
    """The host without its `www.` twin prefix."""
    return host[4:] if host.startswith("www.") else host


def literal_private_ip(host: str) -> bool:
    """True when host is an IP literal in a private, loopback, link-local or reserved range."""
    try:
        addr = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host == "localhost" or host.endswith(".localhost")
    return not addr.is_global


@dataclass(frozen=True)
class Portal:
    """One registered portal: a host (and its www. twin) and optionally a path prefix."""

    scheme: str
    host: str          # bare, without www.
    port: int | None
    prefix: str        # "" or "/web/hoa-an"

    @classmethod
    def parse(cls, raw: str) -> "Portal":
        url = normalise_url(raw, default_scheme="https")
        parts = urlsplit(url)
        prefix = parts.path.rstrip("/")
        return cls(parts.scheme, bare_host(parts.hostname or ""), parts.port, prefix)

    @property
    def root(self) -> str:
        port = f":{self.port}" if self.port else ""
        return f"{self.scheme}://{self.host}{port}{self.prefix or ''}/"

    def owns(self, url: str) -> bool:
        parts = urlsplit(url)
        if bare_host((parts.hostname or "").lower()) != self.host:
            return False
        if self.port and parts.port not in (self.port, None):
            return False
        if not self.prefix:
            return True
        path = parts.path or "/"
        return path == self.prefix or path.startswith(self.prefix + "/") or path.lower().startswith(self.prefix.lower() + "/") or path.lower() == self.prefix.lower()


@dataclass(frozen=True)
class Scope:
    """The agency's own portal(s): the only URLs that may be fetched for it."""

    portals: tuple[Portal, ...]

    @classmethod
    def parse(cls, portals: str) -> "Scope":
        """`portals` is one or more registered portal URLs separated by spaces."""
        items = [p for p in (portals or "").replace(",", " ").split() if p]
        if not items:
            raise BadURL("no portal URL")
        return cls(tuple(Portal.parse(p) for p in items))

    def owns(self, url: str) -> bool:
        return any(p.owns(url) for p in self.portals)

    def portal_for(self, url: str) -> Portal | None:
        return next((p for p in self.portals if p.owns(url)), None)

    def default_scheme(self, raw: str) -> str:
        """The scheme a scheme-less reported link gets: the registered portal's, else http."""
        host = bare_host((urlsplit("//" + raw.strip().split("://")[-1]).hostname or "").lower())
        portal = next((p for p in self.portals if p.host == host), None)
        return portal.scheme if portal else "http"

    def is_home(self, url: str) -> bool:
        """True when url is the home page of one of the portals (or of its host)."""
        portal = self.portal_for(url)
        return is_home_url(url, portal.prefix if portal else "")


def is_home_url(url: str, prefix: str = "") -> bool:
    """A portal's home page: '/', '/index.php', '/trang-chu', a Liferay site root, ..."""
    parts = urlsplit(url)
    path = parts.path or "/"
    if prefix and path.lower().rstrip("/") in (prefix.lower(), prefix.lower() + "/trang-chu", prefix.lower() + "/home"):
        return _home_query(parts.query)
    if not _HOME_PATHS.match(path):
        if prefix or not _LIFERAY_SITE.match(path):
            return False
    return _home_query(parts.query)


def _home_query(query: str) -> bool:
    keys = {k.lower() for k, _ in parse_qsl(query, keep_blank_values=True)}
    if not keys:
        return True
    if "nv" in keys:  # NukeViet: index.php?nv=news is the news module's front, not home
        return False
    return keys <= _HOME_QUERY_KEYS


# A page number at the end of a path or a query value ("/page/2", "op=tin-hoat-dong/page-9"), and the
# query keys that carry one.
_PAGE_TAIL = re.compile(r"/(?:page|trang)[-/]?\d+/?$", re.I)
_PAGE_KEYS = frozenset({"page", "paged", "trang", "pageindex", "start", "limitstart", "p_page"})


def first_page(url: str) -> str:
    """The URL of a listing's first page, from any of its pages: page numbers dropped from the end of the path,
    from the end of query values and as query keys ("/page/2/", "?paged=2", "op=tin-hoat-dong/page-9")."""
    parts = urlsplit(url)
    path = _PAGE_TAIL.sub("", parts.path) or "/"
    if path != parts.path and parts.path.endswith("/") and not path.endswith("/"):
        path += "/"
    query = [(k, _PAGE_TAIL.sub("", v)) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in _PAGE_KEYS]
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query), ""))


def is_above(upper: str, lower: str) -> bool:
    """Is `upper` a page above `lower` on the same host: its path a proper parent of lower's
    ("/chuyen-muc/" above "/chuyen-muc/x/"), or the same path with fewer query parameters
    ("index.php?nv=news" above "index.php?nv=news&op=x")?"""
    pu, pl = urlsplit(upper), urlsplit(lower)
    if not _same_host(pu, pl):
        return False
    up, low = pu.path.rstrip("/"), pl.path.rstrip("/")
    qu, ql = set(parse_qsl(pu.query)), set(parse_qsl(pl.query))
    # a later page of a listing sent back to its first page is the listing itself, not a page above it
    first = urlsplit(first_page(lower))
    if (up, qu) == (first.path.rstrip("/"), set(parse_qsl(first.query))):
        return False
    if up == low:
        return qu < ql
    return low.startswith(up + "/") and qu <= ql


def under(url: str, listing: str) -> bool:
    """Does url live under the listing's own address: below its path ("/tin-hoat-dong/x.html" under
    "/tin-hoat-dong/"), or with its query and a value extended by a path ("op=du-an-dau-tu/x.html")?"""
    pu, pl = urlsplit(url), urlsplit(first_page(listing))
    if not _same_host(pu, pl):
        return False
    base = pl.path.rstrip("/")
    if not pl.query:
        return bool(base) and pu.path.startswith(base + "/") and pu.path.rstrip("/") != base
    if pu.path != pl.path:
        return False
    mine, theirs = dict(parse_qsl(pl.query)), dict(parse_qsl(pu.query))
    return theirs != mine and all(theirs.get(k) == v or (theirs.get(k) or "").startswith(v + "/")
                                  for k, v in mine.items())


def _same_host(a, b) -> bool:
    """Two split URLs on one host, the www. twin folded."""
    return bare_host((a.hostname or "").lower()) == bare_host((b.hostname or "").lower())


def same_page(a: str, b: str) -> bool:
    """Equal after folding the www. twin, trailing slash and query order."""
    pa, pb = urlsplit(a), urlsplit(b)
    return (
        _same_host(pa, pb)
        and (pa.path.rstrip("/") or "/") == (pb.path.rstrip("/") or "/")
        and sorted(parse_qsl(pa.query)) == sorted(parse_qsl(pb.query))
    )
