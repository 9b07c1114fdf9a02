"""Record the spot-check cassette: `python -m tests.cassettes.record` (needs no network).

Serves two saved Lạng Sơn pages from a loopback stand-in for the portal, reached
through the proxy environment variables like a Department behind a proxy, and
records the httpx exchange of a spot-check with vcrpy. The test replays it with
record_mode "none".
"""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import vcr

HERE = Path(__file__).resolve().parent
PAGES = HERE.parent / "fixtures" / "pages"
CASSETTE = HERE / "spotcheck-langson-chi-dao.yaml"
LISTING = "http://sotuphap.langson.gov.vn/taxonomy/term/12"
SERVED = {
    "/taxonomy/term/12": "sotuphap.langson.gov.vn.chi-dao-p1",
    "/taxonomy/term/12?page=1": "sotuphap.langson.gov.vn.chi-dao-p2",
}


class _Portal(BaseHTTPRequestHandler):
    def do_GET(self):
        target = self.path.split("sotuphap.langson.gov.vn", 1)[-1] if self.path.startswith("http") else self.path
        name = SERVED.get(target)
        if name is None:
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"not found")
            return
        body = (PAGES / f"{name}.html").read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main() -> None:
    from typer.testing import CliRunner

    from verifier.cli import app

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Portal)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["http_proxy"] = f"http://127.0.0.1:{server.server_port}"
    CASSETTE.unlink(missing_ok=True)
    with vcr.use_cassette(str(CASSETTE), record_mode="all", match_on=["method", "uri"]):
        result = CliRunner().invoke(app, ["check", LISTING, "-c", "chi-dao-dieu-hanh", "--year", "2018", "--json"])
    server.shutdown()
    print(result.output[:400])
    print(f"recorded {CASSETTE}: {json.loads(result.output)['status']}")


if __name__ == "__main__":
    main()
