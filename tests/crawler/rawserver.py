"""A loopback HTTP server that answers with exactly the bytes a test gives, as fast or as slowly as it says.

Each route is a function of the parsed request that yields (bytes, pause) pieces: the server writes
each piece, then sleeps `pause` seconds. Every request is logged (method, path, headers), so a test
can assert what reached the server and how often.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

Piece = tuple[bytes, float]
Route = Callable[["Request"], Iterable[Piece]]


@dataclass
class Request:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes = b""


def response(status: int, body: bytes = b"", headers: Iterable[tuple[str, str]] = (), *,
             raw_headers: bytes = b"", length: bool = True) -> bytes:
    """The bytes of one complete HTTP/1.1 response (raw_headers are written as given, NUL bytes included)."""
    head = [f"HTTP/1.1 {status} X".encode()]
    for name, value in headers:
        head.append(f"{name}: {value}".encode("latin-1"))
    if length:
        head.append(f"Content-Length: {len(body)}".encode())
    head.append(b"Connection: close")
    return b"\r\n".join(head) + b"\r\n" + raw_headers + b"\r\n" + body


def answer(status: int, body: bytes = b"", headers: Iterable[tuple[str, str]] = (), **kw) -> Route:
    data = response(status, body, list(headers), **kw)
    return lambda request: [(data, 0.0)]


def trickle(data: bytes, *, every: float, head: bytes = b"") -> Route:
    """head at once, then data one byte per `every` seconds."""
    def route(request):
        if head:
            yield head, 0.0
        for i in range(len(data)):
            yield data[i:i + 1], every
    return route


@dataclass
class RawServer:
    routes: dict[str, Route] = field(default_factory=dict)
    log: list[Request] = field(default_factory=list)

    def __enter__(self) -> RawServer:
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.settimeout(30)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = self.request.recv(65536)
                        if not chunk:
                            return
                        data += chunk
                except OSError:
                    return
                head, _, rest = data.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path = lines[0].split(" ")[:2]
                headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:] if ":" in line]
                size = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
                while len(rest) < size:
                    chunk = self.request.recv(65536)
                    if not chunk:
                        break
                    rest += chunk
                request = Request(method, path.split("?", 1)[0], headers, rest)
                server.log.append(request)
                route = server.routes.get(request.path) or answer(404, b"not here")
                try:
                    for piece, pause in route(request):
                        self.request.sendall(piece)
                        if pause and server._stop.wait(pause):
                            return
                except OSError:
                    return

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._stop = threading.Event()
        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def hits(self, path: str) -> int:
        return sum(1 for r in self.log if r.path == path)


def refused(address: str, port: int) -> bool:
    """True when a TCP connection to address:port is refused at once (no request is ever sent)."""
    try:
        with socket.create_connection((address, port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def wait_for(predicate: Callable[[], bool], seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
