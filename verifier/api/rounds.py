"""The confirmation round: agencies confirm or dispute their results, reviewers answer the disputes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from verifier.api.base import NOTE_LIMIT, UnknownAgency, now_utc, open_handle, option_day
from verifier.api.decisions import apply_override
from verifier.errors import InputError, MalformedDate

if TYPE_CHECKING:                 # the command line imports this package: the heavy ones load when called
    pass


KINDS = ("confirm", "dispute")
DECISIONS = ("accept", "reject")


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
    from verifier.store import moment

    return moment(text)


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
    if len(text) > NOTE_LIMIT:
        raise error(f"the note is longer than {NOTE_LIMIT} characters", column="--note")
    return text


def current_round(db) -> Round | None:
    """The latest round (open or closed), or None when none was ever opened."""
    from verifier.store import latest_round

    return _round(latest_round(open_handle(db, read_only=None)))


def open_round(db, closes_on, by: str, *, run_id: int | None = None, now: dt.datetime | None = None) -> Round:
    """Open the confirmation round on the latest finished run (run_id, when given, must be that run), agencies
    answering until closes_on (YYYY-MM-DD or dd/mm/yyyy, the province's day). Raises BadRound (a second round
    while one accepts answers, a run that is not the latest finished one, a day already past), MalformedDate,
    NoRun."""
    from crawler.dates import VN_TZ
    from verifier.store import NoRun, get_round, latest_run, save_round

    clock = now or now_utc()
    handle = open_handle(db)
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
    handle = open_handle(db)
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
    from verifier.store import get_response, iso, save_response, verdict_keys

    clock = now or now_utc()
    handle = open_handle(db)
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
        "corrected_url": link, "by": who, "at": iso(clock)},
        {"at": clock, "who": who, "action": kind, "object": f"{agency_id}/{criterion}", "detail": detail})
    return _response(dict(get_response(handle, response_id), answer=None))


def responses(db, *, agency_id: str | None = None, criterion: str | None = None,
              round_id: int | None = None) -> list[Response]:
    """Agencies' answers, oldest first, each with the reviewer's answer to it."""
    from verifier.store import round_responses

    rows = round_responses(open_handle(db, read_only=None), round_ids=None if round_id is None else [round_id],
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
    from verifier.store import get_response, get_round, iso, save_dispute_answer

    clock = now or now_utc()
    handle = open_handle(db)
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
        "at": iso(clock), "override_id": override_id},
        {"at": clock, "who": who, "action": "answer", "object": f"{dispute.agency_id}/{dispute.criterion}",
         "detail": f"{what}: {text}"})
    return next(r for r in responses(handle, round_id=dispute.round_id) if r.id == dispute.id)


def round_summary(db, *, round_id: int | None = None) -> RoundSummary | None:
    """The state of the round (default: the latest), None when none was opened."""
    from verifier.store import get_round, run_agency_names, verdict_keys

    handle = open_handle(db, read_only=None)
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
