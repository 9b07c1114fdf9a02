"""The reviewer console measured on the demo database, the way a reviewer gets it.

The demo portals are served on loopback and crawled by `cli.py crawl` as a process into a fresh
database; the accounts are made with `portal-evidence user add`; the console is `portal-evidence serve`
and Datasette is `datasette serve` on the same file, both processes, driven over loopback with httpx.

* Pages: the time per request of the ranking `/`, an agency page and a verdict page, each over
  Datasette's HTML page of the same database's verdicts table, requested in turn in the same run.
  Target ≤ 1×: the console keeps the scored reading of the run it shows (the same build_audit the exports
  use) until an override, a withdrawal or a newer run changes it, so a page only renders what is read,
  like Datasette's page of rows. The first page after such a change reads and scores the run again (about
  25 ms more on the demo): the sessions' p95 below holds those.
* Spot-check: POST /check (the route answers 303 to /check/<id>, the result page) beside
  `portal-evidence check` as a process on the same link. Target ≤ 0.5: the console starts no process.
* Concurrency: reviewer sessions, each its own cookie jar, browse and post overrides on distinct
  verdicts while a second crawl writes to the same database (the demo portals served slowly, so it
  lasts the whole window). Target: no 5xx, no "database is locked" in the console's log, every override
  answered 303 found in the database afterwards, and every page read while the crawl is unfinished
  shows the latest finished run.

    python -m bench.run --only console [--quick]
"""

from __future__ import annotations

import html
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.run import ROOT, Figure, Result, _timed, proxy_env, spotcheck_command
from demo.pipeline import DEMO_DIR, DEMO_LIMITS
from demo.server import PortalServer

PAGE_RATIO = 1.0                 # console page ÷ Datasette's verdicts table page
SPOT_RATIO = 0.5                 # spot-check through the console ÷ the same check as a process
PAGE_RUNS, PAGE_RUNS_QUICK = 50, 10
PAGE_WARMUP = 5
SPOT_RUNS, SPOT_RUNS_QUICK = 8, 2
SESSIONS, SESSIONS_QUICK = 20, 5
OVERRIDES_PER_SESSION = 2
THINK = 0.2                      # seconds a reviewer waits between two requests
CRAWL_LATENCY = 1.2              # seconds per portal answer in the second crawl: it lasts ~25-30 s
CRAWL_LATENCY_QUICK = 0.0
PASSWORD = "bench-mat-khau-1"
SPOT_LINK = ("stp", "chi-dao-dieu-hanh")     # a link of the demo portals that passes (data/demo/truth.csv)
LOCKED = "database is locked"
_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def crawl_command(db: Path, warc_dir: Path, inputs: tuple[Path, Path] | None = None) -> list[str]:
    """`cli.py crawl` of the inputs (agencies, reports; default data/demo's) into db, with the demo's timeout
    (its slow route gives up fast)."""
    agencies, reports = inputs or (DEMO_DIR / "agencies.csv", DEMO_DIR / "reports.csv")
    return [sys.executable, str(ROOT / "cli.py"), "crawl", "--agencies", str(agencies), "--reports", str(reports),
            "--db", str(db), "--warc-dir", str(warc_dir), "--timeout", str(DEMO_LIMITS.read_timeout)]


def start_crawl(db: Path, warc_dir: Path, server, log: Path, inputs: tuple[Path, Path] | None = None
                ) -> subprocess.Popen:
    """The crawl as a process of its own, the loopback server as its proxy, its output in `log`."""
    with log.open("wb") as fh:
        return subprocess.Popen(crawl_command(db, warc_dir, inputs), cwd=ROOT, env=proxy_env(server), stdout=fh,
                                stderr=subprocess.STDOUT)


def add_users(db: Path, names: list[str], role: str = "reviewer") -> list[str]:
    """`portal-evidence user add NAME --role ROLE` for every name (the password from the environment); the
    first alone (it creates the console's tables), the others at once. Returns what failed."""
    env = {**os.environ, "PORTAL_EVIDENCE_PASSWORD": PASSWORD}
    cmd = spotcheck_command()

    def start(name):
        return name, subprocess.Popen([*cmd, "user", "add", name, "--role", role, "--db", str(db)], cwd=ROOT,
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    problems = []
    batches = [names[:1], names[1:]]
    for batch in batches:
        for name, proc in [start(n) for n in batch]:
            _, err = proc.communicate(timeout=120)
            if proc.returncode != 0:
                problems.append(f"user add {name}: exit {proc.returncode}: {err.decode(errors='replace')[-200:]}")
    return problems


class Served:
    """A server process on a loopback port (its output in a log file), ready once `probe` answers."""

    def __init__(self, cmd: list[str], log: Path, *, env: dict | None = None, probe: str = "/"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cmd = [c.replace("{port}", str(self.port)) for c in cmd]
        self.log, self.env, self.probe = log, env, probe

    def __enter__(self) -> Served:
        self._fh = self.log.open("wb")
        self.process = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=self._fh, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + self.probe, timeout=1, trust_env=False)
                return self
            except httpx.HTTPError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError(f"{self.cmd[0]} did not start: {self.output()[-500:]}")

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._fh.close()

    def output(self) -> str:
        self._fh.flush()
        return self.log.read_text(errors="replace")


def serve_console(db: Path, log: Path, portals) -> Served:
    """`portal-evidence serve` on db; its spot-checks reach the demo portals through `portals` as proxy."""
    return Served([*spotcheck_command(), "serve", "--db", str(db), "--host", "127.0.0.1", "--port", "{port}"], log,
                  env=proxy_env(portals), probe="/login")


def serve_datasette(db: Path, log: Path) -> Served:
    exe = Path(sys.executable).parent / "datasette"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "datasette"]
    return Served([*cmd, "serve", str(db), "--host", "127.0.0.1", "--port", "{port}"], log, probe="/-/versions.json")


def hidden_fields(page: str, form_id: str | None = None) -> dict[str, str]:
    """The hidden fields of the page's form `form_id` (else of all its forms, the first of each name):
    csrftoken, run, checked_at."""
    if form_id is not None:
        found = re.search(rf'<form [^>]*id="{form_id}"[^>]*>(.*?)</form>', page, re.S)
        page = found.group(1) if found else ""
    out: dict[str, str] = {}
    for name, value in _HIDDEN.findall(page):
        out.setdefault(name, html.unescape(value))
    return out


def signed_in(base_url: str, name: str, password: str = PASSWORD) -> httpx.Client:
    """An httpx client with its own cookie jar, signed in as name (GET /login for the CSRF token, POST /login)."""
    client = httpx.Client(base_url=base_url, follow_redirects=False, timeout=60, trust_env=False)
    page = client.get("/login")
    token = hidden_fields(page.text).get("csrftoken") or client.cookies.get("csrftoken", "")
    answer = client.post("/login", data={"name": name, "password": password, "csrftoken": token})
    if answer.status_code != 303:
        client.close()
        raise RuntimeError(f"sign-in of {name}: {answer.status_code}")
    return client


def console_targets(db: Path) -> dict:
    """What the pages measure: the demo's first agency, its verdict with the most pages visited, the run."""
    with sqlite3.connect(db) as conn:
        run = conn.execute("select max(id) from runs where status = 'done'").fetchone()[0]
        agency = conn.execute("select agency_id from agencies where run_id = ? order by rowid limit 1",
                              [run]).fetchone()[0]
        criterion = conn.execute(
            "select v.criterion from verdicts v left join fetches f on f.verdict_id = v.id "
            "where v.run_id = ? and v.agency_id = ? group by v.id order by count(f.id) desc, v.id limit 1",
            [run, agency]).fetchone()[0]
        website = [tuple(r) for r in conn.execute(      # the reported links' verdicts
            "select agency_id, criterion from verdicts where run_id = ? and coalesce(url, '') != '' order by id",
            [run])]
    return {"run": run, "agency": agency, "criterion": criterion, "website_verdicts": website}


# --- pages beside Datasette ------------------------------------------------------------------------

def time_pages(console: Served, datasette: Served, db: Path, name: str, targets: dict, runs: int,
               warmup: int = PAGE_WARMUP) -> tuple[dict[str, list[float]], list[str]]:
    """Seconds per request of each page, the four pages requested in turn `warmup + runs` times."""
    agency, criterion = targets["agency"], targets["criterion"]
    pages = {"ranking": (console, "/"), "agency": (console, f"/agency/{agency}"),
             "verdict": (console, f"/agency/{agency}/{criterion}"),
             "datasette": (datasette, f"/{db.stem}/verdicts")}
    times: dict[str, list[float]] = {k: [] for k in pages}
    problems: list[str] = []
    client = signed_in(console.url, name)
    plain = httpx.Client(base_url=datasette.url, timeout=60, trust_env=False)
    try:
        for k in range(warmup + runs):
            for key, (server, path) in pages.items():
                http = plain if server is datasette else client
                started = time.perf_counter()
                answer = http.get(path)
                elapsed = time.perf_counter() - started
                if answer.status_code != 200 or len(answer.content) < 500:
                    problems.append(f"{key} {path}: {answer.status_code}")
                elif k >= warmup:
                    times[key].append(elapsed)
    finally:
        client.close()
        plain.close()
    return times, problems


def page_figures(times: dict[str, list[float]], problems: list[str], targets: dict) -> list[Figure]:
    base = statistics.median(times["datasette"]) if times["datasette"] else None
    figures = []
    labels = {"ranking": "ranking /", "agency": f"agency page /agency/{targets['agency']}",
              "verdict": f"verdict page /agency/{targets['agency']}/{targets['criterion']}"}
    for key, label in labels.items():
        got = times[key]
        median = statistics.median(got) if got else None
        ratio = median / base if median is not None and base else None
        wrong = [p for p in problems if p.startswith(key)]
        figures.append(Figure(
            f"console.{key}.ratio_over_datasette", f"Console {label} ÷ Datasette's verdicts table (median of "
            f"{len(got)})", ratio, "x", f"≤ {PAGE_RATIO:.0f}× (the console keeps the scored run it shows)",
            bool(ratio is not None and ratio <= PAGE_RATIO and not wrong),
            (f"console median {median * 1000:.1f} ms, p95 {_p95(got) * 1000:.1f} ms; Datasette median "
             f"{base * 1000:.1f} ms, p95 {_p95(times['datasette']) * 1000:.1f} ms" if ratio is not None else "")
            + (f"; WRONG: {wrong[0]}" if wrong else "")))
        figures.append(Figure(f"console.{key}.median_ms", f"Console {label}, median", median * 1000 if got else None,
                              "ms", None, None, f"p95 {_p95(got) * 1000:.1f} ms" if got else ""))
    figures.append(Figure("console.datasette.median_ms", "Datasette /<db>/verdicts, median", base * 1000 if base
                          else None, "ms", None, None,
                          f"p95 {_p95(times['datasette']) * 1000:.1f} ms" if base else ""))
    return figures


def _p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


# --- the spot-check through the console beside the process ----------------------------------------

def spot_link() -> tuple[str, str, str]:
    """(url, criterion, agency) of SPOT_LINK as data/demo/reports.csv reports it."""
    import csv

    with (DEMO_DIR / "reports.csv").open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            if (row["agency_id"], row["criterion"]) == SPOT_LINK:
                return row["url"], row["criterion"], row["agency_id"]
    raise RuntimeError(f"{SPOT_LINK} is not in the demo's reports")


def console_check(client: httpx.Client, url: str, criterion: str, agency: str) -> tuple[float | None, str]:
    """Seconds of POST /check and the result page it sends to; (None, why) when it did not answer so."""
    page = client.get("/check")
    if page.status_code == 404:
        return None, "route /check missing"
    token = hidden_fields(page.text).get("csrftoken") or client.cookies.get("csrftoken", "")
    started = time.perf_counter()
    answer = client.post("/check", data={"url": url, "criterion": criterion, "agency": agency, "csrftoken": token})
    if answer.status_code == 404:
        return None, "route /check missing"
    location = answer.headers.get("location", "")
    if answer.status_code != 303 or not re.fullmatch(r"/check/\d+", location):
        return None, f"POST /check answered {answer.status_code} {location}".strip()
    result = client.get(location)
    elapsed = time.perf_counter() - started
    if result.status_code != 200:
        return None, f"GET {location} answered {result.status_code}"
    return elapsed, ""


def time_spot(console: Served, portals, workdir: Path, runs: int, name: str) -> dict:
    """The console's spot-check and the process's on the same link, in turn, `runs` times after one warm-up;
    while the console has no /check route, the process alone (the figure then says the route is missing)."""
    url, criterion, agency = spot_link()
    client = signed_in(console.url, name)
    out = {"url": url, "criterion": criterion, "agency": agency, "console": [], "process": [], "problems": [],
           "missing": ""}
    env = proxy_env(portals)
    try:
        for k in range(runs + 1):                # run 0 warms both: not counted
            if not out["missing"]:
                took, why = console_check(client, url, criterion, agency)
                if why == "route /check missing":
                    out["missing"] = why
                elif took is None:
                    out["problems"].append(why)
                elif k:
                    out["console"].append(took)
            wall, _, code, stdout, stderr = _timed([*spotcheck_command(), "check", url, "--criterion", criterion],
                                                   env, workdir)
            if code not in (0, 1):
                out["problems"].append(f"check process exit {code}: {stderr.strip()[-200:]}")
            elif k:
                out["process"].append(wall)
    finally:
        client.close()
    return out


def spot_figures(spot: dict) -> list[Figure]:
    process = statistics.median(spot["process"]) if spot["process"] else None
    if spot.get("missing"):
        return [Figure("console.spotcheck.ratio_over_process", "Spot-check through the console ÷ `portal-evidence "
                       "check` as a process", None, "x", f"≤ {SPOT_RATIO} (the console starts no process)", None,
                       spot["missing"] + (f"; the process took {process:.3f} s (median)" if process else ""))]
    console = statistics.median(spot["console"]) if spot["console"] else None
    ratio = console / process if console is not None and process else None
    problems = spot["problems"]
    return [
        Figure("console.spotcheck.ratio_over_process", f"Spot-check through the console ÷ `portal-evidence check` "
               f"as a process (median of {len(spot['console'])})", ratio, "x",
               f"≤ {SPOT_RATIO} (the console starts no process)",
               bool(ratio is not None and ratio <= SPOT_RATIO and not problems) if ratio is not None else None,
               (f"console {console:.3f} s (POST /check + its result page), process {process:.3f} s; "
                f"{spot['agency']}/{spot['criterion']}" if ratio is not None else "")
               + (f"; WRONG: {problems[0]}" if problems else "")),
    ]


# --- sessions while a crawl writes ----------------------------------------------------------------

@dataclass
class SessionLog:
    """What one reviewer session did and saw."""

    name: str
    times: list[float] = field(default_factory=list)       # seconds per request
    errors: list[str] = field(default_factory=list)        # 5xx, transport errors, unexpected answers
    posted: list[str] = field(default_factory=list)        # notes of the overrides answered 303
    stale: int = 0                                          # override forms refused as stale (run changed)
    runs_seen: list[tuple[float, str]] = field(default_factory=list)   # (epoch seconds, run id on a verdict form)


def _request(log: SessionLog, client: httpx.Client, method: str, path: str, **kw) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        answer = client.request(method, path, **kw)
    except httpx.HTTPError as exc:
        log.errors.append(f"{method} {path}: {type(exc).__name__}: {exc}")
        return None
    log.times.append(time.perf_counter() - started)
    if answer.status_code >= 500:
        log.errors.append(f"{method} {path}: {answer.status_code}")
    return answer


def reviewer_session(base_url: str, name: str, browse: list[tuple[str, str]], decide: list[tuple[str, str]],
                     stop: threading.Event, log: SessionLog, think: float = THINK, password: str = PASSWORD) -> None:
    """Sign in, then browse ranking, agency and verdict pages in a loop until `stop`, posting an override on
    each verdict of `decide` (the form's run and checked_at, a note naming the session) along the way."""
    try:
        client = signed_in(base_url, name, password)
    except (RuntimeError, httpx.HTTPError) as exc:
        log.errors.append(f"sign-in: {exc}")
        return
    todo = list(decide)
    k = 0
    try:
        while not stop.is_set() or todo:
            agency, criterion = browse[k % len(browse)]
            k += 1
            for path in ("/", f"/agency/{agency}", f"/agency/{agency}/{criterion}"):
                answer = _request(log, client, "GET", path)
                if answer is None or answer.status_code >= 500:
                    pass                                    # _request kept it as an error
                elif answer.status_code != 200:
                    log.errors.append(f"GET {path}: {answer.status_code}")
                elif path.count("/") == 3:                  # a verdict page: which run its form is about
                    log.runs_seen.append((time.time(), hidden_fields(answer.text, "override").get("run", "")))
                time.sleep(think)
            if todo:
                agency, criterion = todo[0]
                if post_override(log, client, agency, criterion, f"bench {name} #{len(log.posted) + 1}"):
                    todo.pop(0)
                time.sleep(think)
            if len(log.errors) > 50:
                break
    finally:
        client.close()


def post_override(log: SessionLog, client: httpx.Client, agency: str, criterion: str, note: str) -> bool:
    """The verdict page's override form filled in and sent; True when it was stored (303) or failed for good."""
    path = f"/agency/{agency}/{criterion}"
    page = _request(log, client, "GET", path)
    if page is None:
        return False
    if page.status_code != 200:
        if page.status_code < 500:
            log.errors.append(f"GET {path}: {page.status_code}")
        return True
    fields = hidden_fields(page.text, "override")
    status = "review" if 'class="badge pass"' in page.text else "pass"
    answer = _request(log, client, "POST", path, data={"csrftoken": fields.get("csrftoken", ""),
                                                       "run": fields.get("run", ""),
                                                       "checked_at": fields.get("checked_at", ""),
                                                       "status": status, "note": note})
    if answer is None:
        return False
    if answer.status_code == 303:
        log.posted.append(note)
        return True
    if answer.status_code == 400 and 'id="error-form"' in answer.text:
        log.stale += 1                    # the run changed since the form was read: read it again
        return False
    if answer.status_code < 500:
        log.errors.append(f"POST {path}: {answer.status_code}")
    return True


def overrides_found(db: Path, notes: list[str]) -> set[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("select note from overrides").fetchall()
    return {r[0] for r in rows} & set(notes)


def finished_at(db: Path) -> dict[str, float]:
    """Epoch seconds each finished run was marked done, by run id as the forms carry it."""
    import datetime as dt

    with sqlite3.connect(db) as conn:
        rows = conn.execute("select id, finished_at from runs where status = 'done'").fetchall()
    return {str(i): dt.datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp() for i, at in rows if at}


def run_sessions(base_url: str, db: Path, names: list[str], targets: dict, crawl: subprocess.Popen, *,
                 max_seconds: float = 120.0, think: float = THINK, password: str = PASSWORD) -> dict:
    """Every session in a thread of its own until the crawl process ends; what they did, and what the
    database holds afterwards."""
    verdicts = targets["website_verdicts"]
    step = max(1, len(verdicts) // (len(names) * OVERRIDES_PER_SESSION + 1))
    picked = verdicts[::step][:len(names) * OVERRIDES_PER_SESSION]
    stop = threading.Event()
    logs = [SessionLog(n) for n in names]
    threads = []
    for k, (name, log) in enumerate(zip(names, logs)):
        browse = verdicts[k::len(names)] or verdicts
        decide = picked[k * OVERRIDES_PER_SESSION:(k + 1) * OVERRIDES_PER_SESSION]
        threads.append(threading.Thread(target=reviewer_session, args=(base_url, name, browse, decide, stop, log),
                                        kwargs={"think": think, "password": password}, daemon=True))
    started = time.monotonic()
    for t in threads:
        t.start()
    try:
        crawl.wait(timeout=max_seconds)
    except subprocess.TimeoutExpired:
        pass
    crawl_ended = time.monotonic()
    stop.set()
    for t in threads:
        t.join(timeout=120)
    window = time.monotonic() - started
    posted = [n for log in logs for n in log.posted]
    found = overrides_found(db, posted)
    # a page read before the crawl ended must show a finished run: the first crawl's
    # a verdict page must show a run that was finished when the page was answered (finished_at is stored to the
    # second: a page counts as read before a run's end only when it came before that second)
    done_at = finished_at(db)
    unfinished = [(who.name, run) for who in logs for when, run in who.runs_seen
                  if when < done_at.get(run, float("inf"))]
    last = max(done_at.values(), default=0.0)
    seen = sum(1 for who in logs for when, _ in who.runs_seen if when < last)
    times = [t for log in logs for t in log.times]
    return {"seen_during_crawl": seen, "sessions": len(names), "window": window, "crawl_seconds": crawl_ended - started,
            "requests": len(times), "errors": [e for log in logs for e in log.errors],
            "p50": statistics.median(times) if times else None, "p95": _p95(times) if times else None,
            "posted": len(posted), "found": len(found), "lost": sorted(set(posted) - found),
            "stale": sum(log.stale for log in logs), "unfinished_run_shown": unfinished,
            "crawl_exit": crawl.poll(), "alive": [t.name for t in threads if t.is_alive()]}


def session_figures(got: dict, locked: int, crawl_ok: bool) -> list[Figure]:
    n = got["sessions"]
    errors = len(got["errors"]) + locked
    return [
        Figure("console.concurrent.requests", f"{n} reviewer sessions while a crawl writes: requests", got["requests"],
               "requests", None, None,
               f"{got['window']:.1f} s window, the crawl wrote for {got['crawl_seconds']:.1f} s"
               + ("" if crawl_ok else "; WRONG: the crawl did not finish its run")),
        Figure("console.concurrent.errors", f"{n} sessions: errors (5xx, transport, \"{LOCKED}\" in the log)",
               errors, "errors", "0", errors == 0,
               f"{locked} \"{LOCKED}\" in the console's log"
               + (f"; first: {got['errors'][0]}" if got["errors"] else "")),
        Figure("console.concurrent.p50_ms", f"{n} sessions: median per request", (got["p50"] or 0) * 1000, "ms",
               None, None, f"p95 {(got['p95'] or 0) * 1000:.0f} ms; each session waits {THINK * 1000:.0f} ms "
               f"between requests"),
        Figure("console.concurrent.p95_ms", f"{n} sessions: p95 per request", (got["p95"] or 0) * 1000, "ms",
               None, None),
        Figure("console.concurrent.lost_overrides", f"{n} sessions: overrides posted (303) but not in the database",
               len(got["lost"]), "overrides", "0", not got["lost"] and got["posted"] > 0,
               f"{got['posted']} posted, {got['found']} found; {got['stale']} forms refused as stale (the run "
               f"changed) and sent again"),
        Figure("console.concurrent.unfinished_run_shown", f"{n} sessions: verdict pages showing the unfinished run",
               len(got["unfinished_run_shown"]), "pages", "0 (the latest finished run is shown)",
               not got["unfinished_run_shown"]),
    ]


# --- the whole measurement --------------------------------------------------------------------------

def bench_console(workdir: Path, *, quick: bool = False) -> Result:
    result = Result("console")
    workdir = workdir / "console"
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "evidence.db"
    sessions = SESSIONS_QUICK if quick else SESSIONS
    names = [f"duyet{k:02d}" for k in range(1, sessions + 1)]
    with PortalServer() as portals:
        started = time.monotonic()
        first = start_crawl(db, workdir / "warc-1", portals, workdir / "crawl-1.log")
        first.wait()
        crawl_seconds = time.monotonic() - started
        if first.returncode not in (0, 1):
            raise RuntimeError(f"the demo crawl failed: {(workdir / 'crawl-1.log').read_text()[-500:]}")
        problems = add_users(db, names)
        targets = console_targets(db)
        with serve_console(db, workdir / "console.log", portals) as console:
            with serve_datasette(db, workdir / "datasette.log") as datasette:
                times, page_problems = time_pages(console, datasette, db, names[0], targets,
                                                  PAGE_RUNS_QUICK if quick else PAGE_RUNS)
            result.figures += page_figures(times, page_problems + problems, targets)
            spot = time_spot(console, portals, workdir, SPOT_RUNS_QUICK if quick else SPOT_RUNS, names[0])
            result.figures += spot_figures(spot)
            with PortalServer(latency=CRAWL_LATENCY_QUICK if quick else CRAWL_LATENCY) as slow:
                second = start_crawl(db, workdir / "warc-2", slow, workdir / "crawl-2.log")
                try:
                    got = run_sessions(console.url, db, names, targets, second)
                finally:
                    if second.poll() is None:
                        second.terminate()
                    second.wait()
            log = console.output()
        crawl_log = (workdir / "crawl-2.log").read_text(errors="replace")
    with sqlite3.connect(db) as conn:
        runs = conn.execute("select id, status from runs order by id").fetchall()
    crawl_ok = second.returncode in (0, 1) and len(runs) == 2 and runs[-1][1] == "done"
    locked = log.count(LOCKED) + crawl_log.count(LOCKED)
    result.figures += session_figures(got, locked, crawl_ok)
    result.details = {"demo_crawl_seconds": crawl_seconds, "targets": {k: v for k, v in targets.items()
                                                                       if k != "website_verdicts"},
                      "pages": {k: v for k, v in times.items()}, "page_problems": page_problems + problems,
                      "spotcheck": spot, "concurrent": {**got, "errors": got["errors"][:20], "locked": locked,
                                                        "second_crawl_exit": second.returncode, "runs": runs,
                                                        "crawl_latency": CRAWL_LATENCY_QUICK if quick
                                                        else CRAWL_LATENCY},
                      "console_log_tail": log[-2000:]}
    return result
