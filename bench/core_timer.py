"""CPU seconds per page of one tree's `read_page` on the bench's page sets, by one function both cores share.

The bench times today's core in its own process (`time_core`) and the baseline commit's core (bench/baseline.json)
by running this file as a script inside that commit's tree, unpacked from git: the same pages, the same way of
timing, on the same machine, in the same run. So this file imports nothing of the project at its top: run as a
script it imports the core of the tree it is given, however old.

    python bench/core_timer.py TREE PAGES.pickle PASSES     # prints {set: {pages, cpu_seconds_per_page, passes}}
"""

from __future__ import annotations

import json
import pickle
import statistics
import sys
import time
from pathlib import Path


def time_core(sets: dict, passes: int, read_page, forget, matcher) -> dict[str, dict]:
    """Per page set: pages, CPU s/page (median of `passes` passes) and each pass's figure.

    CPU time (time.process_time), which the other processes of a shared machine disturb less than wall time.
    What the core keeps from page to page is emptied before each pass (`forget`, None for a core that keeps
    nothing), so a pass reads its set as a new process would: the memo helps across the set's pages of one
    portal, as it does in a crawl, not across passes over the same pages. The first call of each set builds
    the matcher's and the modules' tables and is not timed."""
    out = {}
    for name, pages in sets.items():
        if not pages:
            continue
        url, body, headers, status = pages[0]
        read_page(url, body, headers, matcher, status=status)
        runs = []
        for _ in range(passes):
            if forget is not None:
                forget(matcher)
            started = time.process_time()
            for url, body, headers, status in pages:
                read_page(url, body, headers, matcher, status=status)
            runs.append((time.process_time() - started) / len(pages))
        out[name] = {"pages": len(pages), "cpu_seconds_per_page": statistics.median(runs),
                     "passes": [round(r, 6) for r in runs]}
    return out


def main(argv: list[str]) -> int:
    tree, pages, passes = Path(argv[0]), Path(argv[1]), int(argv[2])
    sys.path.insert(0, str(tree))
    from crawler import extract
    from crawler.categories import CategoryMatcher
    from verifier.rulebook import load_rulebook

    matcher = CategoryMatcher.from_rulebook(load_rulebook(tree / "rules" / "caobang-2018.yaml"))
    with pages.open("rb") as fh:
        sets = pickle.load(fh)      # written by bench.baseline a moment ago, never from elsewhere
    result = time_core(sets, passes, extract.read_page, getattr(extract, "forget", None), matcher)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
