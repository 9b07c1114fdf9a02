"""Runs: scoring, the report and its formats, the list of runs and what changed between two."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from verifier.api.base import db_file, now_utc, open_handle, option_day
from verifier.errors import InputError, MalformedDate

if TYPE_CHECKING:                 # the command line imports this package: the heavy ones load when called
    from verifier.rulebook import Rulebook


@dataclass(frozen=True)
class RunSummary:
    id: int
    started_at: str | None
    finished_at: str | None
    status: str
    period: tuple[str | None, str | None]
    rulebook: str                        # the rulebook's title when known, else its file
    counts: dict[str, int]               # verdicts by status
    command: str | None                  # who or what started it: the provenance's command line


@dataclass(frozen=True)
class VerdictChange:
    """A verdict of one run beside the same (agency, criterion) of another; None where a run has none."""

    agency_id: str
    criterion: str
    status_before: str | None
    reason_before: str | None
    posts_before: int | None
    status_after: str | None
    reason_after: str | None
    posts_after: int | None


FORMATS = ("json", "xlsx", "html", "warc", "wacz", "pdf")
DEFAULT_FORMATS = ("json", "xlsx", "html", "warc")   # wacz, and pdf (phieu/: a form per agency), when asked
ATTENTION_REASONS = frozenset({"unreachable"})


class CannotWriteReport(InputError):
    """Cannot write the report"""


@dataclass(frozen=True)
class ScoreResult:
    """A run loaded and scored (verifier.score.RunData and AgencyScore), and whether a reviewer is needed."""

    data: object
    scores: tuple
    warnings: tuple[str, ...]

    @property
    def attention(self) -> bool:
        """Verdicts of ranked agencies wait for a reviewer, or links could not be fetched."""
        return (any(s.pending for s in self.scores if s.ranked)
                or any(v.reason in ATTENTION_REASONS for v in self.data.verdicts))


@dataclass(frozen=True)
class ReportResult:
    run_id: int
    written: tuple[Path, ...]
    warnings: tuple[str, ...]
    damaged: bool                        # WARC evidence found damaged or missing (warned, not failed)
    attention: bool


def _warner(on_warning):
    said: list[str] = []

    def warn(text: str) -> None:
        said.append(text)
        if on_warning is not None:
            on_warning(text)
    return said, warn


def _period(run: dict, rulebook: Rulebook, start, end):
    """None (the run's period) unless a first or last day narrows or moves it."""
    if start is None and end is None:
        return None
    first = (option_day(start, "--period-start") or option_day(run.get("period_start"), "--period-start")
             or rulebook.period[0])
    last = option_day(end, "--period-end") or option_day(run.get("period_end"), "--period-end") or rulebook.period[1]
    if first > last:
        raise MalformedDate(f"{first} is after {last}", column="--period-start/--period-end")
    return first, last


def load_scored_run(handle, run_id: int | None, rules, period_start, period_end, warn):
    """The run loaded for scoring (RunData), with the rulebook and period asked for; warns when the period
    starts before the one the run was crawled for."""
    from verifier.export.audit import load_run
    from verifier.score import resolve_rulebook
    from verifier.store import pick_run

    run = pick_run(handle, run_id)
    rulebook = resolve_rulebook(run, rules)
    period = _period(run, rulebook, period_start, period_end)
    run_start = option_day(run.get("period_start"), "--period-start") or rulebook.period[0]
    if period and period[0] < run_start:
        warn(f"warning: run {run['id']} was crawled for a period from {run_start}: a listing read newest "
             f"first was not read past it, so posts before {run_start} may be missing from the count; "
             f"crawl again with --period-start {period[0]} for a complete count")
    return load_run(handle, run["id"], rulebook=rulebook, period=period)


def store_scores(handle, data, scores, scored_at: dt.datetime, warn) -> None:
    """Keep the scores in the database; on a read-only (archived) database warn that they were not kept."""
    from verifier.score import rulebook_label
    from verifier.store import ReadOnlyDatabase, save_scores

    try:
        save_scores(handle, data.run["id"], scores, rulebook=rulebook_label(data.rulebook), period=data.period,
                    scored_at=scored_at)
    except ReadOnlyDatabase:
        warn(f"warning: {handle.path} is read-only: the scores are shown but not stored")


def score_run(db, run_id: int | None = None, *, rules: Path | str | None = None, period_start=None,
              period_end=None, now: dt.datetime | None = None, store: bool = True,
              on_warning=None) -> ScoreResult:
    """Score and rank the run (default: the latest) and, with store, keep the scores (an archived read-only
    database is scored and warned about). Raises NoRun, MalformedDate, StoreError, RulebookError."""
    from verifier.score import score_run as score

    said, warn = _warner(on_warning)
    handle = open_handle(db, read_only=None)
    data = load_scored_run(handle, run_id, rules, period_start, period_end, warn)
    scores = score(data)
    if store:
        store_scores(handle, data, scores, now or now_utc(), warn)
    return ScoreResult(data, tuple(scores), tuple(said))


def parse_formats(formats) -> list[str]:
    """The report formats asked for (a comma-separated string or a list). Raises InputError naming --format."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    wanted = [f.strip().lower() for f in items if f.strip()]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise InputError(f"unknown format(s) {', '.join(unknown) or '(none)'}; use {', '.join(FORMATS)}",
                         column="--format")
    return wanted


def write_report(db, out_dir: Path | str, formats=DEFAULT_FORMATS, *, run_id: int | None = None,
                 rules: Path | str | None = None, period_start=None, period_end=None,
                 now: dt.datetime | None = None, generated_at: dt.datetime | None = None,
                 on_warning=None) -> ReportResult:
    """Write the audit report of a run in the formats asked for, and the Datasette metadata beside it; the
    scores are stored too. The report states the run's time (or generated_at), so the same run gives the
    same files. Raises InputError (--format), CannotWriteReport, NoRun, StoreError."""
    from verifier.export.audit import build_audit

    wanted = parse_formats(formats)
    said, warn = _warner(on_warning)
    out_dir = Path(out_dir)
    handle = open_handle(db, read_only=None)     # an archived (read-only) database is reported as it is
    data = load_scored_run(handle, run_id, rules, period_start, period_end, warn)
    audit = build_audit(handle, generated_at=generated_at, data=data, records=True)
    store_scores(handle, data, list(audit.scores), now or now_utc(), warn)
    written, damaged = write_formats(audit, out_dir, wanted, warn)
    written.append(_datasette_metadata(db_file(db), out_dir))
    attention = ScoreResult(data, tuple(audit.scores), ()).attention or damaged
    return ReportResult(data.run["id"], tuple(written), tuple(said), damaged, attention)


def _datasette_metadata(db: Path, out_dir: Path) -> Path:
    """DIR/metadata.yaml: Datasette's descriptions of the database's tables and columns, so that
    `datasette <db> -m DIR/metadata.yaml` shows them. Raises InputError when it cannot be written."""
    from verifier.store import write_datasette_metadata

    try:
        return write_datasette_metadata(db, Path(out_dir) / "metadata.yaml")
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", file=str(Path(out_dir) / "metadata.yaml")) from None


def write_formats(audit, out_dir: Path, wanted: list[str], warn) -> tuple[list[Path], bool]:
    """Write the asked formats; returns the paths written, and whether evidence was found damaged or missing
    (WARC problems are warnings, not failures). Raises CannotWriteReport (disk full, a read-only folder)."""
    from verifier.export.html import write_html
    from verifier.export.json import write_json
    from verifier.export.phieu import write_phieu
    from verifier.export.warc import write_warc
    from verifier.export.xlsx import write_xlsx

    written, damaged = [], False
    before = _temporary_files(out_dir)
    try:
        if "json" in wanted:
            written.append(write_json(audit, out_dir))
        if "xlsx" in wanted:
            written.append(write_xlsx(audit, out_dir, link_html="html" in wanted))
        if "html" in wanted:
            written.append(write_html(audit, out_dir))
        if "xlsx" in wanted or "pdf" in wanted:     # the forms: XLSX with the workbook, PDF too when asked
            written.extend(write_phieu(audit, out_dir, pdf="pdf" in wanted))
        if "warc" in wanted:
            export = write_warc(audit, out_dir)
            for name in export.missing:
                warn(f"warning: WARC file {name} of run {audit.run_id} not found")
            for problem in export.damaged:
                warn(f"warning: damaged WARC file {problem}")
            damaged = bool(export.missing or export.damaged)
            if export.index is None:
                warn(f"warning: run {audit.run_id} has no WARC file to copy")
            else:
                written.extend(export.copied + [export.index])
        if "wacz" in wanted:
            from verifier.export.wacz import write_wacz

            packed = write_wacz(audit, out_dir)
            if "warc" not in wanted:       # said once when both are asked for
                for name in packed.missing:
                    warn(f"warning: WARC file {name} of run {audit.run_id} not found")
                for problem in packed.damaged:
                    warn(f"warning: damaged WARC file {problem}")
            damaged = damaged or bool(packed.missing or packed.damaged)
            if packed.path is None:
                warn(f"warning: run {audit.run_id} has no WARC file to pack")
            else:
                written.append(packed.path)
    except OSError as exc:
        for half_written in _temporary_files(out_dir) - before:   # each writer writes FILE.tmp, then renames it
            half_written.unlink(missing_ok=True)
        raise CannotWriteReport(exc.strerror or str(exc), file=exc.filename or str(out_dir),
                                hint="free some disk space or choose another --out folder") from None
    return written, damaged


def _temporary_files(out_dir: Path) -> set[Path]:
    return set(Path(out_dir).rglob("*.tmp")) if Path(out_dir).is_dir() else set()


def list_runs(db) -> list[RunSummary]:
    """Every run, newest first: when, status, period, rulebook, verdict counts by status, the command."""
    from verifier.store import list_runs as rows
    from verifier.store import run_provenance

    handle = open_handle(db, read_only=None)
    summaries = []
    for run in rows(handle):
        known = run_provenance(run)
        rulebook = known.get("rulebook") if isinstance(known.get("rulebook"), dict) else {}
        summaries.append(RunSummary(
            run["id"], run.get("started_at"), run.get("finished_at"), run.get("status") or "",
            (run.get("period_start"), run.get("period_end")),
            rulebook.get("title") or Path(run.get("rulebook") or "").name, dict(run["counts"]),
            known.get("command")))
    return summaries


def diff_runs(db, run_a: int, run_b: int) -> list[VerdictChange]:
    """The verdicts whose status, reason or posts counted differ between two runs (or that only one has)."""
    from verifier.store import NoRun, get_run, verdict_pairs

    handle = open_handle(db, read_only=None)
    for run_id, field in ((run_a, "A"), (run_b, "B")):
        if get_run(handle, run_id) is None:
            raise NoRun(f"run {run_id} is not in the database", column=field)
    changes = []
    for before, after in verdict_pairs(handle, run_a, run_b):
        reading = [(r or {}).get(k) for r in (before, after) for k in ("status", "reason", "posts_in_year")]
        if reading[:3] == reading[3:]:
            continue
        key = before or after
        changes.append(VerdictChange(key["agency_id"], key["criterion"], *reading))
    return changes
