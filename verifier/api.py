"""The library API: what the command line and the console both call.

Typed functions over the evidence database and the spot-check; no printing, no command-line library.
Bad input raises the project's InputError subclasses, naming the field.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from verifier.errors import InputError, MalformedDate

if TYPE_CHECKING:                 # the command line imports this module: the heavy ones load when called
    from crawler.records import Verdict
    from verifier.overrides import Override
    from verifier.rulebook import Rulebook


class BadLink(InputError):
    """Cannot check the link"""


class BadCheck(InputError):
    """Cannot keep the spot-check"""


class UnknownAgency(InputError):
    """Agency not in the run"""


class CriterionNotApplicable(InputError):
    """Criterion does not apply to the agency's group"""


@dataclass(frozen=True)
class CheckResult:
    """One spot-check: its verdict, the period counted, the rulebook, how long it took, where its WARC is."""

    verdict: Verdict
    period: tuple[dt.date, dt.date]
    rulebook: Rulebook
    elapsed: float
    warc_path: Path | None


@dataclass(frozen=True)
class OverrideResult:
    """An override recorded (or withdrawn) and the scores of its run recomputed."""

    override: Override
    run_id: int
    scores: tuple                        # verifier.score.AgencyScore of the run, after the change


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


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def option_day(value: str | dt.date | None, field: str) -> dt.date | None:
    """A day (YYYY-MM-DD or dd/mm/yyyy, or a date), None when not given. Raises MalformedDate naming field."""
    if value is None or isinstance(value, dt.date):
        return value
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    raise MalformedDate(f"{value!r} (use YYYY-MM-DD or dd/mm/yyyy)", column=field)


def resolve_period(rulebook: Rulebook, year: int | None, start, end) -> tuple[dt.date, dt.date]:
    """The evaluation period: the rulebook's, or the named year, narrowed by a first and a last day."""
    period = (dt.date(year, 1, 1), dt.date(year, 12, 31)) if year is not None else tuple(rulebook.period)
    first = option_day(start, "--period-start") or period[0]
    last = option_day(end, "--period-end") or period[1]
    if first > last:
        raise MalformedDate(f"{first} is after {last}", column="--period-start/--period-end")
    return first, last


def load_rulebook(rules: Path | str | None = None) -> Rulebook:
    from verifier.rulebook import DEFAULT_RULEBOOK
    from verifier.rulebook import load_rulebook as load

    return load(rules or DEFAULT_RULEBOOK)


# ------------------------------------------------------------------------------------------------ spot-check

def check_link(url: str, criterion: str, *, year: int | None = None, period_start=None, period_end=None,
               agency_portal: str | None = None, rules: Path | str | Rulebook | None = None,
               allow_private: bool = False, ignore_robots: bool = False, timeout: float | None = None,
               warc_path: Path | None = None) -> CheckResult:
    """Spot-check one link for a criterion, as the crawl would judge it. Raises UnknownCriterion,
    MalformedDate, BadLink (an unusable URL)."""
    from crawler.categories import CategoryMatcher
    from crawler.settings import Limits, RunOptions
    from crawler.spotcheck import spot_check
    from crawler.urls import BadURL
    from verifier.rulebook import Rulebook
    from verifier.verdict import make_verdict

    started = time.monotonic()
    rulebook = rules if isinstance(rules, Rulebook) else load_rulebook(rules)
    spec = rulebook.criterion(criterion)
    period = resolve_period(rulebook, year, period_start, period_end)
    limits = Limits() if timeout is None else Limits(read_timeout=timeout, connect_timeout=min(timeout, 5.0))
    options = RunOptions(period=period, ignore_robots=ignore_robots, allow_private=allow_private, limits=limits)
    info = None
    if warc_path is not None:
        from verifier import provenance

        info = provenance.build(rulebook=rulebook, options=options, started_at=dt.datetime.now(dt.UTC),
                                sample_url=url if "://" in url else f"http://{url}")
    try:
        inv, checked_at = spot_check(url, spec.id, matcher=CategoryMatcher.from_rulebook(rulebook),
                                     options=options, agency_portal=agency_portal, warc_path=warc_path,
                                     provenance=info)
    except BadURL as exc:
        raise BadLink(str(exc), column="URL", hint="give the link as http(s)://host/path") from None
    verdict = make_verdict("-", inv.outcome, period, reported_url=url, min_posts=spec.min_posts,
                           checked_at=checked_at)
    return CheckResult(verdict, period, rulebook, time.monotonic() - started, warc_path)


@dataclass(frozen=True)
class StoredCheck:
    """A spot-check kept in the database, to be offered as the verdict of (agency, criterion)."""

    id: int
    at: dt.datetime
    by: str
    agency_id: str | None
    verdict: Verdict
    warc_file: str | None
    warc_offset: int | None
    period: tuple[dt.date, dt.date] | None = None


def store_check(db, result: CheckResult, by: str, *, agency_id: str | None = None,
                now: dt.datetime | None = None) -> StoredCheck:
    """Keep a spot-check with its evidence and the WARC record of the page it read. Raises BadCheck
    (no reviewer named), StoreError."""
    import json

    from verifier.serialize import verdict_dict
    from verifier.store import iso, parse_warc_ref, save_spot_check

    if not (by or "").strip():
        raise BadCheck("the reviewer's name is required", column="--by")
    clock = now or now_utc()
    v = result.verdict
    read = [p for p in v.pages if p.warc_record]
    listing = next((p for p in read if p.purpose == "listing"), read[0] if read else None)
    ref = parse_warc_ref(listing.warc_record) if listing else None
    warc_file = (str(result.warc_path) if result.warc_path else ref[0]) if ref else None   # the file check wrote
    evidence = verdict_dict(v, period=result.period)["evidence"]
    check_id = save_spot_check(_open(db), {
        "at": iso(clock), "by": by.strip(), "url": v.url, "criterion": v.criterion, "agency_id": agency_id,
        "status": v.status, "reason": v.reason, "posts_in_year": v.posts_in_year, "checked_url": v.checked_url,
        "detail": v.detail, "period_start": iso(result.period[0]), "period_end": iso(result.period[1]),
        "evidence_json": json.dumps(evidence, ensure_ascii=False), "warc_file": warc_file,
        "warc_offset": ref[1] if ref else None,
    })
    return StoredCheck(check_id, clock, by.strip(), agency_id, v, warc_file, ref[1] if ref else None, result.period)


# ------------------------------------------------------------------------------------------------- overrides

def _open(db, read_only: bool | None = False):
    from verifier.store import EvidenceDB, open_db

    return db if isinstance(db, EvidenceDB) else open_db(Path(db), read_only=read_only)


def _db_file(db) -> Path:
    """The database's file as the caller named it (an archived database may be read from a copy)."""
    from verifier.store import EvidenceDB

    return db.path if isinstance(db, EvidenceDB) else Path(db)


def _rescore(handle, run_id: int, at: dt.datetime) -> tuple:
    from verifier.export.audit import load_run
    from verifier.score import rulebook_label
    from verifier.score import score_run as score
    from verifier.store import save_scores

    data = load_run(handle, run_id)
    scores = score(data)
    save_scores(handle, run_id, scores, rulebook=rulebook_label(data.rulebook), period=data.period, scored_at=at)
    return tuple(scores)


def apply_override(db, agency_id: str, criterion: str, status: str, note: str, by: str, *,
                   run_id: int | None = None, now: dt.datetime | None = None,
                   spot_check_id: int | None = None) -> OverrideResult:
    """Record a reviewer's decision beside the machine verdict of the run (default: the latest), which is
    kept; the run's scores are recomputed and stored. `spot_check_id` names the spot-check it was taken from.
    Raises UnknownAgency, UnknownCriterion, CriterionNotApplicable, BadOverride (also a status the
    criterion's override_statuses do not allow), NoRun, StoreError."""
    from verifier.export.audit import load_run
    from verifier.overrides import new_override
    from verifier.store import save_override

    clock = now or now_utc()
    handle = _open(db)
    data = load_run(handle, run_id)
    info = next((a for a in data.agencies if a.agency_id == agency_id), None)
    if info is None:
        raise UnknownAgency(f"agency {agency_id!r} is not in run {data.run['id']}", column="AGENCY")
    spec = data.rulebook.criterion(criterion)
    if info.group not in spec.groups:
        raise CriterionNotApplicable(f"criterion {criterion!r} does not apply to group {info.group!r}",
                                     column="CRITERION")
    machine = data.verdict_map().get((agency_id, criterion))
    record = new_override(agency_id, criterion, status, note, by, at=clock, run_id=data.run["id"], machine=machine,
                          allowed=spec.override_statuses, spot_check_id=spot_check_id)
    saved = save_override(handle, record)
    return OverrideResult(saved, data.run["id"], _rescore(handle, data.run["id"], clock))


def withdraw_override(db, override_id: int, by: str, note: str, *, now: dt.datetime | None = None) -> OverrideResult:
    """Withdraw an override in force: the row stays (append-only audit) and records who, when and why; it is
    no longer applied. The scores of its run (else the latest) are recomputed. Raises BadWithdrawal."""
    from verifier.overrides import check_withdrawal
    from verifier.store import get_override, latest_run
    from verifier.store import withdraw_override as withdraw

    clock = now or now_utc()
    handle = _open(db)
    check_withdrawal(get_override(handle, override_id), override_id, by, note)
    saved = withdraw(handle, override_id, by=by.strip(), note=note.strip(), at=clock)
    run_id = saved.run_id or (latest_run(handle) or {}).get("id")
    return OverrideResult(saved, run_id, _rescore(handle, run_id, clock) if run_id else ())


def list_overrides(db, *, agency_id: str | None = None) -> list[Override]:
    """Every override recorded (withdrawn ones too), oldest first."""
    from verifier.store import load_overrides

    return [o for o in load_overrides(_open(db, read_only=None)) if agency_id in (None, o.agency_id)]


# ---------------------------------------------------------------------------------------------- runs, scores

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
    handle = _open(db, read_only=None)
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
    handle = _open(db, read_only=None)     # an archived (read-only) database is reported as it is
    data = load_scored_run(handle, run_id, rules, period_start, period_end, warn)
    audit = build_audit(handle, generated_at=generated_at, data=data, records=True)
    store_scores(handle, data, list(audit.scores), now or now_utc(), warn)
    written, damaged = write_formats(audit, out_dir, wanted, warn)
    written.append(_datasette_metadata(_db_file(db), out_dir))
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

    handle = _open(db, read_only=None)
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

    handle = _open(db, read_only=None)
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


# ------------------------------------------------------------------------------ the console's spot-checks

CHECK_NOTE = "Kiểm tra lại #{id}"         # opens the note of an override taken from a spot-check


def check_warc_file(db_path: Path | str) -> Path:
    """A new, empty WARC file for one spot-check: <db stem>-checks/check-<n>.warc.gz beside the database (the
    folder created on first use), n one above the highest there, reserved at once so two checks never share a
    file. Raises BadCheck when the folder cannot be written."""
    import re

    db_path = Path(db_path).resolve()
    folder = db_path.parent / f"{db_path.stem}-checks"
    try:
        folder.mkdir(exist_ok=True)
        numbers = [int(m.group(1)) for p in folder.iterdir() if (m := re.fullmatch(r"check-(\d+)\.warc\.gz", p.name))]
        n = max(numbers, default=0) + 1
        while True:
            path = folder / f"check-{n}.warc.gz"
            try:
                path.open("xb").close()
                return path
            except FileExistsError:
                n += 1
    except OSError as exc:
        raise BadCheck(f"cannot write {folder}: {exc.strerror or exc}", file=str(folder)) from None


def _check_from_row(row: dict) -> StoredCheck:
    import json

    from crawler.records import Post, Verdict
    from verifier.store import page_from_entry

    def day(text):
        return dt.date.fromisoformat(text) if text else None

    evidence = json.loads(row.get("evidence_json") or "{}")
    posts = tuple(Post(p.get("title") or "", p.get("url"), day(p.get("published")), day(p.get("updated")),
                       p.get("date_source")) for p in evidence.get("posts") or ())
    fetched = evidence.get("fetched_at")
    verdict = Verdict(agency_id=row.get("agency_id") or "-", criterion=row["criterion"], url=row.get("url"),
                      checked_url=row.get("checked_url"), status=row["status"], reason=row["reason"],
                      posts_in_year=row.get("posts_in_year"), detail=row.get("detail") or "",
                      pages=tuple(page_from_entry(p) for p in evidence.get("pages") or ()), posts=posts,
                      checked_at=dt.datetime.fromisoformat(fetched) if fetched else None)
    period = (day(row["period_start"]), day(row["period_end"])) if row.get("period_start") else None
    return StoredCheck(row["id"], dt.datetime.fromisoformat(row["at"]), row["by"] or "", row.get("agency_id"),
                       verdict, row.get("warc_file"), row.get("warc_offset"), period)


def get_check(db, check_id: int) -> StoredCheck | None:
    """The spot-check kept under that id, its verdict and evidence as records; None when there is none."""
    from verifier.store import get_spot_check

    row = get_spot_check(_open(db, read_only=None), check_id)
    return _check_from_row(row) if row else None


def list_checks(db, limit: int = 50) -> list[StoredCheck]:
    """The latest spot-checks kept, newest first."""
    from verifier.store import list_spot_checks

    return [_check_from_row(r) for r in list_spot_checks(_open(db, read_only=None), limit)]


def use_check(db, check_id: int, note: str, by: str, *, run_id: int | None = None,
              now: dt.datetime | None = None) -> OverrideResult:
    """Take a spot-check as the reviewer's decision on its (agency, criterion) in the run (default: the latest):
    an override with the check's status, linked to the check, its note opened by "Kiểm tra lại #N". Raises
    BadCheck (no such check, or a check naming no agency), BadOverride (an empty note, a status the criterion
    does not allow) and what apply_override raises."""
    from verifier.overrides import BadOverride

    check = get_check(db, check_id)
    if check is None:
        raise BadCheck(f"spot-check #{check_id} is not in the database", column="CHECK")
    if not check.agency_id:
        raise BadCheck(f"spot-check #{check_id} names no agency", column="--agency")
    if not (note or "").strip():
        raise BadOverride("a note saying why is required", column="--note")
    return apply_override(db, check.agency_id, check.verdict.criterion, check.verdict.status,
                          f"{CHECK_NOTE.format(id=check_id)}: {note.strip()}", by, run_id=run_id, now=now,
                          spot_check_id=check_id)


# ---------------------------------------------------------------------------------------- confirmation round

KINDS = ("confirm", "dispute")
DECISIONS = ("accept", "reject")
ROUND_NOTE_LIMIT = 4000


class BadRound(InputError):
    """Cannot open or close the round"""


class NoRoundOpen(InputError):
    """No confirmation round is open"""


class RoundClosed(InputError):
    """The confirmation round is closed"""


class BadResponse(InputError):
    """Cannot record the agency's answer"""


class BadAnswer(InputError):
    """Cannot record the answer to the dispute"""


@dataclass(frozen=True)
class Round:
    """A confirmation round on one finished run; agencies answer until closes_on (the province's day)."""

    id: int
    run_id: int
    opened_at: dt.datetime
    opened_by: str
    closes_on: dt.date
    closed_at: dt.datetime | None
    closed_by: str | None

    def past_date(self, now: dt.datetime) -> bool:
        from crawler.dates import VN_TZ

        return now.astimezone(VN_TZ).date() > self.closes_on

    def accepting(self, now: dt.datetime | None = None) -> bool:
        """Agencies may still answer: not closed, and its last day not over."""
        return self.closed_at is None and not self.past_date(now or now_utc())


@dataclass(frozen=True)
class DisputeAnswer:
    id: int
    decision: str                        # accept | reject
    status: str | None                   # the new status when accepting it changed the result
    note: str
    by: str
    at: dt.datetime
    override_id: int | None


@dataclass(frozen=True)
class Response:
    """An agency's answer on one criterion in a round; its reviewer's answer when a dispute was answered."""

    id: int
    round_id: int
    agency_id: str
    criterion: str
    kind: str                            # confirm | dispute
    note: str
    corrected_url: str | None
    by: str
    at: dt.datetime
    answer: DisputeAnswer | None = None

    @property
    def open_dispute(self) -> bool:
        return self.kind == "dispute" and self.answer is None


@dataclass(frozen=True)
class AgencyRound:
    agency_id: str
    agency_name: str
    confirmed: int
    disputed: int
    unanswered: int


@dataclass(frozen=True)
class RoundSummary:
    """The round's state: per agency the criteria confirmed, disputed and not answered (latest answers), and
    the disputes no reviewer has answered yet."""

    round: Round
    agencies: tuple[AgencyRound, ...]
    open_disputes: tuple[Response, ...]
    latest: dict                         # (agency_id, criterion) -> the Response that counts


def _moment_of(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _round(row: dict | None) -> Round | None:
    if row is None:
        return None
    return Round(row["id"], row["run_id"], _moment_of(row["opened_at"]), row["opened_by"],
                 dt.date.fromisoformat(row["closes_on"]), _moment_of(row["closed_at"]), row["closed_by"])


def _response(row: dict) -> Response:
    a = row.get("answer")
    answer = DisputeAnswer(a["id"], a["decision"], a["status"], a["note"], a["by"], _moment_of(a["at"]),
                           a["override_id"]) if a else None
    return Response(row["id"], row["round_id"], row["agency_id"], row["criterion"], row["kind"], row["note"] or "",
                    row["corrected_url"], row["by"], _moment_of(row["at"]), answer)


def _named(by: str, error) -> str:
    if not (by or "").strip():
        raise error("the name of who does it is required", column="--by")
    return by.strip()


def _note(note: str | None, error, *, required: bool) -> str:
    text = (note or "").strip()
    if required and not text:
        raise error("a note saying why is required", column="--note")
    if len(text) > ROUND_NOTE_LIMIT:
        raise error(f"the note is longer than {ROUND_NOTE_LIMIT} characters", column="--note")
    return text


def current_round(db) -> Round | None:
    """The latest round (open or closed), or None when none was ever opened."""
    from verifier.store import latest_round

    return _round(latest_round(_open(db, read_only=None)))


def open_round(db, closes_on, by: str, *, run_id: int | None = None, now: dt.datetime | None = None) -> Round:
    """Open the confirmation round on the latest finished run (run_id, when given, must be that run), agencies
    answering until closes_on (YYYY-MM-DD or dd/mm/yyyy, the province's day). Raises BadRound (a second round
    while one accepts answers, a run that is not the latest finished one, a day already past), MalformedDate,
    NoRun."""
    from crawler.dates import VN_TZ
    from verifier.store import NoRun, get_round, latest_run, save_round

    clock = now or now_utc()
    handle = _open(db)
    who = _named(by, BadRound)
    day = option_day(closes_on, "--closes")
    if day is None:
        raise MalformedDate("the round's last day is required", column="--closes")
    if day < clock.astimezone(VN_TZ).date():
        raise BadRound(f"{day} is already past", column="--closes")
    current = current_round(handle)
    if current is not None and current.accepting(clock):
        raise BadRound(f"round #{current.id} is open until {current.closes_on}: close it first", column="round",
                       hint="portal-evidence round close --by NAME")
    latest = latest_run(handle, status="done")
    if latest is None:
        raise NoRun("the database holds no finished run", column="--run")
    if run_id is not None and int(run_id) != latest["id"]:
        raise BadRound(f"run {run_id} is not the latest finished run ({latest['id']})", column="--run")
    round_id = save_round(handle, run_id=latest["id"], opened_at=clock, opened_by=who, closes_on=day, audit={
        "at": clock, "who": who, "action": "round-open", "object": f"run {latest['id']}",
        "detail": lambda pk: f"round #{pk} until {day.isoformat()}"})
    return _round(get_round(handle, round_id))


def close_round(db, by: str, now: dt.datetime | None = None) -> Round:
    """Close the round not yet closed (also one whose last day is over). Raises NoRoundOpen, BadRound."""
    from verifier.store import close_round_row

    clock = now or now_utc()
    handle = _open(db)
    who = _named(by, BadRound)
    current = current_round(handle)
    if current is None or current.closed_at is not None:
        raise NoRoundOpen("there is no round to close", column="round")
    close_round_row(handle, current.id, at=clock, by=who, audit={
        "at": clock, "who": who, "action": "round-close", "object": f"run {current.run_id}",
        "detail": f"round #{current.id}"})
    return current_round(handle)


def _accepting_round(handle, clock: dt.datetime) -> Round:
    current = current_round(handle)
    if current is None:
        raise NoRoundOpen("no confirmation round was opened", column="round")
    if current.closed_at is not None:
        raise RoundClosed(f"round #{current.id} was closed", column="round")
    if current.past_date(clock):
        raise RoundClosed(f"round #{current.id} closed after {current.closes_on}", column="round")
    return current


def respond(db, agency_id: str, criterion: str, kind: str, note: str | None, by: str, *,
            corrected_url: str | None = None, now: dt.datetime | None = None) -> Response:
    """Record an agency's confirmation or dispute of its verdict on a criterion in the open round (a new row:
    the latest counts). A dispute needs a note; a corrected link goes with a dispute. Raises NoRoundOpen,
    RoundClosed, UnknownAgency, UnknownCriterion, BadResponse, MalformedURL."""
    from crawler.urls import BadURL, normalise_url
    from verifier.errors import MalformedURL, UnknownCriterion
    from verifier.store import get_response, save_response, verdict_keys

    clock = now or now_utc()
    handle = _open(db)
    current = _accepting_round(handle, clock)
    kind = (kind or "").strip().lower()
    if kind not in KINDS:
        raise BadResponse(f"kind {kind!r} is not one of {', '.join(KINDS)}", column="--kind")
    keys = verdict_keys(handle, current.run_id)
    if agency_id not in {a for a, _ in keys}:
        raise UnknownAgency(f"agency {agency_id!r} has no verdict in run {current.run_id}", column="AGENCY")
    if (agency_id, criterion) not in keys:
        raise UnknownCriterion(f"{agency_id!r} has no verdict on {criterion!r} in run {current.run_id}",
                               column="CRITERION")
    text = _note(note, BadResponse, required=kind == "dispute")
    link = (corrected_url or "").strip() or None
    if link is not None:
        if kind != "dispute":
            raise BadResponse("a corrected link goes with a dispute", column="--url")
        try:
            link = normalise_url(link)
        except BadURL as exc:
            raise MalformedURL(str(exc), column="--url", hint="give the link as http(s)://host/path") from None
    who = _named(by, BadResponse)
    detail = f"round #{current.id}: {text}" + (f" [{link}]" if link else "")
    response_id = save_response(handle, {
        "round_id": current.id, "agency_id": agency_id, "criterion": criterion, "kind": kind, "note": text,
        "corrected_url": link, "by": who, "at": iso_of(clock)},
        {"at": clock, "who": who, "action": kind, "object": f"{agency_id}/{criterion}", "detail": detail})
    return _response(dict(get_response(handle, response_id), answer=None))


def iso_of(value) -> str | None:
    from verifier.store import iso

    return iso(value)


def responses(db, *, agency_id: str | None = None, criterion: str | None = None,
              round_id: int | None = None) -> list[Response]:
    """Agencies' answers, oldest first, each with the reviewer's answer to it."""
    from verifier.store import round_responses

    rows = round_responses(_open(db, read_only=None), round_ids=None if round_id is None else [round_id],
                           agency_id=agency_id, criterion=criterion)
    return [_response(r) for r in rows]


def _latest(items) -> dict:
    latest: dict = {}
    for r in items:                      # oldest first: the last one counts
        latest[(r.agency_id, r.criterion)] = r
    return latest


def answer_dispute(db, response_id: int, decision: str, note: str | None, by: str, *, status: str | None = None,
                   now: dt.datetime | None = None) -> Response:
    """A reviewer's answer to an agency's dispute (the answer that still counts, not yet answered): accept with
    a status records an override of the round's run whose note cites the dispute; accept without a status says
    the agency is right with nothing to change; reject. A note is required. Raises BadAnswer (column ID for a
    dispute unknown, answered or replaced since; --decision, --status, --note), BadOverride."""
    from verifier.store import get_response, get_round, save_dispute_answer

    clock = now or now_utc()
    handle = _open(db)
    row = get_response(handle, int(response_id)) if str(response_id).strip().isdigit() else None
    if row is None or row["kind"] != "dispute":
        raise BadAnswer(f"no dispute #{response_id}", column="ID")
    dispute = next(r for r in responses(handle, round_id=row["round_id"]) if r.id == row["id"])
    if dispute.answer is not None:
        raise BadAnswer(f"dispute #{dispute.id} was already answered", column="ID")
    counting = _latest(responses(handle, round_id=dispute.round_id))[(dispute.agency_id, dispute.criterion)]
    if counting.id != dispute.id:
        raise BadAnswer(f"the agency answered again since dispute #{dispute.id}", column="ID")
    decision = (decision or "").strip().lower()
    if decision not in DECISIONS:
        raise BadAnswer(f"decision {decision!r} is not one of {', '.join(DECISIONS)}", column="--decision")
    text = _note(note, BadAnswer, required=True)
    who = _named(by, BadAnswer)
    status = (status or "").strip().lower() or None
    if status is not None and decision == "reject":
        raise BadAnswer("a rejected dispute changes no status", column="--status")
    override_id = None
    if status is not None:
        from verifier.overrides import STATUSES

        if status not in STATUSES:
            raise BadAnswer(f"status {status!r} is not one of {', '.join(STATUSES)}", column="--status")
        run_id = get_round(handle, dispute.round_id)["run_id"]
        cited = f"Chấp nhận ý kiến của đơn vị (đợt xác nhận #{dispute.round_id}, ý kiến #{dispute.id}): {text}"
        override_id = apply_override(handle, dispute.agency_id, dispute.criterion, status, cited, who,
                                     run_id=run_id, now=clock).override.id
    what = f"#{dispute.id} {decision}" + (f" -> {status} (override #{override_id})" if override_id else "")
    save_dispute_answer(handle, {
        "response_id": dispute.id, "decision": decision, "status": status, "note": text, "by": who,
        "at": iso_of(clock), "override_id": override_id},
        {"at": clock, "who": who, "action": "answer", "object": f"{dispute.agency_id}/{dispute.criterion}",
         "detail": f"{what}: {text}"})
    return next(r for r in responses(handle, round_id=dispute.round_id) if r.id == dispute.id)


def round_summary(db, *, round_id: int | None = None) -> RoundSummary | None:
    """The state of the round (default: the latest), None when none was opened."""
    from verifier.store import get_round, run_agency_names, verdict_keys

    handle = _open(db, read_only=None)
    current = current_round(handle) if round_id is None else _round(get_round(handle, round_id))
    if current is None:
        return None
    keys = verdict_keys(handle, current.run_id)
    latest = _latest(responses(handle, round_id=current.id))
    agencies = []
    for agency_id, name in run_agency_names(handle, current.run_id):
        criteria = [c for a, c in keys if a == agency_id]
        if not criteria:
            continue
        kinds = [latest[(agency_id, c)].kind for c in criteria if (agency_id, c) in latest]
        agencies.append(AgencyRound(agency_id, name, kinds.count("confirm"), kinds.count("dispute"),
                                    len(criteria) - len(kinds)))
    disputes = tuple(r for r in latest.values() if r.open_dispute)
    return RoundSummary(current, tuple(agencies), tuple(sorted(disputes, key=lambda r: r.id)), latest)
