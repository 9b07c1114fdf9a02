"""Provenance: which tool, version and options produced a run's evidence, stated in every export.

One dict, built when a crawl (or a spot-check) starts, stored with the run, written into the
WARC's `warcinfo` record and shown by report.json (`run.provenance`), the HTML footer and the
workbook. Its times carry their time zone (the province's local time, +07:00).
"""

from __future__ import annotations

import datetime as dt
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path

from crawler import __version__
from crawler.dates import local_time as province_time
from crawler.proxy import proxy_for

TOOL = "portal-evidence"


def local_time(value: dt.datetime | None) -> str | None:
    """A moment as ISO 8601 in the province's time, with its offset: 2018-11-20T09:15:02+07:00."""
    return None if value is None else province_time(value).isoformat(timespec="seconds")


@cache
def git_revision() -> str | None:
    """The commit of the source tree the tool runs from, or None for an installed package."""
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        done = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    rev = done.stdout.strip()
    if done.returncode != 0 or not rev:
        return None
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, timeout=5, check=False).stdout.strip()
    return rev + ("-dirty" if dirty else "")


def command_line(argv: list[str] | None = None) -> str:
    """The command as typed (its program name shortened to the tool's)."""
    args = list(sys.argv if argv is None else argv)
    if args and Path(args[0]).name in ("portal-evidence", "cli.py", "__main__.py", "pytest"):
        args[0] = TOOL if Path(args[0]).name != "pytest" else args[0]
    return shlex.join(args)


def build(*, rulebook, options, started_at: dt.datetime, sample_url: str | None = None,
          argv: list[str] | None = None) -> dict:
    """The provenance of a run that starts now. `rulebook` is a verifier.rulebook.Rulebook, `options`
    a crawler.settings.RunOptions; `sample_url` (a reported link) tells whether a proxy is in use."""
    return {
        "tool": TOOL,
        "version": __version__,
        "git_revision": git_revision(),
        "python": f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}",
        "command": command_line(argv),
        "user_agent": options.user_agent,
        "rulebook": {"title": rulebook.title, "file": Path(rulebook.source).name if rulebook.source else None,
                     "sha256": rulebook.sha256 or None},
        "period": [options.period[0].isoformat(), options.period[1].isoformat()],
        "proxy": bool(proxy_for(sample_url or "http://example.invalid/")),
        "robots": "ignored" if options.ignore_robots else "obeyed",
        "allow_private": options.allow_private,
        "started_at": local_time(started_at),
        "finished_at": None,
    }


def finished(provenance: dict, at: dt.datetime) -> dict:
    """The same provenance with its end time."""
    return {**provenance, "finished_at": local_time(at)}
