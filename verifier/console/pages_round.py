"""The confirmation round in the console: the round's page for staff (open, state, close), an agency's answers
on its own page, the answers to a dispute on the verdict page, and the open disputes of the review queue. Every
step goes through the library API (verifier.api), which records it in the audit trail."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from verifier import api
from verifier.console import actions, auth
from verifier.console.app import agency_context, verdict_context
from verifier.console.web import Db, render, signed_in_user
from verifier.errors import InputError
from verifier.store import latest_run

STALE = "Dữ liệu đã thay đổi kể từ khi trang được mở: hãy xem lại rồi gửi lại."
NOTE = "Cần ghi rõ lý do (không quá 4000 ký tự)."
MESSAGES = {
    "--closes": "Ngày kết thúc không hợp lệ: hãy chọn một ngày, không sớm hơn hôm nay.",
    "--note": NOTE,
    "--url": ("Liên kết không hợp lệ: hãy nhập liên kết dạng http(s)://tên-miền/đường-dẫn "
              "(liên kết sửa chỉ đi kèm ý kiến không đồng ý)."),
    "--kind": "Hãy chọn “Xác nhận” hoặc “Không đồng ý”.",
    "--decision": "Hãy chọn chấp nhận hoặc không chấp nhận ý kiến.",
    "--status": "Trạng thái không hợp lệ: hãy chọn một trạng thái trong danh sách (chỉ khi chấp nhận ý kiến).",
}
ROUND_MESSAGES = {
    api.NoRoundOpen: "Chưa có đợt xác nhận nào đang mở.",
    api.RoundClosed: "Đợt xác nhận đã đóng: không thể gửi ý kiến nữa.",
    api.BadRound: "Đang có một đợt xác nhận mở: hãy đóng đợt đó trước khi mở đợt mới.",
}
DECISION_NAMES = {"accept": "Chấp nhận", "reject": "Không chấp nhận"}
KIND_NAMES = {"confirm": "Xác nhận", "dispute": "Không đồng ý"}


def _message(exc: InputError) -> tuple[str, str]:
    """(the form field the error belongs beside, its Vietnamese message)."""
    column = getattr(exc, "column", None) or "form"
    if column == "round":
        return "form", ROUND_MESSAGES.get(type(exc), STALE)
    if column in MESSAGES:
        return column.lstrip("-"), MESSAGES[column]
    return "form", STALE


def _state(r: api.Round | None, now) -> str:
    if r is None:
        return "none"
    return "closed" if r.closed_at else ("open" if r.accepting(now) else "past")


# ---------------------------------------------------------------------------------- what other pages show

def agency_round(request: Request, user: dict, audit, agency_id: str) -> dict:
    """The agency page's round: the round, whether this user may answer now, the latest answer per criterion."""
    with Db(request.app.state.db_path) as db:
        current = api.current_round(db)
        latest = {}
        if current is not None:
            latest = {r.criterion: r for r in api.responses(db, agency_id=agency_id, round_id=current.id)}
    now = api.now_utc()
    state = _state(current, now)
    return {"round": current, "round_state": state, "round_latest": latest,
            "round_same_run": current is not None and current.run_id == audit.run_id,
            "may_answer": (user["role"] == "agency" and state == "open" and current.run_id == audit.run_id),
            "KIND_NAMES": KIND_NAMES, "DECISION_NAMES": DECISION_NAMES}


def verdict_round(request: Request, user: dict, agency_id: str, criterion: str) -> dict:
    """The verdict page's round: every answer of the agency on it (newest first) and the open dispute a
    reviewer may answer (the answer that counts in the latest round)."""
    with Db(request.app.state.db_path) as db:
        answers = api.responses(db, agency_id=agency_id, criterion=criterion)
        current = api.current_round(db)
    latest = [r for r in answers if current is not None and r.round_id == current.id]
    dispute = latest[-1] if latest and latest[-1].open_dispute else None
    return {"round_answers": list(reversed(answers)), "round_dispute": dispute,
            "may_answer_dispute": dispute is not None and user["role"] in auth.DECIDERS,
            "KIND_NAMES": KIND_NAMES, "DECISION_NAMES": DECISION_NAMES}


def queue_disputes(request: Request, want: dict) -> list[api.Response]:
    """The open disputes of the latest round (none when the queue is narrowed to `kind=review`)."""
    if want.get("kind") == "review":
        return []
    with Db(request.app.state.db_path) as db:
        summary = api.round_summary(db)
    return list(summary.open_disputes) if summary else []


# ------------------------------------------------------------------------------------------ the round page

def _round_page(request: Request, status: int = 200, errors=None, form=None):
    with Db(request.app.state.db_path) as db:
        summary = api.round_summary(db)
        run = latest_run(db, status="done")
    now = api.now_utc()
    names = {}
    if summary is not None:
        with Db(request.app.state.db_path) as db:
            names = {c.id: c.name for c in actions.current_audit(db).rulebook.criteria}
    agency_names = {a.agency_id: a.agency_name for a in summary.agencies} if summary else {}
    return render(request, "round.html.j2", status=status, summary=summary, criterion_names=names,
                   agency_names=agency_names,
                   state=_state(summary.round if summary else None, now), run=run, errors=errors or {},
                   form=form or {}, may_decide=request.scope["console_user"]["role"] in auth.DECIDERS,
                   KIND_NAMES=KIND_NAMES)


async def round_page(request: Request):
    signed_in_user(request, auth.STAFF)
    return _round_page(request)


async def open_round(request: Request):
    user = signed_in_user(request, auth.DECIDERS)
    form = await request.form()
    fields = {k: str(form.get(k, "")) for k in ("closes_on", "run")}
    with Db(request.app.state.db_path) as db:
        try:
            if not fields["run"].isdigit():
                raise api.BadRound("the form names no run", column="--run")
            api.open_round(db, fields["closes_on"], user["name"], run_id=int(fields["run"]), now=api.now_utc())
        except InputError as exc:
            key, message = _message(exc)
            return _round_page(request, 400, {key: message}, fields)
    return RedirectResponse("/round", status_code=303)


async def close_round(request: Request):
    user = signed_in_user(request, auth.DECIDERS)
    form = await request.form()
    with Db(request.app.state.db_path) as db:
        try:
            current = api.current_round(db)
            if current is None or str(current.id) != str(form.get("round", "")):
                raise api.BadRound("the round changed since the page was shown", column="form")
            api.close_round(db, user["name"], now=api.now_utc())
        except InputError as exc:
            key, message = _message(exc)
            return _round_page(request, 400, {"close": message if key == "form" else STALE})
    return RedirectResponse("/round", status_code=303)


# --------------------------------------------------------------------------- an agency answers, a reviewer too

async def respond(request: Request):
    """An agency account confirms or disputes its verdict on one criterion (its own agency only: 404 else)."""
    user = signed_in_user(request, {"agency"})
    agency_id, criterion = request.path_params["agency_id"], request.path_params["criterion"]
    context = agency_context(request, user)          # 404 for another agency, or a criterion it has no verdict on
    if criterion not in {r["verdict"].criterion for r in context["rows"]}:
        raise HTTPException(404)
    form = await request.form()
    fields = {k: str(form.get(k, "")) for k in ("kind", "note", "corrected_url", "round", "run")}
    with Db(request.app.state.db_path) as db:
        try:
            current = api.current_round(db)
            if current is not None and (fields["round"] != str(current.id) or fields["run"] != str(current.run_id)):
                raise api.BadResponse("the round changed since the page was shown", column="form")
            api.respond(db, agency_id, criterion, fields["kind"], fields["note"], user["name"],
                        corrected_url=fields["corrected_url"], now=api.now_utc())
        except InputError as exc:
            key, message = _message(exc)
            context.update(agency_round(request, user, context["audit"], agency_id))   # the round as it is now
            return render(request, "agency.html.j2", status=400, **context,
                           round_errors={criterion: {key: message}}, round_form={criterion: fields})
    return RedirectResponse(f"/agency/{agency_id}#{criterion}", status_code=303)


async def answer(request: Request):
    """A reviewer's answer to the open dispute on this verdict: accept (optionally with a new status: an
    override) or reject, a note required."""
    user = signed_in_user(request, auth.DECIDERS)
    context = verdict_context(request, user)
    form = await request.form()
    fields = {k: str(form.get(k, "")) for k in ("response_id", "decision", "answer_status", "answer_note")}
    with Db(request.app.state.db_path) as db:
        try:
            dispute = context["round_dispute"]
            if dispute is None or str(dispute.id) != fields["response_id"]:
                raise api.BadAnswer("the dispute changed since the page was shown", column="form")
            api.answer_dispute(db, dispute.id, fields["decision"], fields["answer_note"], user["name"],
                               status=fields["answer_status"] or None, now=api.now_utc())
        except InputError as exc:
            key, message = _message(exc)
            return render(request, "verdict.html.j2", status=400, **context, errors={"answer_" + key: message},
                           form=fields)
    return RedirectResponse(request.url.path.rsplit("/answer", 1)[0], status_code=303)


ROUTES = [
    Route("/round", round_page, methods=["GET"]),
    Route("/round/open", open_round, methods=["POST"]),
    Route("/round/close", close_round, methods=["POST"]),
    Route("/agency/{agency_id}/{criterion}/respond", respond, methods=["POST"]),
    Route("/agency/{agency_id}/{criterion}/answer", answer, methods=["POST"]),
]
