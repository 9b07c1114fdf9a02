"""`portal-evidence user ...` and `serve`: accounts from the command line, and a console served by uvicorn
that keeps answering reviewers while a crawl writes to the same database."""

import datetime as dt
import threading

import httpx
from typer.testing import CliRunner

from tests.console.conftest import PASSWORD, Served, make_console_db
from tests.verifier.builders import website
from verifier.cli import app
from verifier.console.auth import sign_in
from verifier.rulebook import load_rulebook
from verifier.store import get_user, open_db, save_verdict

runner = CliRunner()


def _user(db, *args, password=PASSWORD):
    return runner.invoke(app, ["user", *args, "--db", str(db)], env={"PORTAL_EVIDENCE_PASSWORD": password})


def test_user_add_passwd_disable(tmp_path):
    db = make_console_db(tmp_path)
    done = _user(db, "add", "nguyen-van-a", "--role", "reviewer")
    assert done.exit_code == 0, done.output
    handle = open_db(db)
    user = get_user(handle, "nguyen-van-a")
    assert user["role"] == "reviewer" and user["password_hash"].startswith("$argon2")
    assert PASSWORD not in user["password_hash"]
    now = dt.datetime.now(dt.UTC)
    assert sign_in(handle, "nguyen-van-a", PASSWORD, "cli", now)[0] is not None
    assert _user(db, "passwd", "nguyen-van-a", password="mat-khau-moi-2").exit_code == 0
    assert sign_in(handle, "nguyen-van-a", PASSWORD, "cli", now)[0] is None
    assert sign_in(handle, "nguyen-van-a", "mat-khau-moi-2", "cli", now)[0] is not None
    assert _user(db, "disable", "nguyen-van-a").exit_code == 0
    assert sign_in(handle, "nguyen-van-a", "mat-khau-moi-2", "cli", now) == (None, "wrong")


def test_user_refuses_bad_input_with_the_field_named(tmp_path):
    db = make_console_db(tmp_path)
    for args, field in [(["add", "x", "--role", "boss"], "--role"), (["add", "x", "--role", "agency"], "--agency"),
                        (["add", "x", "--role", "viewer", "--agency", "so-tu-phap"], "--agency"),
                        (["passwd", "nobody"], "NAME")]:
        result = _user(db, *args)
        assert result.exit_code == 2 and field in result.output and "Traceback" not in result.output, args
    short = _user(db, "add", "x", "--role", "viewer", password="ngan")
    assert short.exit_code == 2 and "8 characters" in short.output
    assert get_user(open_db(db), "x") is None


def test_serve_answers_reviewers_while_a_crawl_writes(tmp_path):
    db = make_console_db(tmp_path)
    rulebook = load_rulebook()
    stop, written, failures = threading.Event(), [], []

    def crawl():
        handle = open_db(db)
        n = 0
        while not stop.is_set():
            n += 1
            save_verdict(handle, 1, website("ubnd-bao-lac", "tin-tuc-su-kien", "pass", "ok", detail=f"write {n}"),
                         rulebook.period)
            written.append(n)

    def browse(name):
        with httpx.Client(base_url=served.url, timeout=20) as client:
            client.get("/login")
            client.post("/login", data={"name": name, "password": PASSWORD, "csrftoken": client.cookies["csrftoken"]})
            for path in ["/", "/agency/ubnd-bao-lac", "/agency/ubnd-bao-lac/tin-tuc-su-kien", "/queue"] * 3:
                answer = client.get(path)
                if answer.status_code != 200:
                    failures.append((path, answer.status_code, answer.text[:200]))

    with Served(db) as served:
        writer = threading.Thread(target=crawl)
        writer.start()
        readers = [threading.Thread(target=browse, args=(name,)) for name in ("duyet", "xem", "quantri")]
        for t in readers:
            t.start()
        for t in readers:
            t.join()
        stop.set()
        writer.join()
    assert not failures and len(written) > 1, failures
    assert "locked" not in served.stderr and "Traceback" not in served.stderr, served.stderr
