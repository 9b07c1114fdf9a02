"""The audit of one run as the exports read it: verdicts with their points, overrides, ranks and fetches."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from crawler.records import Verdict
from verifier.intake import Report
from verifier.overrides import OverrideView
from verifier.rulebook import Rulebook
from verifier.score import AgencyScore, CriterionPoints, RunData, ranking_order, run_data, score_run
from verifier.store import audit_trail, fetch_rows, read_run, round_responses, rounds_of_run, run_provenance


@dataclass(frozen=True)
class Audit:
    data: RunData
    scores: tuple[AgencyScore, ...]
    generated_at: dt.datetime
    fetches: dict[int, dict] = field(default_factory=dict)   # fetch id -> fetches row
    warc_dir: Path | None = None
    # the report's record of people's steps (build_audit with records=True): every audit entry, oldest first,
    # and the run's confirmation rounds (rows, each with its `responses`, each with its `answer`)
    trail: tuple[dict, ...] = ()
    rounds: tuple[dict, ...] = ()

    @property
    def rulebook(self):
        return self.data.rulebook

    @property
    def period(self) -> tuple[dt.date, dt.date]:
        return self.data.period

    @property
    def run_id(self) -> int:
        return self.data.run["id"]

    @cached_property
    def _scores(self) -> dict[str, AgencyScore]:
        return {s.agency_id: s for s in self.scores}

    @cached_property
    def _points(self) -> dict[tuple[str, str], CriterionPoints]:
        return {(cp.agency_id, cp.criterion): cp for s in self.scores for cp in s.points}

    @cached_property
    def _reports(self) -> dict[tuple[str, str], Report]:
        return {(r.agency_id, r.criterion): r for r in self.data.reports}

    @cached_property
    def _verdicts(self) -> dict[str, list[Verdict]]:
        out: dict[str, list[Verdict]] = {}
        for v in self.data.verdicts:
            out.setdefault(v.agency_id, []).append(v)
        return out

    def score(self, agency_id: str) -> AgencyScore | None:
        return self._scores.get(agency_id)

    def points(self, agency_id: str, criterion: str) -> CriterionPoints | None:
        return self._points.get((agency_id, criterion))

    def report(self, agency_id: str, criterion: str) -> Report | None:
        return self._reports.get((agency_id, criterion))

    def override(self, agency_id: str, criterion: str) -> OverrideView | None:
        return self.data.overrides.get((agency_id, criterion))

    def verdicts_of(self, agency_id: str) -> list[Verdict]:
        return self._verdicts.get(agency_id, [])

    @cached_property
    def provenance(self) -> dict:
        """How the run was made (verifier.provenance), or {} for a run of an older version."""
        return run_provenance(self.data.run)

    @cached_property
    def verdicts(self) -> tuple[Verdict, ...]:
        """Every verdict in one fixed order: agencies as registered, then the rulebook's criteria."""
        order = {c.id: i for i, c in enumerate(self.rulebook.criteria)}
        agency_order = {a.agency_id: i for i, a in enumerate(self.data.agencies)}
        return tuple(sorted(self.data.verdicts, key=lambda v: (
            agency_order.get(v.agency_id, len(agency_order)), v.agency_id,
            order.get(v.criterion, len(order)), v.criterion)))

    def fetch_ids(self, verdict: Verdict) -> tuple[int | None, ...]:
        ids = self.data.page_fetch_ids.get((verdict.agency_id, verdict.criterion), ())
        return tuple(ids) + (None,) * (len(verdict.pages) - len(ids))

    def groups(self) -> list[tuple[str, str, list[AgencyScore]]]:
        """(group id, group name, agencies in ranking order) for every group with agencies, rulebook order."""
        out = []
        for gid, name in self.rulebook.groups.items():
            members = [s for s in self.scores if s.group == gid]
            if members:
                out.append((gid, name, ranking_order(members)))
        return out

    def review_queue(self) -> list[tuple[Verdict, CriterionPoints]]:
        """Verdicts of ranked agencies waiting for a reviewer, and overrides whose machine verdict changed since.
        (Agencies not ranked, late or without a form, are not scored: their verdicts wait for nobody.)"""
        queue = []
        ranked = {s.agency_id for s in self.scores if s.ranked}
        for v in self.verdicts:
            if v.agency_id not in ranked:
                continue
            cp = self.points(v.agency_id, v.criterion)
            view = self.override(v.agency_id, v.criterion)
            if cp is not None and (cp.pending or (view is not None and view.machine_changed)):
                queue.append((v, cp))
        return queue

    def reported_text(self, agency_id: str, criterion_id: str) -> str:
        """What the agency wrote for the criterion: the link or the figure, 'không áp dụng' with its note."""
        r = self.report(agency_id, criterion_id)
        if r is None:
            return ""
        if r.not_applicable:
            return f"Không áp dụng: {r.note}" if r.note else "Không áp dụng"
        criterion = self.rulebook.by_id.get(criterion_id)
        if criterion is not None and criterion.is_reported:
            unit = f" {criterion.unit}" if r.value and criterion.unit and criterion.unit != "Có/Không" else ""
            return f"{r.value}{unit}".strip()
        return r.url


def load_run(db, run_id: int | None = None, *, rulebook: Rulebook | None = None,
             period: tuple[dt.date, dt.date] | None = None) -> RunData:
    """The run (else the latest) as the scoring and the exports read it: the store reads its records,
    verifier.score.run_data completes and re-judges them. Raises NoRun, StoreError."""
    return run_data(read_run(db, run_id), rulebook=rulebook, period=period)


def report_time(data: RunData) -> dt.datetime:
    """The moment a report of the run describes, taken from the stored run so that two reports of it are
    the same file: the run's end (a run not finished: its latest verdict, else its start), or a reviewer's
    override made after it."""
    moments = [_moment(data.run.get("finished_at"))]
    if moments[0] is None:
        moments = [v.checked_at for v in data.verdicts] + [_moment(data.run.get("started_at"))]
    moments += [o.at for view in data.overrides.values() for o in view.history]
    moments += [o.withdrawn_at for o in data.withdrawn]
    known = [_utc(m) for m in moments if m is not None]
    return max(known) if known else dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _moment(text: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _utc(value: dt.datetime) -> dt.datetime:
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def build_audit(db, run_id: int | None = None, *, generated_at: dt.datetime | None = None, rulebook=None,
                period=None, data: RunData | None = None, records: bool = False) -> Audit:
    """Load, score and gather the fetch rows of a run; the report's time is `generated_at`, else the run's
    (report_time). With records, the audit trail and the run's confirmation rounds too. Raises NoRun,
    StoreError."""
    data = data or load_run(db, run_id, rulebook=rulebook, period=period)
    if generated_at is None:
        generated_at = report_time(data)
    scores = tuple(score_run(data))
    fetches = fetch_rows(db, data.run["id"])
    warc_dir = Path(data.run["warc_dir"]) if data.run.get("warc_dir") else None
    if not records:
        return Audit(data, scores, generated_at, fetches, warc_dir)
    rounds = rounds_of_run(db, data.run["id"])
    answers = round_responses(db, round_ids=[r["id"] for r in rounds]) if rounds else []
    rounds = tuple(dict(r, responses=[a for a in answers if a["round_id"] == r["id"]]) for r in rounds)
    return Audit(data, scores, generated_at, fetches, warc_dir, tuple(audit_trail(db)), rounds)
