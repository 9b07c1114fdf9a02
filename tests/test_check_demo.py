"""`portal-evidence check` on the demo portals: one reported link for every verdict row of docs/verdicts.md,
run as a reviewer runs it (a whole process, through the demo server as the HTTP proxy)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from demo.pipeline import DEMO_DIR, DEMO_LIMITS, load_truth, truth_tuple

ROOT = Path(__file__).resolve().parent.parent


def one_link_per_verdict_row() -> list[tuple]:
    """(agency, criterion, url, agency portal, truth) for the first reported link of each (status, reason)."""
    with (DEMO_DIR / "agencies.csv").open(encoding="utf-8", newline="") as fh:
        agencies = list(csv.DictReader(fh))
    portals = {a["agency_id"]: a["portal"] for a in agencies}
    names = {a["agency_id"]: a["agency_name"] for a in agencies}
    with (DEMO_DIR / "reports.csv").open(encoding="utf-8", newline="") as fh:
        reports = [r for r in csv.DictReader(fh) if r["url"]]
    truth = load_truth()
    picked: dict[tuple, tuple] = {}
    for r in reports:
        t = truth[(r["agency_id"], r["criterion"])]
        picked.setdefault((t["status"], t["reason"]), (r["agency_id"], r["criterion"], r["url"],
                                                       portals[r["agency_id"]], truth_tuple(t),
                                                       f"{r['agency_id']}={names[r['agency_id']]}"))
    return list(picked.values())


CASES = one_link_per_verdict_row()


def test_the_demo_reports_a_link_for_every_fetched_verdict_row():
    rows = {case[4][:2] for case in CASES}
    assert rows >= {("pass", "ok"), ("fail", "off_site"), ("fail", "unreachable"), ("fail", "not_found"),
                    ("fail", "wrong_category"), ("fail", "no_posts_in_year"), ("review", "undated"),
                    ("review", "robots_disallowed")}


@pytest.mark.parametrize("agency,criterion,url,portal,want,whose", CASES, ids=[f"{c[4][0]}-{c[4][1]}" for c in CASES])
def test_check_gives_the_truth_verdict(server, agency, criterion, url, portal, want, whose):
    env = {**os.environ, "http_proxy": server.proxy_url, "HTTP_PROXY": server.proxy_url, "no_proxy": ""}
    result = subprocess.run([sys.executable, str(ROOT / "cli.py"), "check", url, "--criterion", criterion,
                             "--agency-portal", portal, "--agency", whose, "--json", "--allow-private",
                             "--timeout", str(DEMO_LIMITS.read_timeout),
                             *(("--items", str(DEMO_DIR / "items.csv")) if criterion.startswith("danh-muc-") else ())],
                            env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    got = json.loads(result.stdout)
    posts = "" if got["posts_in_year"] is None else str(got["posts_in_year"])
    assert (got["status"], got["reason"], posts, got["discovered"]) == want, got["detail"]
    assert result.returncode == (1 if got["status"] == "review" or got["reason"] == "unreachable" else 0)
    if got["reason"] == "off_site" and "facebook" in url:
        assert got["evidence"]["pages"] == []          # never fetched
