"""portal-evidence: the command line. A thin shell: parse, call one function, print, map exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from verifier import cli_options as opt
from verifier.commands import (  # one console, one set of exit codes for every command
    ATTENTION_REASONS,
    EXIT_ATTENTION,
    EXIT_OK,
    _fail,
    err,
    out,
)
from verifier.errors import InputError

app = typer.Typer(
    name="portal-evidence",
    help="Verify agencies' e-government website links, score and rank them, keep the evidence.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def version_text() -> str:
    """The tool and its version, and the commit it runs from when that is a checkout."""
    from crawler import __version__
    from verifier.provenance import TOOL, git_revision

    revision = git_revision()
    return f"{TOOL} {__version__}" + (f" (git {revision})" if revision else "")


def _print_version(value: bool) -> None:
    if value:
        out.print(Text(version_text()))
        raise typer.Exit(EXIT_OK)


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print the version (and the git revision of a checkout) and exit."),
) -> None:
    """Verify agencies' e-government website links, score and rank them, keep the evidence."""


def needs_attention(verdicts) -> bool:
    return any(v.status == "review" or v.reason in ATTENTION_REASONS for v in verdicts)


def _agency_option(value: str | None) -> tuple[str, str | None] | None:
    """--agency 'ID' or 'ID=Name' as (id, name or None); exit 2 naming the option when it is neither."""
    if value is None:
        return None
    agency_id, sep, name = value.partition("=")
    if not agency_id.strip() or (sep and not name.strip()):
        _fail(InputError(f"--agency {value!r}: give it as ID or ID=Name, e.g. 'stp=Sở Tư pháp'", column="--agency"))
    return agency_id.strip(), name.strip() or None


@app.command()
def check(
    url: str = typer.Argument(..., help="The link to check, as the agency reported it."),
    criterion: str = typer.Option(..., "--criterion", "-c", help="Criterion id, e.g. chi-dao-dieu-hanh."),
    year: int | None = typer.Option(None, help="Evaluation year (default: the rulebook's)."),
    period_start: str | None = opt.period_start(),
    period_end: str | None = opt.period_end(),
    agency_portal: str | None = typer.Option(None, "--agency-portal",
                                                help="The agency's registered portal URL(s); default: the link's own "
                                                     "site."),
    agency: str | None = typer.Option(None, "--agency",
                                      help="Whose link it is: 'ID' or 'ID=Name' of the registry (e.g. 'stp=Sở Tư "
                                           "pháp'). A listed criterion looks for that agency's rows of --items; a "
                                           "list on an allowed host must name the agency (its name: give ID=Name)."),
    rules: Path = opt.rules("Rulebook YAML."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    allow_private: bool = opt.allow_private(),
    ignore_robots: bool = typer.Option(False, "--ignore-robots", help="Do not obey robots.txt."),
    timeout: float | None = opt.timeout(),
    render: str = opt.render(),
    warc: Path | None = typer.Option(None, "--warc", dir_okay=False,
                                        help="Keep every request and response in this gzip WARC file (appended)."),
    items: Path | None = typer.Option(None, "--items", exists=True, dir_okay=False,
                                         help="A list criterion's items to look for (items.csv: its rows of "
                                              "the criterion)."),
) -> None:
    """Spot-check one link: is it the criterion's category on the agency's portal, with posts in the period?

    Example: portal-evidence check sotuphap.caobang.gov.vn/chi-dao-dieu-hanh -c chi-dao-dieu-hanh --year 2018
    """
    from verifier.api import check_link
    from verifier.serialize import verdict_dict

    try:
        result = check_link(url, criterion, year=year, period_start=period_start, period_end=period_end,
                            agency_portal=agency_portal, rules=rules, allow_private=allow_private,
                            ignore_robots=ignore_robots, timeout=timeout, warc_path=warc, render=render,
                            items=items, agency=_agency_option(agency))
    except InputError as exc:
        _fail(exc)
    verdict, period = result.verdict, result.period
    if as_json:
        data = verdict_dict(verdict, period=period)
        data.pop("agency_id")
        data["period"] = [period[0].isoformat(), period[1].isoformat()]
        out.print_json(json.dumps(data, ensure_ascii=False))
    else:
        print_verdict(verdict, period)
    raise typer.Exit(EXIT_ATTENTION if needs_attention([verdict]) else EXIT_OK)


STATUS_STYLE = {"pass": "bold green", "fail": "bold red", "review": "bold yellow", "exempt": "bold cyan"}


def print_verdict(verdict, period) -> None:
    """A readable terminal layout of one verdict and its evidence. Crawled text is never markup."""
    head = Text()
    head.append(f"{verdict.status.upper()} ", style=STATUS_STYLE.get(verdict.status, "bold"))
    head.append(f"{verdict.reason}  ", style="bold")
    head.append(f"{verdict.criterion}  ")
    if verdict.posts_in_year is not None:
        head.append(f"posts in {period[0]}..{period[1]}: {verdict.posts_in_year}")
    if verdict.discovered:
        head.append("  (found through the portal's navigation)", style="italic")
    out.print(head)
    where = verdict.checked_url or verdict.url or "-"
    out.print(Text(f"checked {where} at {verdict.checked_at:%Y-%m-%d %H:%M:%S} UTC"))
    if verdict.detail:
        out.print(Text(verdict.detail, style="dim"))
    if verdict.items:
        table = Table(title="Items", show_lines=False, expand=False)
        for col in ("item", "status", "where", "matched"):
            table.add_column(col)
        for f in verdict.items:
            where = f.page_url if f.status == "found" else f"{len(f.searched)} page(s) searched"
            table.add_row(Text(f.item.name[:60]), Text(f.status), Text(where or ""), Text(f.matched_text[:80]))
        out.print(table)
    if verdict.posts:
        table = Table(title="Posts", show_lines=False, expand=False)
        for col in ("date", "source", "in period", "title"):
            table.add_column(col)
        start, end = period
        for post in verdict.posts[:60]:
            date = post.published.isoformat() if post.published else "—"
            if post.updated:
                date += f" (upd. {post.updated.isoformat()})"
            inside = any(start <= d <= end for d in post.dates)
            table.add_row(Text(date), Text(post.date_source or ""), Text("yes" if inside else ""),
                          Text(post.title[:90]))
        if len(verdict.posts) > 60:
            table.add_row("…", "", "", Text(f"{len(verdict.posts) - 60} more"))
        out.print(table)
    table = Table(title="Pages visited")
    for col in ("purpose", "status", "kind", "category", "posts", "url"):
        table.add_column(col)
    for page in verdict.pages:
        status = str(page.status) if page.status is not None else (page.error or "")
        table.add_row(page.purpose, Text(status), page.kind or "", Text(page.category_label or page.category or ""),
                      str(page.posts), Text(page.final_url))
    out.print(table)


@app.command()
def crawl(
    agencies: Path = typer.Option(..., "--agencies", exists=True, dir_okay=False, help="Agency registry (CSV/XLSX)."),
    reports: Path = typer.Option(..., "--reports", exists=True, dir_okay=False, help="Agencies' reports (CSV/XLSX)."),
    items: Path | None = typer.Option(None, "--items", exists=True, dir_okay=False,
                                         help="The items of the lists (items.csv: agency_id, criterion, number, "
                                              "title, issued, url), each looked for on the agency's portal."),
    rules: Path = typer.Option(None, "--rules", exists=True, dir_okay=False,
                               help="Rulebook YAML (default: rules/caobang-2018.yaml)."),
    db: Path = opt.db(must_exist=False),
    period_start: str | None = opt.period_start(),
    period_end: str | None = opt.period_end(),
    warc_dir: Path | None = typer.Option(None, "--warc-dir", file_okay=False,
                                         help="Where WARC files go (default: beside the database)."),
    http_cache: Path | None = typer.Option(None, "--http-cache", file_okay=False,
                                           help="Reuse responses cached here (fast re-runs)."),
    ignore_robots: bool = typer.Option(False, "--ignore-robots", help="Do not obey robots.txt (recorded in the run)."),
    allow_private: bool = opt.allow_private(),
    timeout: float | None = opt.timeout(),
    render: str = opt.render(),
    frontier: str | None = typer.Option(
        None, "--frontier", help="redis://HOST:PORT/DB: coordinate workers (portal-evidence worker) through this "
                                 "Redis instead of crawling here; this process alone writes the database and WARC."),
    lease_seconds: float | None = typer.Option(None, "--lease-seconds", hidden=True),
) -> None:
    """Crawl every reported link, verify it, keep the evidence (SQLite + WARC). Re-run the same command to resume.

    Example: portal-evidence crawl --agencies agencies.csv --reports reports.csv --db evidence.db
    """
    from crawler.frontier import FrontierError, connect
    from crawler.settings import Limits, RunOptions
    from verifier.api import resolve_period
    from verifier.commands import exit_interrupted
    from verifier.crawl import CrawlInterrupted, run_crawl
    from verifier.progress import Progress, TerminalProgress
    from verifier.rulebook import DEFAULT_RULEBOOK, load_rulebook

    rules = rules or DEFAULT_RULEBOOK
    try:
        rulebook = load_rulebook(rules)
        period = resolve_period(rulebook, None, period_start, period_end)
    except InputError as exc:
        _fail(exc)
    if frontier:
        if http_cache:
            _fail(InputError("--http-cache is not used by a distributed crawl", column="--http-cache"),
                  hint="leave out --http-cache, or crawl in one process without --frontier")
        try:
            connect(frontier)
        except FrontierError as exc:
            _fail(exc, hint="start redis-server, or check the --frontier URL (redis://HOST:PORT/DB)")
    limits = Limits() if timeout is None else Limits(read_timeout=timeout, connect_timeout=min(timeout, 5.0))
    options = RunOptions(period=period, ignore_robots=ignore_robots, allow_private=allow_private, limits=limits,
                         render=render)
    progress_cls = TerminalProgress if err.is_terminal else Progress
    made: list = []

    def progress_factory(total, done):
        made.append(progress_cls(total, done=done, stream=sys.stderr))
        return made[-1]

    try:
        summary = run_crawl(agencies, reports, rules, db, options, warc_dir=warc_dir,
                            http_cache=str(http_cache) if http_cache else None, progress_factory=progress_factory,
                            frontier=frontier, lease_seconds=lease_seconds, items=items)
    except InputError as exc:
        _fail(exc)
    except FrontierError as exc:
        _fail(exc, hint="the run stays unfinished: run the same command again to resume it")
    except CrawlInterrupted as exc:      # Ctrl-C or SIGTERM: the run stays unfinished, to resume
        exit_interrupted(exc)
    print_summary(summary)
    raise typer.Exit(EXIT_ATTENTION if summary.needs_attention else EXIT_OK)


def print_summary(summary) -> None:
    table = Table(title=f"Run {summary.run_id}" + (" (resumed)" if summary.resumed else ""))
    for col in ("status", "reason", "verdicts"):
        table.add_column(col)
    for (status, reason), n in sorted(summary.counts.items()):
        table.add_row(Text(status, style=STATUS_STYLE.get(status, "")), reason, str(n))
    out.print(table)
    if summary.changes:
        changes = Table(title="Changed since the previous run")
        for col in ("agency", "criterion", "before", "now"):
            changes.add_column(col)
        for row in summary.changes:
            changes.add_row(*row)
        out.print(changes)
    if summary.overrides:
        flagged = Table(title="Reviewer overrides in force (flagged: the machine verdict changed since)")
        for col in ("agency", "criterion", "override", "machine now", "flag"):
            flagged.add_column(col)
        for agency, criterion, status, machine, changed in summary.overrides:
            flagged.add_row(agency, criterion, status, machine,
                            Text("CHANGED", style="bold yellow") if changed else "")
        out.print(flagged)
    if summary.no_form:
        out.print(Text(f"no form received from {', '.join(summary.no_form)}: not verified, not ranked"))
    out.print(Text(summary.closing_line()))


@app.command()
def worker(
    frontier: str = typer.Option(..., "--frontier", help="redis://HOST:PORT/DB, as given to the coordinator's crawl."),
    hosts: int = typer.Option(32, "--hosts", min=1, help="Hosts this worker crawls at once."),
    wait: float | None = typer.Option(None, "--wait", help="Seconds to wait for a run to serve (default: no limit)."),
) -> None:
    """Investigate the links of a distributed crawl (`crawl --frontier`), until its run is over.

    Example: portal-evidence worker --frontier redis://10.0.0.5:6379/0
    """
    from crawler.frontier import FrontierError
    from crawler.worker import run_worker

    try:
        sent = run_worker(frontier, max_hosts=hosts, wait=wait)
    except FrontierError as exc:
        _fail(exc, hint="start redis-server, or check the --frontier URL (redis://HOST:PORT/DB)")
    err.print(Text(f"worker: {sent} links investigated"))


@app.command()
def demo(
    out_dir: Path = typer.Option(Path("demo-output"), "--out", help="Where the demo writes its report."),
) -> None:
    """Run the pipeline on the bundled demo portals, served on loopback, and compare with data/demo/truth.csv.

    Example: portal-evidence demo --out demo-output
    """
    from demo.pipeline import run_demo

    try:
        ok = run_demo(out_dir, out=out, err=err)
    except InputError as exc:            # a broken bundled file, a database it cannot write: said, not a traceback
        _fail(exc)
    except OSError as exc:               # --out names a file, or a folder it may not write
        _fail(InputError(exc.strerror or str(exc), file=exc.filename or str(out_dir), column="--out"))
    raise typer.Exit(EXIT_OK if ok else EXIT_ATTENTION)


def _register_more_commands() -> None:
    """Scoring, overrides, forms and exports live in verifier.commands (kept out of this thin shell)."""
    from verifier.commands import register

    register(app)
    from verifier.console.commands import register as register_console
    register_console(app)
    from verifier.round_commands import register as register_round
    register_round(app)


_register_more_commands()


def main() -> None:
    app(prog_name="portal-evidence")


if __name__ == "__main__":
    main()
