"""TLS as a browser would, for both fetch paths (part of the one transport policy, crawler.transport).

Before the first https request to an origin (host and port), one probe decides how it is fetched:

1. a handshake verified against the system's trust store (OpenSSL's default paths, so `SSL_CERT_FILE` and
   `SSL_CERT_DIR` too) and certifi's, the host name checked;
2. a chain the server sent incomplete ("unable to get local issuer certificate") is completed as browsers
   do: the issuer named by the leaf's AIA caIssuers URL is fetched (plain http, bounded in size and time,
   to a checked address or through the proxy) and the handshake verified again with it; the AIA URL is
   recorded;
3. a server that speaks only TLS 1.0 or 1.1 is tried again with the lowest protocol allowed, recorded;
4. when verification still fails (self-signed, expired, unknown issuer, another host's name), the origin is
   fetched without verification, once per run, and the problem is recorded: the page is judged on what it
   carries, and the verdict's evidence and hint say the certificate is not valid.

The decision pins the leaf certificate the probe saw (its SHA-256): a connection that then meets another
certificate fails, so what was verified (or found invalid) is what the page came over. The httpx path
connects with the decision's `ssl.SSLContext`; the crawl's context factory (crawler.spider) sets the
decision's protocol floor and the pin on its pyOpenSSL connection.
"""

from __future__ import annotations

import hashlib
import http.client
import socket
import ssl
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import certifi
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID

from crawler import transport as T
from crawler.proxy import proxy_for
from crawler.records import ERR_CONNECT, ERR_DNS, ERR_PRIVATE, ERR_TIMEOUT
from crawler.settings import USER_AGENT

AIA_MAX_BYTES = 64 * 1024        # a certificate is a few kilobytes
AIA_MAX_CERTS = 2                # issuers fetched for one chain (an intermediate, rarely its own issuer)
LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"   # OpenSSL 3 refuses TLS 1.0/1.1 above security level 0

# The evidence's words for a certificate found invalid; the hint reads the problem's code after them.
PROBLEM_WORDS = "TLS certificate not valid"
OLD_PROTOCOL_WORDS = "old TLS protocol"
AIA_WORDS = "TLS chain completed from the certificate's AIA URL"

# problem code -> OpenSSL verify codes (X509_V_ERR_*)
_PROBLEMS = {
    "expired": (9, 10),                     # not yet valid, has expired
    "self_signed": (18, 19),                # depth-zero self-signed, self-signed in chain
    "unknown_ca": (2, 20, 21),              # issuer unknown
    "hostname_mismatch": (62, 64),          # host name / IP address mismatch
}
_INCOMPLETE = (2, 20, 21)                   # what a missing intermediate looks like
_OLD_PROTOCOL_REASONS = ("UNSUPPORTED_PROTOCOL", "TLSV1_ALERT_PROTOCOL_VERSION", "NO_PROTOCOLS_AVAILABLE",
                         "WRONG_SSL_VERSION", "VERSION_TOO_LOW", "NO_CIPHERS_AVAILABLE",
                         "SSLV3_ALERT_HANDSHAKE_FAILURE")


class ProbeFailed(Exception):
    """No TLS connection could be made to the origin"""

    def __init__(self, error: str, detail: str):
        super().__init__(detail)
        self.error = error
        self.detail = detail


@dataclass(frozen=True)
class Decision:
    """How an https origin is fetched for the rest of the run, and what the evidence says of it."""

    host: str
    port: int
    leaf_sha256: str                       # hex digest of the DER leaf certificate the probe saw
    verified: bool = True
    problem: str = ""                      # a code of _PROBLEMS or "other" when not verified
    problem_detail: str = ""               # OpenSSL's words
    legacy: bool = False                   # only TLS 1.0/1.1 answered: the lowest protocol is allowed
    protocol: str = ""                     # as negotiated ("TLSv1.3", "TLSv1")
    aia_urls: tuple[str, ...] = ()         # issuers fetched to complete the chain
    issuers: tuple[bytes, ...] = field(default=(), repr=False)   # their DER, for the httpx path's context

    @property
    def note(self) -> str:
        """What the evidence records of the origin's TLS ('' when nothing is to be said)."""
        parts = []
        if not self.verified:
            parts.append(f"{PROBLEM_WORDS} ({self.problem}): {self.problem_detail}; the page was fetched "
                         "without verification")
        if self.legacy:
            parts.append(f"{OLD_PROTOCOL_WORDS}: the portal speaks only {self.protocol}, fetched with it")
        if self.aia_urls:
            parts.append(f"{AIA_WORDS} {', '.join(self.aia_urls)}")
        return "; ".join(parts)

    def ssl_context(self) -> ssl.SSLContext:
        """The context the httpx path connects with (verifying when the probe verified)."""
        return make_context(verify=self.verified, issuers=self.issuers, legacy=self.legacy)


def make_context(*, verify: bool = True, issuers: tuple[bytes, ...] = (), legacy: bool = False) -> ssl.SSLContext:
    """A client context: the system's trust store and certifi's, the given issuers to build chains with."""
    ctx = ssl.create_default_context(cafile=certifi.where())
    ctx.load_default_certs()
    for der in issuers:
        ctx.load_verify_locations(cadata=der)
    # an issuer fetched from AIA completes a chain; it is no trust anchor of its own (Python 3.13 sets this flag)
    ctx.verify_flags &= ~getattr(ssl, "VERIFY_X509_PARTIAL_CHAIN", 0)
    if legacy:
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        ctx.set_ciphers(LEGACY_CIPHERS)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def origin_of(url: str) -> tuple[str, int] | None:
    """(host, port) of an https URL, None for any other scheme."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return None
    return (parts.hostname or "").lower(), parts.port or 443


class Policy:
    """The run's TLS decisions per origin, made once each (thread-safe: the crawl probes in threads)."""

    def __init__(self, *, allow_private: bool, limits):
        self.allow_private = allow_private
        self.limits = limits
        self._decisions: dict[tuple[str, int], Decision] = {}
        self._lock = threading.Lock()

    def known(self, host: str, port: int) -> Decision | None:
        return self._decisions.get((host.lower(), port))

    def note_for(self, url: str) -> str:
        origin = origin_of(url)
        decision = self._decisions.get(origin) if origin else None
        return decision.note if decision else ""

    def decide(self, url: str, deadline: T.Deadline | None = None) -> Decision | None:
        """The decision for url's origin (probing it the first time); None for http. Raises ProbeFailed."""
        origin = origin_of(url)
        if origin is None:
            return None
        found = self._decisions.get(origin)
        if found is not None:
            return found
        decision = probe(*origin, allow_private=self.allow_private, limits=self.limits,
                         deadline=deadline or T.Deadline.after(self.limits.exchange_seconds))
        with self._lock:
            return self._decisions.setdefault(origin, decision)


# -- the probe

def probe(host: str, port: int, *, allow_private: bool, limits, deadline: T.Deadline) -> Decision:
    """How host:port is to be fetched (see the module's docstring). Raises ProbeFailed when no TLS
    connection can be made at all (refused, timed out, not TLS)."""
    legacy = False
    issuers: tuple[bytes, ...] = ()
    aia_urls: tuple[str, ...] = ()
    while True:
        try:
            leaf, protocol = _handshake(host, port, make_context(issuers=issuers, legacy=legacy),
                                        allow_private=allow_private, limits=limits, deadline=deadline)
            return Decision(host, port, _digest(leaf), legacy=legacy, protocol=protocol, aia_urls=aia_urls,
                            issuers=issuers)
        except ssl.SSLCertVerificationError as exc:
            failure = exc
        except ssl.SSLError as exc:
            if not legacy and _old_protocol(exc):
                legacy = True
                continue
            raise ProbeFailed(ERR_CONNECT, f"TLS handshake failed: {exc.reason or exc}") from None
        code = failure.verify_code
        if code in _INCOMPLETE and len(issuers) < AIA_MAX_CERTS:
            leaf, _protocol = _handshake(host, port, make_context(verify=False, legacy=legacy),
                                         allow_private=allow_private, limits=limits, deadline=deadline)
            found = _chase(issuers[-1] if issuers else leaf, allow_private=allow_private, limits=limits,
                           deadline=deadline)
            if found is not None:
                url, der = found
                issuers, aia_urls = (*issuers, der), (*aia_urls, url)
                continue
        leaf, protocol = _handshake(host, port, make_context(verify=False, legacy=legacy),
                                    allow_private=allow_private, limits=limits, deadline=deadline)
        return Decision(host, port, _digest(leaf), verified=False, problem=_problem(code),
                        problem_detail=failure.verify_message or str(failure), legacy=legacy, protocol=protocol,
                        aia_urls=aia_urls)


def _problem(code: int) -> str:
    return next((name for name, codes in _PROBLEMS.items() if code in codes), "other")


def _old_protocol(exc: ssl.SSLError) -> bool:
    text = f"{exc.reason or ''} {exc}".upper()
    return any(reason in text for reason in _OLD_PROTOCOL_REASONS)


def _digest(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def _connect(host: str, port: int, *, allow_private: bool, limits, deadline: T.Deadline) -> socket.socket:
    """A TCP connection to host:port: to a checked address, or through the proxy by CONNECT."""
    proxy = proxy_for(f"https://{host}:{port}/")
    timeout = deadline.bound(limits.connect_timeout)
    try:
        if proxy:
            parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
            sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)
            return _tunnel(sock, host, port, deadline.bound(limits.read_timeout))
        addresses = T.checked_addresses(host, port, allow_private=allow_private)
    except T.AddressRefused as exc:
        raise ProbeFailed(ERR_PRIVATE, exc.detail) from None
    except T.ResolveFailed as exc:
        raise ProbeFailed(ERR_DNS, exc.detail) from None
    except TimeoutError:
        raise ProbeFailed(ERR_TIMEOUT, "timed out connecting to the proxy") from None
    except OSError as exc:
        raise ProbeFailed(ERR_CONNECT, f"cannot connect to the proxy: {exc}") from None
    error: OSError | None = None
    for family, addr in addresses:
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.settimeout(deadline.bound(limits.connect_timeout))
            sock.connect((addr, port))
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    if isinstance(error, TimeoutError):
        raise ProbeFailed(ERR_TIMEOUT, f"timed out connecting to {host}:{port}")
    raise ProbeFailed(ERR_CONNECT, f"cannot connect to {host}:{port}: {error}")


def _tunnel(sock: socket.socket, host: str, port: int, timeout: float | None) -> socket.socket:
    """CONNECT host:port through the proxy on sock (as both libraries tunnel https)."""
    sock.settimeout(timeout)
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode("ascii"))
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk or len(head) > 16 * 1024:
            sock.close()
            raise ProbeFailed(ERR_CONNECT, "the proxy closed the tunnel")
        head += chunk
    status = head.split(b" ", 2)[1:2]
    if status != [b"200"]:
        sock.close()
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        raise ProbeFailed(ERR_CONNECT, f"the proxy refused CONNECT {target}: {line}")
    return sock


def _handshake(host: str, port: int, ctx: ssl.SSLContext, *, allow_private: bool, limits,
               deadline: T.Deadline) -> tuple[bytes, str]:
    """(DER leaf certificate, protocol) of one handshake; raises ssl errors as OpenSSL reports them."""
    sock = _connect(host, port, allow_private=allow_private, limits=limits, deadline=deadline)
    try:
        sock.settimeout(deadline.bound(limits.read_timeout))
        try:
            with ctx.wrap_socket(sock, server_hostname=host) as tls:
                return tls.getpeercert(binary_form=True) or b"", tls.version() or ""
        except ssl.SSLError:
            raise
        except TimeoutError:
            raise ProbeFailed(ERR_TIMEOUT, f"TLS handshake with {host}:{port} timed out") from None
        except OSError as exc:
            raise ProbeFailed(ERR_CONNECT, f"TLS handshake with {host}:{port} failed: {exc}") from None
    finally:
        sock.close()


# -- AIA

def aia_issuer_urls(der: bytes) -> list[str]:
    """The caIssuers http URLs of a certificate's Authority Information Access extension."""
    try:
        cert = x509.load_der_x509_certificate(der)
        aia = cert.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_INFORMATION_ACCESS).value
    except (ValueError, x509.ExtensionNotFound):
        return []
    return [d.access_location.value for d in aia
            if d.access_method == AuthorityInformationAccessOID.CA_ISSUERS
            and isinstance(d.access_location, x509.UniformResourceIdentifier)
            and d.access_location.value.lower().startswith("http://")]


def _chase(der: bytes, *, allow_private: bool, limits, deadline: T.Deadline) -> tuple[str, bytes] | None:
    """(URL, DER) of the first issuer certificate the AIA URLs of der give, None when none does."""
    for url in aia_issuer_urls(der)[:2]:
        body = _get(url, allow_private=allow_private, limits=limits, deadline=deadline)
        cert = _certificate(body) if body else None
        if cert is not None:
            return url, cert
    return None


def _certificate(body: bytes) -> bytes | None:
    """The DER of a certificate served as DER or PEM (a PKCS#7 bundle is not read)."""
    for load in (x509.load_der_x509_certificate, x509.load_pem_x509_certificate):
        try:
            return load(body).public_bytes(Encoding.DER)
        except ValueError:
            continue
    return None


def _get(url: str, *, allow_private: bool, limits, deadline: T.Deadline) -> bytes | None:
    """The body of a plain GET of url (no redirect followed), at most AIA_MAX_BYTES; None on any failure."""
    parts = urlsplit(url)
    host, port = (parts.hostname or "").lower(), parts.port or 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    proxy = proxy_for(url)
    try:
        if proxy:
            proxied = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
            conn = http.client.HTTPConnection(proxied.hostname, proxied.port or 80,
                                              timeout=deadline.bound(limits.read_timeout))
            target = url
        else:
            _family, addr = T.checked_addresses(host, port, allow_private=allow_private)[0]
            conn = http.client.HTTPConnection(addr, port, timeout=deadline.bound(limits.read_timeout))
            target = path
        try:
            conn.putrequest("GET", target, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", parts.netloc)
            conn.putheader("User-Agent", USER_AGENT)
            conn.endheaders()
            response = conn.getresponse()
            if response.status != 200:
                return None
            body = response.read(AIA_MAX_BYTES + 1)
            return body if len(body) <= AIA_MAX_BYTES else None
        finally:
            conn.close()
    except (OSError, http.client.HTTPException, T.AddressRefused, T.ResolveFailed):
        return None

