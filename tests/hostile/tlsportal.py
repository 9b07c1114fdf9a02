"""Portals with broken TLS for the hostile suite: certificates made here with `cryptography` (a root CA, an
intermediate, leaves), and the attack server taught CONNECT, so an `https://` portal is served over a tunnel
with the certificate chain and protocol its case is about. A direct loopback TLS server serves the cases
whose connection is made to an address (no proxy).

Every request is logged, CONNECT lines and the requests inside each tunnel alike (as https URLs), so a test
asserts that nothing left the registered portals but the AIA URL of an incomplete chain.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socketserver
import ssl
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from tests.hostile.harness import AttackServer, Logged, Reply, _Handler, _Server

NOW = dt.datetime.now(dt.UTC)


# -- certificates

@dataclass(frozen=True)
class Identity:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def issue(common: str, issuer: Identity | None = None, *, ca: bool = False, names: tuple[str, ...] = (),
          days: tuple[int, int] = (-1, 365), aia: str | None = None) -> Identity:
    """A certificate for `common` signed by issuer (self-signed without one); `names` are its SANs (host
    names or IP addresses), `days` its validity from and to (relative to now), `aia` its caIssuers URL."""
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder().subject_name(_name(common))
               .issuer_name(issuer.cert.subject if issuer else _name(common))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW + dt.timedelta(days=days[0]))
               .not_valid_after(NOW + dt.timedelta(days=days[1]))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
    if names:
        sans = []
        for n in names:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                sans.append(x509.DNSName(n))
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if aia:
        builder = builder.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
            AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(aia))]), critical=False)
    cert = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    return Identity(cert, key)


@dataclass
class Pki:
    """A trusted root (written to `root_file`, the test's system trust store), its intermediate, and an
    untrusted root of nobody's."""

    directory: Path
    root: Identity = field(init=False)
    intermediate: Identity = field(init=False)
    stranger: Identity = field(init=False)

    def __post_init__(self):
        self.root = issue("Portal Evidence Test Root", ca=True, days=(-10, 3650))
        self.intermediate = issue("Portal Evidence Test Intermediate", self.root, ca=True, days=(-10, 1825))
        self.stranger = issue("Nobody's Root", ca=True, days=(-10, 3650))
        self.root_file.write_bytes(self.root.pem())

    @property
    def root_file(self) -> Path:
        return self.directory / "root.pem"

    def server_context(self, leaf: Identity, chain: tuple[Identity, ...] = (), *, tls10_only: bool = False
                       ) -> ssl.SSLContext:
        """A server context presenting leaf (and chain after it)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        stem = self.directory / f"{leaf.cert.serial_number:x}"
        cert_file, key_file = stem.with_suffix(".crt"), stem.with_suffix(".key")
        cert_file.write_bytes(leaf.pem() + b"".join(c.pem() for c in chain))
        key_file.write_bytes(leaf.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
        ctx.load_cert_chain(cert_file, key_file)
        if tls10_only:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                ctx.minimum_version = ssl.TLSVersion.TLSv1
                ctx.maximum_version = ssl.TLSVersion.TLSv1
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        return ctx


def tls10_servable() -> bool:
    """Can the local OpenSSL serve (and speak) TLS 1.0 at all?"""
    return ssl.HAS_TLSv1 and "TLSv1" in ssl.TLSVersion.__members__


# -- the attack server with CONNECT

class _TlsHandler(_Handler):
    """The attack proxy's handler, which also opens CONNECT tunnels to the TLS portals it serves."""

    _tunnel: tuple[str, int] | None = None

    def do_CONNECT(self):
        host, _, port = self.path.rpartition(":")
        host, port = host.strip("[]").lower(), int(port or 443)
        attack: TlsAttackServer = self.server.attack
        attack.log_request(Logged("CONNECT", host, port, "", time.time(), self.requestline))
        ctx = attack.contexts.get((host, port))
        if ctx is None:
            self._send(Reply(502, (("Content-Type", "text/plain"),), b"no such TLS portal"))
            return
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        try:
            self.connection = ctx.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True      # the client refused the certificate or the protocol
            return
        self.rfile = self.connection.makefile("rb", self.rbufsize)
        self.wfile = socketserver._SocketWriter(self.connection)
        self._tunnel = (host, port)
        self.close_connection = False

    def _handle(self):
        if self._tunnel is None:
            return super()._handle()
        host, port = self._tunnel
        attack = self.server.attack
        attack.log_request(Logged(self.command, host, port, self.path, time.time(), self.requestline))
        route = attack.route(host, port, self.path)
        reply = route if isinstance(route, Reply) else Reply(404, (("Content-Type", "text/html"),), b"<h1>404</h1>")
        self._send(reply, head=self.command == "HEAD")
        return None


class TlsAttackServer(AttackServer):
    """The attack server (an HTTP forward proxy), also serving https portals by CONNECT with a TLS context
    each; its environment trusts the test root (SSL_CERT_FILE: the system store OpenSSL reads)."""

    def __init__(self, pki: Pki):
        super().__init__()
        self.pki = pki
        self.contexts: dict[tuple[str, int], ssl.SSLContext] = {}

    def tls_portal(self, host: str, routes: dict, ctx: ssl.SSLContext, port: int = 443) -> TlsAttackServer:
        self.contexts[(host.lower(), port)] = ctx
        return self.portal(host, routes, port=port)

    def env(self) -> dict[str, str]:
        # the direct portals (127.0.0.1) are reached without the proxy
        return {**super().env(), "no_proxy": "127.0.0.1", "NO_PROXY": "127.0.0.1",
                "SSL_CERT_FILE": str(self.pki.root_file)}

    def start(self) -> TlsAttackServer:
        self._httpd = _Server(("127.0.0.1", 0), _TlsHandler)
        self._httpd.attack = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self


class DirectTlsPortal:
    """A TLS portal on a loopback port of its own (no proxy): https://127.0.0.1:PORT, logging its requests
    into the attack server's log."""

    def __init__(self, attack: TlsAttackServer, routes: dict, ctx: ssl.SSLContext):
        self.attack, self.ctx = attack, ctx
        outer = self

        class Handler(_Handler):
            def _handle(self):
                host, port = "127.0.0.1", outer.port
                outer.attack.log_request(Logged(self.command, host, port, self.path, time.time(), self.requestline))
                route = outer.attack.route(host, port, self.path)
                reply = route if isinstance(route, Reply) else Reply(404, (("Content-Type", "text/html"),), b"")
                self._send(reply, head=self.command == "HEAD")

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def finish_request(self, request, client_address):
                try:
                    request = outer.ctx.wrap_socket(request, server_side=True)
                except (ssl.SSLError, OSError):
                    return
                super().finish_request(request, client_address)

            def handle_error(self, request, client_address):
                pass

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        attack.portal("127.0.0.1", routes, port=self.port)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def temp_pki() -> Pki:
    return Pki(Path(tempfile.mkdtemp(prefix="tls-pki-")))
