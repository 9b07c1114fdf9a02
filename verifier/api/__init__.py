"""The library API: what the command line and the console both call.

Typed functions over the evidence database and the spot-check; no printing, no command-line library.
Bad input raises the project's InputError subclasses, naming the field. One module per concern: base
(the clock, days, the period, the rulebook, the database), checks (spot-checks), decisions (overrides),
runs (scores, reports, runs and their diff), rounds (the confirmation round); every public name is here.
"""

from verifier.api.base import (
    NOTE_LIMIT,
    CriterionNotApplicable,
    UnknownAgency,
    load_rulebook,
    now_utc,
    option_day,
    resolve_period,
)
from verifier.api.checks import (
    CHECK_NOTE,
    BadCheck,
    BadLink,
    CheckResult,
    StoredCheck,
    check_link,
    check_warc_file,
    get_check,
    list_checks,
    store_check,
    use_check,
)
from verifier.api.decisions import OverrideResult, apply_override, list_overrides, withdraw_override
from verifier.api.rounds import (
    DECISIONS,
    KINDS,
    AgencyRound,
    BadAnswer,
    BadResponse,
    BadRound,
    DisputeAnswer,
    NoRoundOpen,
    Response,
    Round,
    RoundClosed,
    RoundSummary,
    answer_dispute,
    close_round,
    current_round,
    open_round,
    respond,
    responses,
    round_summary,
)
from verifier.api.runs import (
    ATTENTION_REASONS,
    DEFAULT_FORMATS,
    FORMATS,
    CannotWriteReport,
    ReportResult,
    RunSummary,
    ScoreResult,
    VerdictChange,
    diff_runs,
    list_runs,
    load_scored_run,
    parse_formats,
    score_run,
    store_scores,
    write_formats,
    write_report,
)

__all__ = [
    "ATTENTION_REASONS", "CHECK_NOTE", "DECISIONS", "DEFAULT_FORMATS", "FORMATS", "KINDS", "NOTE_LIMIT",
    "AgencyRound", "BadAnswer", "BadCheck", "BadLink", "BadResponse", "BadRound", "CannotWriteReport", "CheckResult",
    "CriterionNotApplicable", "DisputeAnswer", "NoRoundOpen", "OverrideResult", "ReportResult", "Response", "Round",
    "RoundClosed", "RoundSummary", "RunSummary", "ScoreResult", "StoredCheck", "UnknownAgency", "VerdictChange",
    "answer_dispute", "apply_override", "check_link", "check_warc_file", "close_round", "current_round", "diff_runs",
    "get_check", "list_checks", "list_overrides", "list_runs", "load_rulebook", "load_scored_run",
    "now_utc", "open_round", "option_day", "parse_formats", "resolve_period", "respond", "responses",
    "round_summary", "score_run", "store_check", "store_scores", "use_check", "withdraw_override", "write_formats",
    "write_report",
]
