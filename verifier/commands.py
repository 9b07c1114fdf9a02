"""The commands after the crawl: score, override, report; and the forms: form, intake.

Thin shells like `check` in cli.py: parse options, call one library function, print, map errors to exit
codes (0 done, 1 done but verdicts need review or failed to fetch, 2 bad input or usage).
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
import sys
import time
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from verifier.errors import InputError, MalformedDate
from verifier.export.safe_text import SafeConsole as Console  # no markup, no escapes from crawled text

EXIT_OK, EXIT_ATTENTION, EXIT_USAGE = 0, 1, 2
DEFAULT_DB = Path("portal-evidence.db")     # every command's --db default (sqlite_utils is imported late)
FORMATS = ("json", "xlsx", "html", "warc", "wacz", "pdf")
DEFAULT_FORMATS = ("json", "xlsx", "html", "warc")   # wacz, and pdf (phieu/: a form per agency), when asked
ATTENTION_REASONS = frozenset({"unreachable"})

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(error: Exception, hint: str | None = None):
    message = error.message() if isinstance(error, InputError) else str(error)
    err.print(Text(f"Error: {message}"))
    hint = hint or getattr(error, "hint", None)
    if hint:
        err.print(Text(f"Hint: {hint}"))
    raise typer.Exit(EXIT_USAGE)


def _now(text: str | None) -> dt.datetime:
    """The clock: now, or the hidden --now (tests and reproducible reports)."""
    if not text:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise MalformedDate(f"{text!r} (use an ISO timestamp)", column="--now") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def option_day(value: str | None, option: str) -> dt.date | None:
    """A day given on the command line (YYYY-MM-DD or dd/mm/yyyy), None when not given."""
    if value is None:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    raise MalformedDate(f"{value!r} (use YYYY-MM-DD or dd/mm/yyyy)", column=option)


def _period(run: dict, rulebook, start: str | None, end: str | None):
    """None (the run's period) unless --period-start/--period-end narrow or move it."""
    if start is None and end is None:
        return None
    first = (option_day(start, "--period-start") or option_day(run.get("period_start"), "--period-start")
             or rulebook.period[0])
    last = option_day(end, "--period-end") or option_day(run.get("period_end"), "--period-end") or rulebook.period[1]
    if first > last:
        raise MalformedDate(f"{first} is after {last}", column="--period-start/--period-end")
    return first, last


def _open(db_path: Path, *, read_only: bool | None = False):
    """The evidence database; read_only=None: read-only when it cannot be written (an archived copy)."""
    from verifier.store import open_db

    return open_db(db_path, read_only=read_only)


def _load(db, run_id, rules, period_start, period_end):
    from verifier.export.audit import load_run
    from verifier.score import resolve_rulebook
    from verifier.store import pick_run

    run = pick_run(db, run_id)
    rulebook = resolve_rulebook(run, rules)
    period = _period(run, rulebook, period_start, period_end)
    run_start = option_day(run.get("period_start"), "--period-start") or rulebook.period[0]
    if period and period[0] < run_start:
        err.print(Text(f"warning: run {run['id']} was crawled for a period from {run_start}: a listing read newest "
                       f"first was not read past it, so posts before {run_start} may be missing from the count; "
                       f"crawl again with --period-start {period[0]} for a complete count"))
    return load_run(db, run["id"], rulebook=rulebook, period=period)


def _store_scores(db, data, scores, scored_at) -> None:
    """Keep the scores in the database; on a read-only (archived) database say they were not kept."""
    from verifier.score import rulebook_label
    from verifier.store import ReadOnlyDatabase, save_scores

    try:
        save_scores(db, data.run["id"], scores, rulebook=rulebook_label(data.rulebook), period=data.period,
                    scored_at=scored_at)
    except ReadOnlyDatabase:
        err.print(Text(f"warning: {db.path} is read-only: the scores are shown but not stored"))


def resume_command(argv: list[str] | None = None) -> str:
    """The command line that was run, to run again (the script's interpreter named when run as `python cli.py`)."""
    argv = list(sys.argv if argv is None else argv)
    if argv and argv[0].endswith(".py"):
        argv = [sys.executable, *argv]
    return shlex.join(argv)


def exit_interrupted(stopped) -> None:
    """A crawl stopped by a signal: say (in Vietnamese, as the console speaks to reviewers) how far it got
    and how to resume, and exit 128 + the signal number (130 Ctrl-C, 143 SIGTERM)."""
    if not stopped.run_id:
        err.print(Text(f"Đã dừng (nhận tín hiệu {signal_name(stopped.signum)}) trước khi lần chạy bắt đầu; "
                       f"chưa có gì được ghi."))
        err.print(Text(f"Để chạy lại: {resume_command()}"))
        raise typer.Exit(stopped.exit_code)
    err.print(Text(
        f"Đã dừng lần chạy {stopped.run_id} (nhận tín hiệu {signal_name(stopped.signum)}): "
        f"{stopped.done}/{stopped.total} liên kết đã có kết luận. Các liên kết đang kiểm tra dở chưa được ghi "
        f"kết luận; lần chạy chưa xong và có thể chạy tiếp."))
    err.print(Text(f"Để chạy tiếp, chạy lại đúng lệnh này: {resume_command()}"))
    raise typer.Exit(stopped.exit_code)


def signal_name(signum: int) -> str:
    import signal

    try:
        return signal.Signals(signum).name
    except ValueError:
        return str(signum)


def _needs_attention(data, scores) -> bool:
    return (any(s.pending for s in scores if s.ranked)
            or any(v.reason in ATTENTION_REASONS for v in data.verdicts))


def _print_scores(data, scores, console: Console = out) -> None:
    from verifier.export.labels import not_ranked_label
    from verifier.score import ranking_order

    rb = data.rulebook
    for gid, gname in rb.groups.items():
        members = ranking_order(s for s in scores if s.group == gid)
        if not members:
            continue
        table = Table(title=f"{gname} – tối đa {rb.max_points(gid):g} điểm")
        for col in ("Hạng", "Đơn vị", "Điểm", "%", "Mức", "Chờ xem xét", "Ghi chú"):
            table.add_column(col)
        for s in members:
            if s.ranked:
                table.add_row(str(s.rank), Text(s.agency_name or s.agency_id), f"{s.score:g}/{s.max_score:g}",
                              f"{s.percent:g}", Text(s.level or ""), str(s.pending or ""), "")
            else:
                table.add_row("—", Text(s.agency_name or s.agency_id), "", "", "", str(s.pending or ""),
                              Text(f"không xếp hạng: {not_ranked_label(s, rb.deadline)}"))
        console.print(table)


def register(app: typer.Typer) -> None:
    """Add score, override, report, form and intake to the command line."""

    @app.command()
    def score(
        db: Path = typer.Option(DEFAULT_DB, "--db", exists=True, dir_okay=False, help="Evidence database."),
        run: int | None = typer.Option(None, "--run", help="Run id (default: the latest run)."),
        rules: Path | None = typer.Option(None, "--rules", exists=True, dir_okay=False,
                                             help="Rulebook YAML (default: the run's)."),
        period_start: str | None = typer.Option(None, "--period-start", help="First day counted (YYYY-MM-DD)."),
        period_end: str | None = typer.Option(None, "--period-end", help="Last day counted (YYYY-MM-DD)."),
        as_json: bool = typer.Option(False, "--json", help="Print the agencies as one JSON object."),
        now: str | None = typer.Option(None, "--now", hidden=True),
    ) -> None:
        """Score and rank the agencies of a run per group, and store the scores with the rulebook.

        Pass and exempt verdicts earn points, fail earns 0, review earns nothing until a reviewer
        decides (see `override`); late or missing forms are listed as not ranked.

        Example: portal-evidence score --db portal-evidence.db
        """
        from verifier.export.json import agency_dict
        from verifier.score import score_run

        try:
            clock = _now(now)
            handle = _open(db, read_only=None)
            data = _load(handle, run, rules, period_start, period_end)
            scores = score_run(data)
            _store_scores(handle, data, scores, clock)
        except InputError as exc:
            _fail(exc)
        if as_json:
            out.print_json(json.dumps({"run": data.run["id"], "agencies": [agency_dict(s) for s in scores]},
                                      ensure_ascii=False))
        else:
            _print_scores(data, scores)
        pending = sum(s.pending for s in scores)
        err.print(Text(f"run {data.run['id']}: {len(scores)} agencies scored, "
                       f"{sum(s.ranked for s in scores)} ranked, {pending} verdict(s) pending review"))
        raise typer.Exit(EXIT_ATTENTION if _needs_attention(data, scores) else EXIT_OK)

    @app.command()
    def override(
        agency: str = typer.Argument(..., help="Agency id."),
        criterion: str = typer.Argument(..., help="Criterion id."),
        status: str = typer.Option(..., "--status", help="pass, fail, exempt or review."),
        note: str = typer.Option(..., "--note", help="Why (kept for the audit)."),
        by: str = typer.Option(..., "--by", help="The reviewer's name."),
        db: Path = typer.Option(DEFAULT_DB, "--db", exists=True, dir_okay=False, help="Evidence database."),
        run: int | None = typer.Option(None, "--run", help="Run whose verdict is overridden (default: latest)."),
        now: str | None = typer.Option(None, "--now", hidden=True),
    ) -> None:
        """Record a reviewer's decision on one verdict, beside the machine verdict (which is kept).

        The override stays in force for later runs of the same year, flagged when the machine
        verdict changes; scores are recomputed at once.

        Example:
          portal-evidence override so-tu-phap thanh-tra --status exempt --note "No inspection duty" --by "Nguyễn Văn A"
        """
        from verifier.overrides import new_override
        from verifier.score import score_run
        from verifier.store import save_override

        try:
            clock = _now(now)
            handle = _open(db)
            data = _load(handle, run, None, None, None)
            info = next((a for a in data.agencies if a.agency_id == agency), None)
            if info is None:
                raise InputError(f"agency {agency!r} is not in run {data.run['id']}", column="AGENCY")
            spec = data.rulebook.criterion(criterion)
            if info.group not in spec.groups:
                raise InputError(f"criterion {criterion!r} does not apply to group {info.group!r}",
                                 column="CRITERION")
            machine = data.verdict_map().get((agency, criterion))
            record = new_override(agency, criterion, status, note, by, at=clock, run_id=data.run["id"],
                                  machine=machine)
            saved = save_override(handle, record)
            data = _load(handle, data.run["id"], None, None, None)
            scores = score_run(data)
            _store_scores(handle, data, scores, clock)
        except InputError as exc:
            _fail(exc)
        mine = next(s for s in scores if s.agency_id == agency)
        machine_text = f"{record.machine_status}/{record.machine_reason}" if record.machine_status else "none"
        out.print(Text(f"override #{saved.id}: {agency} {criterion}: machine {machine_text} -> {record.status} "
                       f"by {record.by}"))
        total = f"{mine.score:g}/{mine.max_score:g}" if mine.ranked else f"not ranked ({mine.not_ranked_reason})"
        out.print(Text(f"{agency}: {total}" + (f", rank {mine.rank}, {mine.level}" if mine.ranked else "")))
        raise typer.Exit(EXIT_OK)

    @app.command()
    def report(
        out_dir: Path = typer.Option(..., "--out", file_okay=False, help="Folder the report is written to."),
        formats: str = typer.Option(",".join(DEFAULT_FORMATS), "--format",
                                    help="Comma-separated: json, xlsx, html, warc, wacz, pdf."),
        db: Path = typer.Option(DEFAULT_DB, "--db", exists=True, dir_okay=False, help="Evidence database."),
        run: int | None = typer.Option(None, "--run", help="Run id (default: the latest run)."),
        rules: Path | None = typer.Option(None, "--rules", exists=True, dir_okay=False,
                                             help="Rulebook YAML (default: the run's)."),
        period_start: str | None = typer.Option(None, "--period-start", help="First day counted (YYYY-MM-DD)."),
        period_end: str | None = typer.Option(None, "--period-end", help="Last day counted (YYYY-MM-DD)."),
        now: str | None = typer.Option(None, "--now", hidden=True),
    ) -> None:
        """Write the audit report of a run: report.json, report.xlsx, html/ and warc/ (with index.cdxj);
        evidence.wacz too with --format wacz (the WARCs, index and pages in one file for replay tools).
        With xlsx, phieu/<agency>.xlsx, the form each agency confirms (A4); with pdf, phieu/<agency>.pdf too.

        The XLSX holds a ranking sheet per group, the verdicts with why and how to fix and evidence
        links, the pages and posts read; the HTML report links every claim to the archived page.
        Every file states the run's provenance, and the same stored run gives the same bytes
        (the report's time is the run's end, or a later override's).

        Example: portal-evidence report --db portal-evidence.db --out report-2018 --format json,xlsx,html
        """
        from verifier.export.audit import build_audit

        wanted = [f.strip().lower() for f in formats.split(",") if f.strip()]
        unknown = [f for f in wanted if f not in FORMATS]
        if unknown or not wanted:
            _fail(InputError(f"unknown format(s) {', '.join(unknown) or '(none)'}; use {', '.join(FORMATS)}",
                             column="--format"))
        started = time.monotonic()
        try:
            clock = _now(now)
            handle = _open(db, read_only=None)     # an archived (read-only) database is reported as it is
            data = _load(handle, run, rules, period_start, period_end)
            # the report states the run's time, not today's, so the same run gives the same files
            audit = build_audit(handle, generated_at=clock if now else None, data=data)
            _store_scores(handle, data, list(audit.scores), clock)
            written, damaged = _write_formats(audit, out_dir, wanted)
            written.append(_datasette_metadata(db, out_dir))
        except InputError as exc:
            _fail(exc)
        for path in written:
            out.print(Text(str(path)))
        err.print(Text(f"run {data.run['id']}: report written to {out_dir} in {time.monotonic() - started:.1f}s"))
        attention = _needs_attention(data, audit.scores) or damaged
        raise typer.Exit(EXIT_ATTENTION if attention else EXIT_OK)

    @app.command()
    def form(
        group: str = typer.Option(..., "--group", help="Group id from the rulebook, e.g. so or huyen."),
        out_file: Path = typer.Option(..., "--out", dir_okay=False, help="The XLSX form to write."),
        rules: Path | None = typer.Option(None, "--rules", exists=True, dir_okay=False, help="Rulebook YAML."),
    ) -> None:
        """Write the blank self-assessment form of a group (XLSX, in Vietnamese) from the rulebook.

        Example: portal-evidence form --group so --out phieu-so.xlsx
        """
        from verifier.forms import write_form
        from verifier.rulebook import DEFAULT_RULEBOOK, load_rulebook

        try:
            rulebook = load_rulebook(rules or DEFAULT_RULEBOOK)
            path = write_form(rulebook, group, out_file)
        except InputError as exc:
            _fail(exc)
        out.print(Text(str(path)))
        raise typer.Exit(EXIT_OK)

    @app.command()
    def intake(
        folder: Path = typer.Argument(..., exists=True, file_okay=False, help="Folder of filled forms (.xlsx)."),
        agencies: Path = typer.Option(..., "--agencies", exists=True, dir_okay=False, help="Agency registry."),
        out_file: Path = typer.Option(..., "--out", dir_okay=False, help="reports.csv to write."),
        rules: Path | None = typer.Option(None, "--rules", exists=True, dir_okay=False, help="Rulebook YAML."),
    ) -> None:
        """Read a folder of filled forms into reports.csv (the file `crawl --reports` reads).

        Every problem is named by file, row and column, and nothing is written until all forms are right.
        The submission date is the form's date cell, else the file's modification date.

        Example: portal-evidence intake phieu-da-nhan/ --agencies agencies.csv --out reports.csv
        """
        from verifier.forms import intake_forms
        from verifier.intake import load_registry
        from verifier.rulebook import DEFAULT_RULEBOOK, load_rulebook

        try:
            rulebook = load_rulebook(rules or DEFAULT_RULEBOOK)
            registry = load_registry(agencies, rulebook)
            forms = intake_forms(folder, registry, rulebook, out_file)
        except InputError as exc:
            _fail(exc, hint=None if getattr(exc, "hint", None) else "correct the form(s) and run intake again")
        late = [f for f in forms if f.submitted_at > rulebook.deadline]
        for f in late:
            err.print(Text(f"late: {f.agency.agency_id} sent {f.path.name} on {f.submitted_at}, "
                           f"deadline {rulebook.deadline}: it will not be ranked"))
        rows = sum(len(f.reports) for f in forms)
        out.print(Text(f"{len(forms)} form(s), {rows} rows written to {out_file}"))
        raise typer.Exit(EXIT_OK)


class CannotWriteReport(InputError):
    """Cannot write the report"""


def _datasette_metadata(db: Path, out_dir: Path) -> Path:
    """DIR/metadata.yaml: Datasette's descriptions of the database's tables and columns, so that
    `datasette <db> -m DIR/metadata.yaml` shows them. Raises InputError when it cannot be written."""
    from verifier.store import write_datasette_metadata

    try:
        return write_datasette_metadata(db, Path(out_dir) / "metadata.yaml")
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", file=str(Path(out_dir) / "metadata.yaml")) from None


def _write_formats(audit, out_dir: Path, wanted: list[str]) -> tuple[list[Path], bool]:
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
                err.print(Text(f"warning: WARC file {name} of run {audit.run_id} not found"))
            for problem in export.damaged:
                err.print(Text(f"warning: damaged WARC file {problem}"))
            damaged = bool(export.missing or export.damaged)
            if export.index is None:
                err.print(Text(f"warning: run {audit.run_id} has no WARC file to copy"))
            else:
                written.extend(export.copied + [export.index])
        if "wacz" in wanted:
            from verifier.export.wacz import write_wacz

            packed = write_wacz(audit, out_dir)
            if "warc" not in wanted:       # said once when both are asked for
                for name in packed.missing:
                    err.print(Text(f"warning: WARC file {name} of run {audit.run_id} not found"))
                for problem in packed.damaged:
                    err.print(Text(f"warning: damaged WARC file {problem}"))
            damaged = damaged or bool(packed.missing or packed.damaged)
            if packed.path is None:
                err.print(Text(f"warning: run {audit.run_id} has no WARC file to pack"))
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


def demo_report(db_path: Path, run_id: int, out_dir: Path, console) -> Path:
    """The demo's last steps: score and rank the run, print the ranking, write every format to out_dir/report."""
    from verifier.export.audit import build_audit, load_run

    started = time.monotonic()
    handle = _open(db_path)
    data = load_run(handle, run_id)
    audit = build_audit(handle, data=data)
    _store_scores(handle, data, list(audit.scores), _now(None))
    _print_scores(data, audit.scores, console)
    target = out_dir / "report"
    _write_formats(audit, target, list(DEFAULT_FORMATS))
    console.print(Text(f"report written in {time.monotonic() - started:.1f}s: {target / 'html' / 'index.html'} "
                       f"(also report.json, report.xlsx, warc/)"))
    return target
