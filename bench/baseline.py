"""The baseline core (the commit bench/baseline.json names) timed beside today's, in the same run.

A speed-up is only a measurement when both cores read the same pages on the same machine under the same load:
`measure_both` unpacks the baseline commit's tree from git into a temporary folder, and times it
(bench/core_timer.py run as a script in that tree) and today's core (in this process) in turn, round by round,
taking the median of all their passes. Where git cannot give that tree (a shallow clone, an export without
history), the figures stored in bench/baseline.json are used instead, and the result says so: they were
measured on the machine it names, not necessarily this one.
"""

from __future__ import annotations

import json
import pickle
import statistics
import subprocess
import sys
import tarfile
import tempfile
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "bench" / "baseline.json"
TIMER = ROOT / "bench" / "core_timer.py"
TREE_PARTS = ("crawler", "verifier", "rules")      # what the core, the matcher and the rulebook import


def stored() -> dict:
    return json.loads(BASELINE.read_text(encoding="utf-8")) if BASELINE.exists() else {"sets": {}}


def unpack(commit: str, into: Path) -> Path | None:
    """The commit's tree unpacked under `into` (git archive), or None when this checkout does not have it."""
    tree = into / f"baseline-{commit}"
    archive = into / "baseline.tar"
    try:
        with archive.open("wb") as out:
            done = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", commit, *TREE_PARTS],
                                  stdout=out, stderr=subprocess.DEVNULL, check=False)
    except OSError:         # no git on this machine
        return None
    if done.returncode != 0:
        return None
    tree.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return tree


def time_tree(tree: Path, pages: Path, passes: int) -> dict[str, dict]:
    """The tree's core timed by bench/core_timer.py in a process of its own (its imports are the tree's)."""
    done = subprocess.run([sys.executable, str(TIMER), str(tree), str(pages), str(passes)], cwd=tree,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the baseline core failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout)


@contextmanager
def commit_timer(commit: str | None, sets: dict):
    """A function timing the commit's core on the page sets (passes -> its figures per set), with the commit's
    tree unpacked for as long as the block runs; None when git cannot give that tree."""
    with tempfile.TemporaryDirectory(prefix="portal-evidence-baseline-") as tmp:
        tree = unpack(commit, Path(tmp)) if commit else None
        if tree is None:
            yield None
            return
        pages = Path(tmp) / "pages.pickle"
        with pages.open("wb") as fh:
            pickle.dump(sets, fh)
        yield lambda passes: time_tree(tree, pages, passes)


def measure_both(sets: dict, passes: int, rounds: int, today) -> tuple[dict, dict, str]:
    """(today's figures, the baseline's figures, how the baseline was had) per page set; `today(sets, passes)`
    times today's core. Each round times the baseline, then today's core; a set's figure is the median of
    all its passes over the rounds."""
    doc = stored()
    commit = doc.get("commit")
    with commit_timer(commit, sets) as then:
        if then is None:
            now = today(sets, passes)
            return now, doc.get("sets", {}), (f"stored in bench/baseline.json (commit {commit}, measured on "
                                              f"{doc.get('machine', {}).get('cpu_model', 'another machine')}): "
                                              "git has no such commit here")
        then_rounds, now_rounds = [], []
        for _ in range(rounds):
            then_rounds.append(then(passes))
            now_rounds.append(today(sets, passes))
    return (_pooled(now_rounds), _pooled(then_rounds),
            f"commit {commit} unpacked from git and timed in this run, {rounds} rounds of {passes} passes, "
            "in turn with today's core")


def _pooled(rounds: list[dict]) -> dict:
    """Per set: the median CPU s/page over every pass of every round, and those passes."""
    out = {}
    for name in rounds[0]:
        runs = [r for rnd in rounds for r in rnd[name]["passes"]]
        out[name] = {"pages": rounds[0][name]["pages"], "cpu_seconds_per_page": statistics.median(runs),
                     "passes": runs}
    return out
