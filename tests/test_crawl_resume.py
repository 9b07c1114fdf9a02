"""What a resumed crawl shows: its progress counts the run's links, and its closing lines say what came before.

The kill -9 and resume of the demo crawl itself is tests/test_crawl.py's test_killed_crawl_resumes_to_the_same_verdicts
(it asserts the same lines on the real run); these pin the two records that print them."""

from __future__ import annotations

import io
from collections import Counter

from crawler.records import Verdict
from verifier.crawl import CrawlSummary
from verifier.progress import Progress


def _verdict(agency: str, criterion: str) -> Verdict:
    return Verdict(agency_id=agency, criterion=criterion, url=None, checked_url=None, status="pass", reason="ok",
                   posts_in_year=1)


def _lines(stream: io.StringIO) -> list[str]:
    return [line.split(" ", 1)[1] for line in stream.getvalue().splitlines()]     # without the time stamp


def test_resumed_progress_counts_the_runs_links_and_closes_at_the_last():
    stream = io.StringIO()
    progress = Progress(total=5, done=2, stream=stream, every=2)
    for criterion in ("c", "d", "e"):
        progress.expect(("a", criterion), "portal.example")
    for criterion in ("c", "d", "e"):
        progress.link_done(_verdict("a", criterion))
    progress.close()
    assert _lines(stream) == ["4/5 links (2 verified before the resume), 0 pages, 0 errors; queued: portal.example 1",
                              "5/5 links (2 verified before the resume), 0 pages, 0 errors"]


def test_a_resume_with_nothing_left_still_prints_its_closing_line():
    stream = io.StringIO()
    progress = Progress(total=3, done=3, stream=stream)
    progress.close()
    assert _lines(stream) == ["3/3 links (3 verified before the resume), 0 pages, 0 errors"]


def test_a_stopped_crawl_closes_with_how_far_it_got():
    stream = io.StringIO()
    progress = Progress(total=60, stream=stream)
    for n in range(30):
        progress.link_done(_verdict("a", f"c{n}"))
    progress.close()
    assert [line.split(",")[0] for line in _lines(stream)] == ["25/60 links", "30/60 links"]


def test_the_summary_line_of_a_resumed_run_says_how_many_links_came_before():
    counts = Counter({("pass", "ok"): 7, ("fail", "not_found"): 2, ("pass", "scored"): 5})
    resumed = CrawlSummary(run_id=3, resumed=True, total=9, skipped=4, counts=counts, pages=12, errors=1, seconds=2.5)
    assert resumed.closing_line() == ("14 verdicts: 12 pass, 2 fail; resumed: 4 of 9 links verified before the resume, "
                                      "5 since; 12 pages fetched since the resume, 1 errors, 2.5s")
    fresh = CrawlSummary(run_id=3, resumed=False, total=9, skipped=0, counts=counts, pages=20, seconds=3.0)
    assert fresh.closing_line() == "14 verdicts: 12 pass, 2 fail; 20 pages fetched, 0 errors, 3.0s"
