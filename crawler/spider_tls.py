"""The crawl's side of the TLS policy (crawler.tls): the probe before an origin's first https request, and
the context factory that connects as the probe decided (the protocol floor, the pinned leaf certificate).

The probe is the httpx path's own (a blocking handshake, run in a thread): both paths make the same
decision for the same server, so they fetch the same pages and record the same TLS evidence.
"""

from __future__ import annotations

import asyncio
import hashlib

from cryptography.hazmat.primitives.serialization import Encoding
from OpenSSL import SSL
from scrapy.core.downloader.contextfactory import _ScrapyCertificateOptions, _ScrapyClientContextFactory
from twisted.internet._sslverify import ClientTLSOptions
from twisted.internet.ssl import TLSVersion

from crawler import tls as TLS


def _policy(crawler) -> TLS.Policy | None:
    return getattr(getattr(crawler, "spider", None), "tls", None)


class TlsMiddleware:
    """Before an https origin's first request, the probe decides how it is fetched; a probe that cannot
    connect fails the request as the httpx path fails it (connect, timeout, dns, private_address)."""

    def __init__(self, crawler=None):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request, spider=None):
        from crawler.spider import Refused

        policy = _policy(self.crawler)
        origin = TLS.origin_of(request.url)
        if policy is None or origin is None or policy.known(*origin) is not None:
            return None
        try:
            await asyncio.to_thread(policy.decide, request.url)
        except TLS.ProbeFailed as exc:
            raise Refused(exc.error, exc.detail) from None
        return None


class _Options(_ScrapyCertificateOptions):
    """Scrapy's certificate options, with the decision's protocol floor."""

    def __init__(self, decision: TLS.Decision | None, **kwargs):
        super().__init__(**kwargs)
        self._decision = decision

    def _makeContext(self, skipCiphers: bool = False) -> SSL.Context:
        ctx = super()._makeContext(skipCiphers)
        if self._decision is not None and self._decision.legacy:
            ctx.set_min_proto_version(SSL.TLS1_VERSION)
            ctx.set_cipher_list(TLS.LEGACY_CIPHERS.encode("ascii"))
        return ctx


class _Pinned(ClientTLSOptions):
    """A connection that accepts the leaf certificate the probe saw, and no other."""

    def __init__(self, make_connection, hostname: str, decision: TLS.Decision | None):
        super().__init__(make_connection, hostname)
        self._decision = decision

    def clientConnectionForTLS(self, tlsProtocol) -> SSL.Connection:
        conn = super().clientConnectionForTLS(tlsProtocol)
        pinned = self._decision.leaf_sha256 if self._decision else None

        def verify(_conn, cert, _err, depth, _ok) -> bool:
            if depth != 0:
                return True         # the chain was judged by the probe, on this very leaf
            der = cert.to_cryptography().public_bytes(Encoding.DER)
            return pinned is not None and hashlib.sha256(der).hexdigest() == pinned

        conn.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, verify)
        return conn


class TlsContextFactory(_ScrapyClientContextFactory):
    """The crawl's DOWNLOADER_CLIENTCONTEXTFACTORY: connects as the run's TLS policy decided per origin."""

    crawler = None

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        factory = super().from_crawler(crawler, *args, **kwargs)
        factory.crawler = crawler
        return factory

    def creatorForNetloc(self, hostname: bytes, port: int):
        host = hostname.decode("ascii")
        policy = _policy(self.crawler)
        decision = policy.known(host, port) if policy else None
        kwargs = self._get_cert_options_kwargs()
        if decision is not None and decision.legacy:
            kwargs["insecurelyLowerMinimumTo"] = TLSVersion.TLSv1_0     # Twisted's floor is TLS 1.2
        options = _Options(decision, **kwargs)
        return _Pinned(options._makeTLSConnection, host, decision)
