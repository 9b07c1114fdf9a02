"""The console's spot-check (reviewers and admins): a form (link, criterion, optionally the agency), the check run
in a worker thread by the same library call `portal-evidence check` makes, kept in the database with a WARC file
of its own; its result with the archived page in the sandboxed frame; and "use this as the verdict"."""

from __future__ import annotations

from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from verifier import api
from verifier.console import auth
from verifier.console.actions import NOTE_LIMIT
from verifier.console.web import FIELD_MESSAGES, Db, render, shown_audit, signed_in_user
from verifier.errors import InputError
from verifier.export.hints import hint
from verifier.export.html_evidence import archived_frame, request_chain
from verifier.export.warc import read_record
from verifier.store import append_audit, load_overrides, parse_warc_ref

MESSAGES = {
    "url": "Cần nhập đường dẫn cần kiểm tra.",
    "URL": "Đường dẫn không hợp lệ: hãy nhập dạng http(s)://tên-miền/đường-dẫn.",
    "criterion": "Tiêu chí không có trong bộ tiêu chí của lượt kiểm tra: hãy chọn một tiêu chí trong danh sách.",
    "not_applicable": "Tiêu chí này không áp dụng cho nhóm của đơn vị đã chọn.",
    "agency": "Đơn vị không có trong lượt kiểm tra mới nhất: hãy chọn một đơn vị trong danh sách.",
    "form": "Không thực hiện được việc kiểm tra: hãy xem lại các ô rồi gửi lại.",
    "use_note": f"Cần ghi chú lý do (không quá {NOTE_LIMIT} ký tự).",
    "use_form": "Không lưu được quyết định từ lần kiểm tra này: hãy xem lại kết quả rồi gửi lại.",
    "use_status": "Bộ tiêu chí không cho phép trạng thái này với tiêu chí này: hãy quyết định trên trang kết quả.",
}
FIELDS = ("url", "criterion", "agency")


def _form_context(request: Request, audit, form: dict, errors: dict) -> dict:
    with Db(request.app.state.db_path) as db:
        recent = api.list_checks(db)
    return dict(audit=audit, criteria=audit.rulebook.website_criteria(), agencies=audit.data.agencies,
                recent=recent, form=form, errors=errors,
                names={a.agency_id: a.agency_name for a in audit.data.agencies})


async def check_form(request: Request):
    signed_in_user(request, auth.DECIDERS)
    audit = shown_audit(request)
    form = {k: request.query_params.get(k, "") for k in FIELDS}   # a dispute's corrected link arrives this way
    return render(request, "check.html.j2", **_form_context(request, audit, form, {}))


def _field_errors(audit, form: dict):
    """(errors by field, the criterion, the agency) of the form as typed."""
    errors = {}
    if not form["url"]:
        errors["url"] = MESSAGES["url"]
    spec = audit.rulebook.by_id.get(form["criterion"])
    if spec is None or spec.kind != "website":
        errors["criterion"], spec = MESSAGES["criterion"], None
    info = None
    if form["agency"]:
        info = next((a for a in audit.data.agencies if a.agency_id == form["agency"]), None)
        if info is None:
            errors["agency"] = MESSAGES["agency"]
        elif spec is not None and info.group not in spec.groups:
            errors["criterion"] = MESSAGES["not_applicable"]
    return errors, spec, info


async def run_check(request: Request):
    user = signed_in_user(request, auth.DECIDERS)
    audit = shown_audit(request)
    posted = await request.form()
    form = {k: str(posted.get(k, "")).strip() for k in FIELDS}
    errors, spec, info = _field_errors(audit, form)
    if errors:
        return render(request, "check.html.j2", status=400, **_form_context(request, audit, form, errors))
    db_path = request.app.state.db_path
    try:
        warc = api.check_warc_file(db_path)
        try:
            result = await run_in_threadpool(
                api.check_link, form["url"], spec.id, period_start=audit.period[0], period_end=audit.period[1],
                agency_portal=(info.portal or None) if info else None, rules=audit.rulebook,
                allow_private=request.app.state.allow_private, warc_path=warc,
                agency=(info.agency_id, info.agency_name) if info else None)
        except InputError:
            warc.unlink(missing_ok=True)       # nothing was fetched: no file left behind
            raise
    except InputError as exc:
        field = {"URL": "url"}.get(exc.column or "", "form")
        errors = {field: MESSAGES["URL"] if field == "url" else MESSAGES["form"]}
        return render(request, "check.html.j2", status=400, **_form_context(request, audit, form, errors))
    now = api.now_utc()
    v = result.verdict
    with Db(db_path) as db:
        kept = api.store_check(db, result, user["name"], agency_id=info.agency_id if info else None, now=now)
        append_audit(db, at=now, who=user["name"], action="spot-check", object=f"check/{kept.id}",
                     detail=f"{spec.id} {v.url}" + (f" ({info.agency_id})" if info else "")
                     + f": {v.status}/{v.reason}, {result.elapsed:.1f}s")
    return RedirectResponse(f"/check/{kept.id}", status_code=303)


def _check(request: Request) -> api.StoredCheck:
    with Db(request.app.state.db_path) as db:
        check = api.get_check(db, request.path_params["check_id"])
    if check is None:
        raise HTTPException(404)
    return check


def _record_at(check: api.StoredCheck, offset: int | None):
    """(the chain of requests, the frame, its note) of the check's WARC record at offset."""
    path = Path(check.warc_file) if check.warc_file else None
    if path is None or offset is None or not path.is_file():
        return [], None, None
    record = read_record(path, offset)
    frame = note = None
    if record is not None and record.record_type == "response" and record.body:
        frame, note = archived_frame(record)
    return request_chain(path, offset), frame, note


def _offset(page) -> int | None:
    ref = parse_warc_ref(page.warc_record)
    return ref[1] if ref else None


def _result_context(request: Request, check: api.StoredCheck, errors: dict, form: dict) -> dict:
    audit = shown_audit(request)
    v = check.verdict
    info = next((a for a in audit.data.agencies if a.agency_id == check.agency_id), None)
    try:
        why = hint(v, audit.rulebook, portal=info.portal if info else "")
    except KeyError:                     # a reason without a hint text
        why = ""
    machine = audit.data.verdict_map().get((check.agency_id, v.criterion)) if check.agency_id else None
    with Db(request.app.state.db_path) as db:
        used = [o for o in load_overrides(db) if o.spot_check_id == check.id]
    chain, frame, note = _record_at(check, check.warc_offset)
    criterion = audit.rulebook.by_id.get(v.criterion)
    return dict(check=check, verdict=v, audit=audit, info=info, criterion=criterion, hint=why, machine=machine,
                pages=[(p, _offset(p)) for p in v.pages], chain=chain, frame=frame, note=note, used=used,
                allowed=v.status in (criterion.override_statuses if criterion else ()),
                checked_at=machine.checked_at.isoformat() if machine and machine.checked_at else "",
                errors=errors, form=form)


async def check_result(request: Request):
    signed_in_user(request, auth.DECIDERS)
    check = _check(request)
    return render(request, "check_result.html.j2", **_result_context(request, check, {}, {}))


async def check_page(request: Request):
    signed_in_user(request, auth.DECIDERS)
    check = _check(request)
    pages = check.verdict.pages
    n = request.path_params["n"]
    if not 0 <= n < len(pages) or _offset(pages[n]) is None:
        raise HTTPException(404)
    chain, frame, note = _record_at(check, _offset(pages[n]))
    return render(request, "check_archived.html.j2", check=check, page=pages[n], chain=chain, frame=frame,
                   note=note)


async def use_check(request: Request):
    """The check's verdict as the reviewer's decision: refused when the run or the verdict changed since the
    page was shown, or without a note; the typed note is kept on a refusal."""
    user = signed_in_user(request, auth.DECIDERS)
    check = _check(request)
    posted = await request.form()
    form = {k: str(posted.get(k, "")) for k in ("note", "run", "checked_at")}
    context = _result_context(request, check, {}, form)
    if context["machine"] is None:
        raise HTTPException(404)          # no agency, or no verdict of it in the latest run: nothing to decide
    errors = {}
    if form["run"] != str(context["audit"].run_id) or form["checked_at"] != context["checked_at"]:
        errors["use_form"] = FIELD_MESSAGES["form"]
    elif not form["note"].strip() or len(form["note"]) > NOTE_LIMIT:
        errors["use_note"] = MESSAGES["use_note"]
    now = api.now_utc()
    if not errors:
        with Db(request.app.state.db_path) as db:
            try:
                saved = api.use_check(db, check.id, form["note"], user["name"], run_id=context["audit"].run_id,
                                      now=now).override
            except InputError as exc:
                key = {"--status": "use_status", "--note": "use_note"}.get(exc.column or "", "use_form")
                errors = {key: MESSAGES[key]}
            else:
                append_audit(db, at=now, who=user["name"], action="use-check",
                             object=f"{saved.agency_id}/{saved.criterion}",
                             detail=f"#{saved.id} from check #{check.id}: {saved.machine_status or '-'} -> "
                                    f"{saved.status}: {saved.note}")
    if errors:
        return render(request, "check_result.html.j2", status=400,
                       **{**context, "errors": errors, "form": form})
    return RedirectResponse(f"/agency/{saved.agency_id}/{saved.criterion}", status_code=303)


ROUTES = [
    Route("/check", check_form, methods=["GET"]),
    Route("/check", run_check, methods=["POST"]),
    Route("/check/{check_id:int}", check_result, methods=["GET"]),
    Route("/check/{check_id:int}/use", use_check, methods=["POST"]),
    Route("/check/{check_id:int}/page/{n:int}", check_page),
]
