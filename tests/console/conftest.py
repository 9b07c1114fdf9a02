"""A stored province run with hostile crawled text, its console users, and signed-in clients."""

import datetime as dt
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from crawler.records import Post
from tests.verifier.builders import SCRIPT_TITLE, build_province, page, website
from verifier.console.app import create_app
from verifier.console.auth import hash_password
from verifier.rulebook import load_rulebook
from verifier.store import ensure_console_tables, open_db, save_user, save_verdict

PASSWORD = "mat-khau-dung-1"
IMG = '"><img src=x onerror=alert(1)>'
USERS = {"quantri": ("admin", None), "duyet": ("reviewer", None), "xem": ("viewer", None),
         "tuphap": ("agency", "so-tu-phap"), "hoaan": ("agency", "ubnd-hoa-an")}


def make_console_db(folder):
    """build_province's run, a verdict of ubnd-hoa-an whose posts and category label are hostile, the users."""
    db_path, run_id = build_province(folder)
    db = open_db(db_path)
    base = "https://ubnd-hoa-an.caobang.gov.vn"
    posts = (Post(IMG, f"{base}/x/1", dt.date(2018, 4, 1), None, "listing"),
             Post(SCRIPT_TITLE, f"{base}/x/2", dt.date(2018, 5, 1), None, "listing"))
    save_verdict(db, run_id, website("ubnd-hoa-an", "tin-tuc-su-kien", "review", "undated", posts=posts,
                                     pages=(page(f"{base}/tin-tuc?q={IMG}", label=IMG + SCRIPT_TITLE, posts=2),)),
                 load_rulebook().period)
    ensure_console_tables(db)
    digest = hash_password(PASSWORD)
    for name, (role, agency) in USERS.items():
        save_user(db, name=name, role=role, agency_id=agency, password_hash=digest, at=dt.datetime.now(dt.UTC))
    db.close()
    return db_path


@pytest.fixture(scope="module")
def console_db(tmp_path_factory):
    return make_console_db(tmp_path_factory.mktemp("console"))


@pytest.fixture(scope="module")
def app(console_db):
    return create_app(console_db)


def signed_in(app, name: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    client.get("/login")
    answer = client.post("/login", data={"name": name, "password": PASSWORD, "csrftoken": client.cookies["csrftoken"]})
    assert answer.status_code == 303, answer.text
    return client


@pytest.fixture(scope="module")
def clients(app):
    return {name: signed_in(app, name) for name in USERS}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# the browser tests' screenshots, kept as CI artifacts (not committed)
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
BROWSER_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser); skipped when either is missing."""
    from tests.tools import required_tool

    chromium = required_tool("chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium, args=BROWSER_FLAGS)
        yield launched
        launched.close()


class Served:
    """`portal-evidence serve` as a process on a loopback port, stopped on exit; `args` are added to its command
    line, `env` replaces its environment."""

    def __init__(self, db_path, args=(), env=None):
        self.db_path, self.port = db_path, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args, self.env = list(args), env

    def __enter__(self):
        import subprocess
        import sys
        import time

        import httpx

        self.process = subprocess.Popen([sys.executable, "-m", "verifier", "serve", "--db", str(self.db_path),
                                         "--port", str(self.port), *self.args], env=self.env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/login", timeout=1)
                return self
            except httpx.HTTPError:
                if self.process.poll() is not None:
                    raise RuntimeError(self.process.stderr.read().decode()) from None
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("the console did not start")

    def __exit__(self, *exc):
        import subprocess

        self.process.terminate()
        try:
            _, err = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        self.stderr = err.decode(errors="replace")
        return False
