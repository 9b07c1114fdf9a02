"""The real-platform lab and the real saved pages: every figure of the eval holds its pin.

The pins (tests/lab/pins.json) are what the core reached when they were last written
(`python -m tests.lab.eval --pin`); a change that makes any figure drop, or lets a
false pass in, fails here. The recorder is tested on the demo portals: what it
records, the loopback server replays byte for byte.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import httpx
import pytest

from demo.server import PortalServer, load_sites
from tests.lab import eval as lab_eval
from tests.lab.record import record

LOWER_IS_BETTER = {"false_passes"}
COUNTS = {"pages", "posts", "verdict_cases"}


@pytest.fixture(scope="module")
def results():
    return lab_eval.figures(lab_eval.evaluate())


def _pins() -> dict:
    return json.loads(lab_eval.PINS.read_text(encoding="utf-8"))


def test_every_platform_of_both_sets_is_pinned(results):
    pins = _pins()
    for name, platforms in results.items():
        assert set(platforms) <= set(pins.get(name, {})), f"{name}: run `python -m tests.lab.eval --pin`"
    assert results["lab"], "the lab has no recorded portal"


def test_no_figure_falls_below_its_pin(results):
    pins = _pins()
    dropped = []
    for name, platforms in pins.items():
        for platform, figures in platforms.items():
            got = results.get(name, {}).get(platform)
            assert got is not None, f"{name}/{platform} is pinned but no longer evaluated"
            for key, pinned in figures.items():
                if key in COUNTS:
                    if got[key] < pinned:
                        dropped.append(f"{name}/{platform} {key}: {got[key]} < {pinned} (fewer cases than pinned)")
                elif key in LOWER_IS_BETTER:
                    if got[key] > pinned:
                        dropped.append(f"{name}/{platform} {key}: {got[key]} > {pinned}")
                elif got[key] < pinned - 1e-9:
                    dropped.append(f"{name}/{platform} {key}: {got[key]} < {pinned}")
    assert not dropped, "\n".join(dropped)


def test_there_are_no_false_passes(results):
    assert all(f["false_passes"] == 0 for platforms in results.values() for f in platforms.values())


def test_every_labelled_page_is_in_its_recording():
    for root in lab_eval.SETS.values():
        sites = load_sites(root / "portals") if (root / "portals").is_dir() else {}
        for exp in lab_eval.expectation_files(root):
            for url in exp.get("pages", {}):
                host = (urlsplit(url).hostname or "").lower()
                assert host in sites and lab_eval.recorded(sites[host], url) is not None, url


def test_the_recorder_keeps_what_the_server_answered(tmp_path):
    host = "sotuphap.caobang.gov.vn"
    with PortalServer() as origin:
        port = origin.proxy_url.rsplit(":", 1)[1]
        alone = [f"http://{host}/khong-co-trang-nay", f"http://{host}/taxonomy/term/17"]
        counts = record([f"http://{host}/"], alone, {host: f"127.0.0.1:{port}"},
                        tmp_path, depth=1, max_pages=12, skip=re.compile("^$"), log=lambda *a: None)
        assert counts[host] == 12
        with PortalServer(tmp_path) as replay:
            for path in ("/", "/taxonomy/term/17", "/khong-co-trang-nay"):
                want = httpx.get(f"http://{host}{path}", proxy=origin.proxy_url)
                got = httpx.get(f"http://{host}{path}", proxy=replay.proxy_url)
                assert (got.status_code, got.content) == (want.status_code, want.content), path
                assert got.headers["content-type"] == want.headers["content-type"]
            robots = httpx.get(f"http://{host}/robots.txt", proxy=replay.proxy_url)
            assert robots.text == httpx.get(f"http://{host}/robots.txt", proxy=origin.proxy_url).text
