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

from verifier import cli_options as opt
from verifier.api import ATTENTION_REASONS, DEFAULT_FORMATS, FORMATS, now_utc  # noqa: F401  (the CLI's names)
from verifier.cli_options import DEFAULT_DB  # noqa: F401  (the default --db, kept importable from here)
from verifier.errors import InputError, MalformedDate
from verifier.export.safe_text import SafeConsole as Console  # no markup, no escapes from crawled text

EXIT_OK, EXIT_ATTENTION, EXIT_USAGE = 0, 1, 2

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
        return now_utc()
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise MalformedDate(f"{text!r} (use an ISO timestamp)", column="--now") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _warn(text: str) -> None:
    err.print(Text(text))


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
        from verifier.api import score_run
        from verifier.export.json import agency_dict

        try:
            result = score_run(db, run, rules=rules, period_start=period_start, period_end=period_end, now=_now(now),
                               on_warning=_warn)
        except InputError as exc:
            _fail(exc)
        data, scores = result.data, result.scores
        if as_json:
            out.print_json(json.dumps({"run": data.run["id"], "agencies": [agency_dict(s) for s in scores]},
                                      ensure_ascii=False))
        else:
            _print_scores(data, scores)
        pending = sum(s.pending for s in scores)
        err.print(Text(f"run {data.run['id']}: {len(scores)} agencies scored, "
                       f"{sum(s.ranked for s in scores)} ranked, {pending} verdict(s) pending review"))
        raise typer.Exit(EXIT_ATTENTION if result.attention else EXIT_OK)

    @app.command()
    def override(
        agency: str = typer.Argument(..., help="Agency id."),
        criterion: str = typer.Argument(..., help="Criterion id."),
        status: str = typer.Option(..., "--status", help="pass, fail, exempt or review."),
        note: str = typer.Option(..., "--note", help="Why (kept for the audit)."),
        by: str = opt.by(),
        db: Path = opt.db(),
        run: int | None = opt.run("Run whose verdict is overridden (default: latest)."),
        now: str | None = opt.now(),
    ) -> None:
        """Record a reviewer's decision on one verdict, beside the machine verdict (which is kept).

        The override stays in force for later runs of the same year, flagged when the machine
        verdict changes; scores are recomputed at once. `unoverride ID` withdraws it.

        Example:
          portal-evidence override so-tu-phap thanh-tra --status exempt --note "No inspection duty" --by "Nguyễn Văn A"
        """
        from verifier.api import apply_override

        try:
            result = apply_override(db, agency, criterion, status, note, by, run_id=run, now=_now(now))
        except InputError as exc:
            _fail(exc)
        record = result.override
        mine = next(s for s in result.scores if s.agency_id == agency)
        machine_text = f"{record.machine_status}/{record.machine_reason}" if record.machine_status else "none"
        out.print(Text(f"override #{record.id}: {agency} {criterion}: machine {machine_text} -> {record.status} "
                       f"by {record.by}"))
        _print_agency_total(mine)
        raise typer.Exit(EXIT_OK)

    @app.command()
    def unoverride(
        override_id: int = typer.Argument(..., metavar="ID", help="Override id (as `override` printed it)."),
        note: str = typer.Option(..., "--note", help="Why it is withdrawn (kept for the audit)."),
        by: str = opt.by(),
        db: Path = opt.db(),
        now: str | None = opt.now(),
    ) -> None:
        """Withdraw a reviewer's override: it stays recorded, marked withdrawn (who, when, why), and is no
        longer applied; the machine verdict counts again and scores are recomputed at once.

        Example: portal-evidence unoverride 3 --note "Entered for the wrong agency" --by "Nguyễn Văn A"
        """
        from verifier.api import withdraw_override

        try:
            result = withdraw_override(db, override_id, by, note, now=_now(now))
        except InputError as exc:
            _fail(exc)
        record = result.override
        out.print(Text(f"override #{record.id}: {record.agency_id} {record.criterion}: {record.status} withdrawn "
                       f"by {record.withdrawn_by}"))
        mine = next((s for s in result.scores if s.agency_id == record.agency_id), None)
        if mine is not None:
            _print_agency_total(mine)
        raise typer.Exit(EXIT_OK)

    @app.command()
    def runs(
        db: Path = opt.db(),
        as_json: bool = typer.Option(False, "--json", help="Print the runs as one JSON list."),
    ) -> None:
        """List the crawl runs, newest first: when, status, period, rulebook, verdicts by status, the command.

        Example: portal-evidence runs --db portal-evidence.db
        """
        from dataclasses import asdict

        from verifier.api import list_runs

        try:
            summaries = list_runs(db)
        except InputError as exc:
            _fail(exc)
        if as_json:
            out.print_json(json.dumps([asdict(r) for r in summaries], ensure_ascii=False))
            raise typer.Exit(EXIT_OK)
        table = Table(title="Runs (newest first; --json for every field)")
        for col in ("run", "started", "status", "period"):
            table.add_column(col, no_wrap=True)
        for col in ("rulebook", "verdicts", "command"):
            table.add_column(col, overflow="fold")
        for r in summaries:
            counts = ", ".join(f"{k} {v}" for k, v in sorted(r.counts.items()))
            table.add_row(str(r.id), _minute(r.started_at), r.status, f"{r.period[0] or ''}..{r.period[1] or ''}",
                          Text(r.rulebook or ""), counts, Text(r.command or ""))
        out.print(table)
        raise typer.Exit(EXIT_OK)

    @app.command()
    def diff(
        run_a: int = typer.Argument(..., metavar="A", help="The earlier run id."),
        run_b: int = typer.Argument(..., metavar="B", help="The later run id."),
        db: Path = opt.db(),
        as_json: bool = typer.Option(False, "--json", help="Print the changes as one JSON list."),
    ) -> None:
        """The verdicts that changed between two runs (status, reason or posts counted), with both readings.

        Example: portal-evidence diff 1 2 --db portal-evidence.db
        """
        from dataclasses import asdict

        from verifier.api import diff_runs

        try:
            changes = diff_runs(db, run_a, run_b)
        except InputError as exc:
            _fail(exc)
        if as_json:
            out.print_json(json.dumps([asdict(c) for c in changes], ensure_ascii=False))
            raise typer.Exit(EXIT_OK)
        table = Table(title=f"Changed from run {run_a} to run {run_b}")
        for col in ("agency", "criterion", f"run {run_a}", f"run {run_b}"):
            table.add_column(col)

        def reading(status, reason, posts):
            if status is None:
                return "—"
            return f"{status}/{reason}" + (f" ({posts} posts)" if posts is not None else "")

        for c in changes:
            table.add_row(Text(c.agency_id), Text(c.criterion),
                          reading(c.status_before, c.reason_before, c.posts_before),
                          reading(c.status_after, c.reason_after, c.posts_after))
        out.print(table)
        err.print(Text(f"{len(changes)} verdict(s) changed from run {run_a} to run {run_b}"))
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
        from verifier.api import parse_formats, write_report

        try:
            wanted = parse_formats(formats)
        except InputError as exc:
            _fail(exc)
        started = time.monotonic()
        try:
            clock = _now(now)
            # the report states the run's time, not today's, so the same run gives the same files
            result = write_report(db, out_dir, wanted, run_id=run, rules=rules, period_start=period_start,
                                  period_end=period_end, now=clock, generated_at=clock if now else None,
                                  on_warning=_warn)
        except InputError as exc:
            _fail(exc)
        for path in result.written:
            out.print(Text(str(path)))
        err.print(Text(f"run {result.run_id}: report written to {out_dir} in {time.monotonic() - started:.1f}s"))
        raise typer.Exit(EXIT_ATTENTION if result.attention else EXIT_OK)

    @app.command()
    def form(
        group: str = typer.Option(..., "--group", help="Group id from the rulebook, e.g. so or huyen."),
        out_file: Path = typer.Option(..., "--out", dir_okay=False, help="The form: .xlsx, or .docx for Word."),
        rules: Path | None = typer.Option(None, "--rules", exists=True, dir_okay=False, help="Rulebook YAML."),
    ) -> None:
        """Write the blank self-assessment form of a group (XLSX, or DOCX by the name; in Vietnamese) from the rulebook.

        Example: portal-evidence form --group so --out phieu-so.xlsx (or phieu-so.docx)
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
        folder: Path = typer.Argument(..., exists=True, file_okay=False,
                                      help="Folder of filled forms (.xlsx, .xls, .docx, .doc)."),
        agencies: Path = typer.Option(..., "--agencies", exists=True, dir_okay=False, help="Agency registry."),
        out_file: Path = typer.Option(..., "--out", dir_okay=False, help="reports.csv to write."),
        rules: Path | None = typer.Option(None, "--rules", exists=True, dir_okay=False, help="Rulebook YAML."),
        items_out: Path | None = typer.Option(None, "--items-out", dir_okay=False,
                                                 help="items.csv to write (default: beside --out, when a form "
                                                      "lists items)."),
    ) -> None:
        """Read a folder of filled forms into reports.csv (the file `crawl --reports` reads), and the forms'
        lists (their Danh mục sheets or tables) into items.csv (the file `crawl --items` reads).

        Every problem is named by file, row and column, and nothing is written until all forms are right.
        The submission date is the form's date cell, else the file's modification date. .xls and .doc forms
        are converted by LibreOffice (soffice) first.

        Example: portal-evidence intake phieu-da-nhan/ --agencies agencies.csv --out reports.csv
        """
        from verifier.forms import intake_forms
        from verifier.intake import load_registry
        from verifier.rulebook import DEFAULT_RULEBOOK, load_rulebook

        try:
            rulebook = load_rulebook(rules or DEFAULT_RULEBOOK)
            registry = load_registry(agencies, rulebook)
            forms = intake_forms(folder, registry, rulebook, out_file, items_out=items_out)
        except InputError as exc:
            _fail(exc, hint=None if getattr(exc, "hint", None) else "correct the form(s) and run intake again")
        late = [f for f in forms if f.submitted_at > rulebook.deadline]
        for f in late:
            err.print(Text(f"late: {f.agency.agency_id} sent {f.path.name} on {f.submitted_at}, "
                           f"deadline {rulebook.deadline}: it will not be ranked"))
        rows = sum(len(f.reports) for f in forms)
        out.print(Text(f"{len(forms)} form(s), {rows} rows written to {out_file}"))
        items = sum(len(f.items) for f in forms)
        if items or items_out:
            out.print(Text(f"{items} list item(s) written to {items_out or out_file.with_name('items.csv')}"))
        raise typer.Exit(EXIT_OK)


def _minute(text: str | None) -> str:
    """An ISO time as 'YYYY-MM-DD HH:MM' (UTC as stored), for a table."""
    return (text or "").replace("T", " ")[:16]


def _print_agency_total(mine) -> None:
    total = f"{mine.score:g}/{mine.max_score:g}" if mine.ranked else f"not ranked ({mine.not_ranked_reason})"
    out.print(Text(f"{mine.agency_id}: {total}" + (f", rank {mine.rank}, {mine.level}" if mine.ranked else "")))


def demo_report(db_path: Path, run_id: int, out_dir: Path, console) -> Path:
    """The demo's last steps: score and rank the run, print the ranking, write every format to out_dir/report."""
    from verifier.api import load_scored_run, store_scores, write_formats
    from verifier.export.audit import build_audit
    from verifier.store import open_db

    started = time.monotonic()
    handle = open_db(db_path)
    data = load_scored_run(handle, run_id, None, None, None, _warn)
    audit = build_audit(handle, data=data)
    store_scores(handle, data, list(audit.scores), _now(None), _warn)
    _print_scores(data, audit.scores, console)
    target = out_dir / "report"
    write_formats(audit, target, list(DEFAULT_FORMATS), _warn)
    console.print(Text(f"report written in {time.monotonic() - started:.1f}s: {target / 'html' / 'index.html'} "
                       f"(also report.json, report.xlsx, warc/)"))
    return target
