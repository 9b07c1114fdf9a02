"""URL normalisation as a reviewer would do it, and the agency's portal scope."""

from __future__ import annotations

import html
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.encoding import html_to_unicode
from w3lib.html import get_meta_refresh
from w3lib.url import safe_url_string

from crawler.settings import TRACKING_PARAMS

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_SCHEME_ONLY = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
# Schemes written without "//" that are never a portal's host name followed by a port.
_OTHER_SCHEME = re.compile(r"^(javascript|vbscript|data|mailto|tel|file|about|blob|ftp|ws|wss):", re.I)
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9-]{0,61}[a-z0-9])?$")

# Paths that are a portal's home page on the common platforms (NukeViet, WordPress, SharePoint, Joomla, Liferay).
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


DEFAULT_PORTS = {"http": 80, "https": 443}
# RFC 3986 unreserved characters: %XX of one of these is the character itself (section 6.2.2.2).
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
# What a server may also read as a slash in a path: an encoded slash or backslash (nginx, IIS, Tomcat).
_ENCODED_SLASH = re.compile(r"%(2[Ff]|5[Cc])")
# WHATWG URL: tabs and newlines anywhere are dropped, C0 controls and spaces around are trimmed.
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
_C0_OR_SPACE = "".join(chr(c) for c in range(0x21))
# A host whose last label is a number is an IPv4 address to a resolver or a browser ("0x7f.1", "127.1").
_NUMERIC_LABEL = re.compile(r"^(0[xX][0-9A-Fa-f]*|[0-9]+)$")
_DIGITS = {8: frozenset("01234567"), 10: frozenset("0123456789"), 16: frozenset("0123456789abcdef")}


def normalise_url(raw: str, *, default_scheme: str = "http") -> str:
    """A reported URL made fetchable: scheme added, then the wire form (`wire_url`): host canonical,
    default port, credentials and fragment dropped, dot segments resolved; tracking parameters dropped.
    Raises BadURL."""
    text = (raw or "").strip().strip("<>\"'")
    if not text:
        raise BadURL("empty URL")
    if any(ch.isspace() for ch in text):
        raise BadURL(f"{raw!r} contains white space")
    if _OTHER_SCHEME.match(text):
        raise BadURL(f"{raw!r}: only http and https links can be checked")
    if text.startswith("//"):
        text = f"{default_scheme}:{text}"
    elif not _SCHEME.match(text):
        text = f"{default_scheme}://{text}"
    if _SCHEME.match(text).group(0)[:-3].lower() not in DEFAULT_PORTS:
        raise BadURL(f"{raw!r}: only http and https links can be checked")
    try:
        url = wire_url(text)
    except BadURL as exc:
        raise BadURL(f"{raw!r}: {exc}") from None
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, _clean_query(parts.query), ""))


@lru_cache(maxsize=8192)
def wire_url(url: str) -> str:
    """The absolute http(s) URL exactly as it is sent and as its server will read it, read the way a browser
    reads it (WHATWG: tabs and newlines dropped, a backslash is a slash): scheme and host lower-cased, the host
    IDNA-encoded, without a trailing dot, an IPv4 address in any form a resolver takes ("0x7f.1", "127.1",
    "0177.0.0.1", "2130706433") written as a dotted quad; the default port, credentials and fragment dropped;
    percent-encoded unreserved characters decoded ("%2e" is "."), then dot segments removed (RFC 3986 5.2.4).
    Ownership is decided on this URL, and this URL is what both fetch paths send. Raises BadURL."""
    text = _TAB_OR_NEWLINE.sub("", url or "").strip(_C0_OR_SPACE)
    try:
        safe = safe_url_string(text)
        parts = urlsplit(safe)
        port = parts.port
    except (ValueError, UnicodeError) as exc:
        raise BadURL(str(exc)) from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise BadURL(f"{scheme + ':' if scheme else 'no scheme'} is not http or https")
    host = canonical_host(parts.hostname or "")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = _remove_dot_segments(_decode_unreserved(parts.path or "/"))
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def canonical_host(host: str) -> str:
    """A host name as compared and sent: lower case, IDNA-encoded, no trailing dot, an IP address in its
    standard form (IPv6 without brackets). Raises BadURL for what no resolver would take."""
    name = (host or "").strip().strip("[]")
    if name.endswith("."):
        name = name[:-1]
    if not name:
        raise BadURL("no host name")
    if ":" in name:
        try:
            addr = ipaddress.IPv6Address(name)
        except ValueError:
            raise BadURL(f"invalid IPv6 address {host!r}") from None
        if addr.ipv4_mapped is not None:      # in hex, as URLs write it (Python 3.13's str() writes ::ffff:1.2.3.4)
            high, low = int.from_bytes(addr.packed[12:14], "big"), int.from_bytes(addr.packed[14:], "big")
            return f"::ffff:{high:x}:{low:x}"
        return str(addr)
    try:
        name = name.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise BadURL(f"invalid host name {host!r}") from None
    if _NUMERIC_LABEL.match(name.rsplit(".", 1)[-1]):
        addr = parse_ipv4(name)
        if addr is None:
            raise BadURL(f"invalid IPv4 address {host!r}")
        return str(addr)
    if not _HOST.match(name) or ("." not in name and name != "localhost"):
        raise BadURL(f"invalid host name {host!r}")
    return name


def parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a resolver reads in host (inet_aton: 1 to 4 parts, each decimal, 0x-hex or 0-octal,
    the last filling the remaining bytes: "127.1", "0x7f.1", "0177.0.0.1", "2130706433"), or None."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = []
    for part in parts:
        if part[:2].lower() == "0x":
            digits, base = part[2:] or "0", 16
        elif len(part) > 1 and part.startswith("0"):
            digits, base = part[1:], 8
        else:
            digits, base = part, 10
        if not digits or not set(digits.lower()) <= _DIGITS[base]:
            return None
        values.append(int(digits, base))
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        return None
    number = last
    for i, v in enumerate(head):
        number += v << (8 * (3 - i))
    return ipaddress.IPv4Address(number)


def _decode_unreserved(path: str) -> str:
    """%XX of an unreserved character decoded, other escapes in upper case (RFC 3986 6.2.2)."""
    def one(m: re.Match) -> str:
        ch = chr(int(m.group(1), 16))
        return ch if ch in _UNRESERVED else "%" + m.group(1).upper()
    return _PERCENT.sub(one, path)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4 on an absolute path: "/a/b/../c" -> "/a/c", "/a/./b/.." -> "/a/"."""
    out: list[str] = []
    segments = path.split("/")[1:] if path.startswith("/") else path.split("/")
    for segment in segments:
        if segment == "..":
            if out:
                out.pop()
        elif segment != ".":
            out.append(segment)
    if segments and segments[-1] in (".", ".."):
        out.append("")
    return "/" + "/".join(out)


def server_path(path: str) -> str:
    """The path of a wire URL as the most lenient server reads it: an encoded slash or backslash is a slash
    too ("..%2f" climbs), dot segments removed again."""
    return _remove_dot_segments(_ENCODED_SLASH.sub("/", path))


def _clean_query(query: str) -> str:
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if k.lower() not in TRACKING_PARAMS and not k.lower().startswith("utm_")]
    return urlencode(kept, doseq=True) if len(kept) != len(pairs) else query


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def bare_host(host: str) -> str:
    """The host without its `www.` twin prefix."""
    return host[4:] if host.startswith("www.") else host


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address host names literally, in any form a resolver reads (see parse_ipv4), or None."""
    name = (host or "").strip().strip("[]").lower()
    if name.endswith(".") and ":" not in name:
        name = name[:-1]
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    if name and _NUMERIC_LABEL.match(name.rsplit(".", 1)[-1]):
        return parse_ipv4(name)
    return None


def literal_private_ip(host: str) -> bool:
    """True when host is, literally, a private, loopback, link-local or reserved address in any form a
    resolver reads ("0x7f.1", "2130706433", "[::ffff:127.0.0.1]"), or a localhost name."""
    addr = ip_literal(host)
    if addr is None:
        name = (host or "").strip().lower().rstrip(".")
        return name == "localhost" or name.endswith(".localhost")
    return not _is_public(addr)


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_V4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def _is_public(addr) -> bool:
    """A global address, and for IPv6 one whose embedded IPv4 address (mapped, compatible, 6to4, NAT64,
    Teredo) is global too."""
    if isinstance(addr, ipaddress.IPv6Address):
        embedded = [addr.ipv4_mapped, addr.sixtofour, *(addr.teredo or ())]
        if addr in _NAT64 or addr in _V4_COMPATIBLE:
            embedded.append(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
        if any(e is not None and not e.is_global for e in embedded):
            return False
    return addr.is_global


@dataclass(frozen=True)
class Portal:
    """One registered portal: a host (and its www. twin), its port (None: the scheme's default port, for http
    and https alike) and optionally a path prefix (case-sensitive, as paths are on most servers)."""

    scheme: str
    host: str          # bare, without www.
    port: int | None
    prefix: str        # "" or "/web/hoa-an"

    @classmethod
    def parse(cls, raw: str) -> Portal:
        url = normalise_url(raw, default_scheme="https")
        parts = urlsplit(url)
        prefix = parts.path.rstrip("/")
        return cls(parts.scheme, bare_host(parts.hostname or ""), parts.port, prefix)

    @property
    def root(self) -> str:
        port = f":{self.port}" if self.port else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}{port}{self.prefix or ''}/"

    def owns(self, url: str) -> bool:
        """Is url on this portal, read as it is sent (`wire_url`): the same host or its www. twin, the same port
        (a scheme's default port is no port), and a path under the prefix both as sent and as a lenient server
        reads it ("/web/hoa-an/..%2fthach-an" is not under "/web/hoa-an")?"""
        try:
            parts = urlsplit(wire_url(url))
        except BadURL:
            return False
        if bare_host(parts.hostname or "") != self.host or parts.port != self.port:
            return False
        if not self.prefix:
            return True
        return _under(parts.path, self.prefix) and _under(server_path(parts.path), self.prefix)

    def serves_robots(self, url: str) -> bool:
        """Is url exactly this portal's host's robots.txt (any path prefix aside), with no query?"""
        try:
            parts = urlsplit(wire_url(url))
        except BadURL:
            return False
        return (bare_host(parts.hostname or "") == self.host and parts.port == self.port
                and parts.path == "/robots.txt" and not parts.query)


def robots_hop(first: str, url: str) -> bool:
    """May a robots.txt request that started at `first` go to url: the robots.txt (no query) of the same host
    (www. twin folded) and port? A robots.txt is never read off the host it was asked of."""
    try:
        a, b = urlsplit(wire_url(first)), urlsplit(wire_url(url))
    except BadURL:
        return False
    return (bare_host(a.hostname or "") == bare_host(b.hostname or "") and a.port == b.port
            and b.path == "/robots.txt" and not b.query)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


@dataclass(frozen=True)
class Scope:
    """The agency's own portal(s): the only URLs that may be fetched for it."""

    portals: tuple[Portal, ...]

    @classmethod
    def parse(cls, portals: str) -> Scope:
        """`portals` is one or more registered portal URLs separated by spaces."""
        items = [p for p in (portals or "").replace(",", " ").split() if p]
        if not items:
            raise BadURL("no portal URL")
        return cls(tuple(Portal.parse(p) for p in items))

    def owns(self, url: str) -> bool:
        return any(p.owns(url) for p in self.portals)

    def serves_robots(self, url: str) -> bool:
        """Is url the robots.txt of one of the portals' hosts (see Portal.serves_robots)?"""
        return any(p.serves_robots(url) for p in self.portals)

    def portal_for(self, url: str) -> Portal | None:
        return next((p for p in self.portals if p.owns(url)), None)

    def default_scheme(self, raw: str) -> str:
        """The scheme a scheme-less reported link gets: the registered portal's, else http."""
        try:
            host = bare_host(canonical_host(urlsplit("//" + raw.strip().split("://")[-1]).hostname or ""))
        except (BadURL, ValueError):
            return "http"
        portal = next((p for p in self.portals if p.host == host), None)
        return portal.scheme if portal else "http"

    def is_home(self, url: str) -> bool:
        """True when url is the home page of one of the portals (or of its host)."""
        portal = self.portal_for(url)
        return is_home_url(url, portal.prefix if portal else "")

    @classmethod
    def on_host(cls, url: str) -> Scope:
        """The scope of one host of url (its scheme, host and port, no prefix): where a link on a host the
        rulebook allows for a criterion is read, and nothing beyond it."""
        parts = urlsplit(wire_url(url))
        return cls((Portal(parts.scheme, bare_host(parts.hostname or ""), parts.port, ""),))


def allowed_host(url: str, hosts: Iterable[str]) -> str | None:
    """The entry of `hosts` (rulebook `allowed_hosts`: "dichvucong.gov.vn", or "*.example.vn" for its
    subdomains) that url's host matches, its www. twin folded and any port; None when none does."""
    try:
        host = bare_host(urlsplit(wire_url(url)).hostname or "")
    except BadURL:
        return None
    for entry in hosts:
        if entry.startswith("*."):
            if host.endswith(entry[1:]) and host != entry[2:]:
                return entry
        elif host == bare_host(entry):
            return entry
    return None


def is_home_url(url: str, prefix: str = "") -> bool:
    """A portal's home page: '/', '/index.php', '/trang-chu', a Liferay site root, ..."""
    parts = urlsplit(url)
    path = parts.path or "/"
    if prefix and path.lower().rstrip("/") in (prefix.lower(), prefix.lower() + "/trang-chu", prefix.lower() + "/home"):
        return _home_query(parts.query)
    if not _HOME_PATHS.match(path) and (prefix or not _LIFERAY_SITE.match(path)):
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


# -- redirects: one reading of a Location or a meta refresh for both fetch paths

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# How much of a page is searched for a meta refresh: a browser honours one anywhere, so a portal cannot hide
# one behind padding (Scrapy read 4096 characters); listings are far smaller than this.
_REFRESH_SCAN = 1024 * 1024


@dataclass(frozen=True)
class Hop:
    """Where a response sends its reader next: `url` (wire form) with `method`, or `refused` saying why the
    target cannot be fetched at all (not http or https, no host, an address no resolver takes)."""

    url: str | None
    method: str
    reason: str                 # "302", "refresh"
    refused: str | None = None


def next_hop(url: str, method: str, status: int, location: str | None, content_type: str | None, body: bytes,
             *, refresh_max_delay: float, refresh: str | None = None) -> Hop | None:
    """The redirect a response makes, or None when it is the final response: a 3xx with a Location; else a
    refresh of less than `refresh_max_delay` seconds to another page, from the `Refresh` header or an HTML
    page's <meta http-equiv="refresh"> (anywhere in its first _REFRESH_SCAN characters, not inside <script> or
    <noscript>), as a reader's browser follows them. The method changes to GET as browsers do: after a 303,
    a POST's 301/302, and a refresh. `url` is in wire form."""
    if status in REDIRECT_STATUSES and location is not None and location.strip():
        get = status == 303 and method != "HEAD" or status in (301, 302) and method == "POST"
        return _hop(lambda: redirect_target(url, location), location, "GET" if get else method, str(status))
    if method == "HEAD":
        return None
    interval, target = None, None
    if refresh and refresh.strip():
        interval, target = get_meta_refresh(f'<meta http-equiv="refresh" content="{html.escape(refresh)}">', url)
    if target is None and body and (not content_type or "html" in content_type.lower()):
        _, text = html_to_unicode(content_type, body)
        interval, target = get_meta_refresh(text[:_REFRESH_SCAN], url, ignore_tags=("script", "noscript"))
    if target is None or interval >= refresh_max_delay:
        return None
    hop = _hop(lambda: wire_url(target), target, "GET", "refresh")
    return None if hop.url == url else hop       # a page that reloads itself is read as it is


def _hop(target, raw: str, method: str, reason: str) -> Hop:
    try:
        return Hop(target(), method, reason)
    except BadURL as exc:
        shown = raw if len(raw) <= 200 else raw[:200] + "…"
        return Hop(None, method, reason, refused=f"a redirect ({reason}) to {shown!r} leaves the portal: {exc}")


def redirect_target(base: str, location: str) -> str:
    """The wire URL a Location header leads to from base, read as a browser reads it (tabs and newlines
    dropped, backslashes before the query are slashes). Raises BadURL."""
    text = _TAB_OR_NEWLINE.sub("", location).strip(_C0_OR_SPACE)
    head, sep, tail = text.partition("?")
    scheme = _SCHEME_ONLY.match(head)
    if scheme is not None and scheme.group(1).lower() not in DEFAULT_PORTS:
        return wire_url(text)              # javascript:, data:, file:...: raises BadURL
    text = head.replace("\\", "/") + sep + tail
    if scheme is not None:
        # "http:///x" names the host x and "http:/x" (same scheme as base) is a path, as browsers read them
        name, rest = scheme.group(1).lower(), text[scheme.end():]
        if rest.startswith("//") or name != urlsplit(base).scheme:
            return wire_url(f"{name}://{rest.lstrip('/')}")
        text = rest
    return wire_url(urljoin(base, text))
