"""The console's runs (staff): every crawl run with its counts by status and what started it, and the verdicts
that changed between two of them, each beside both readings."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from verifier import api
from verifier.console import auth
from verifier.console.web import Db, render, signed_in_user
from verifier.export.audit import build_audit
from verifier.store import NoRun

MESSAGES = {
    "number": "Hãy chọn một lượt kiểm tra trong danh sách (số lượt không hợp lệ).",
    "unknown": "Không có lượt kiểm tra này trong cơ sở dữ liệu.",
    "same": "Hãy chọn hai lượt kiểm tra khác nhau.",
}


def _context(db) -> dict:
    runs = api.list_runs(db)
    try:
        audit = build_audit(db)
        names = {a.agency_id: a.agency_name for a in audit.data.agencies}
        criteria = {c.id: c.name for c in audit.rulebook.criteria}
    except NoRun:
        names, criteria = {}, {}
    return dict(runs=runs, names=names, criteria=criteria)


async def runs_page(request: Request):
    signed_in_user(request, auth.STAFF)
    with Db(request.app.state.db_path) as db:
        context = _context(db)
    ids = [r.id for r in context["runs"]]
    form = {"a": str(ids[1]) if len(ids) > 1 else "", "b": str(ids[0]) if ids else ""}
    return render(request, "runs.html.j2", **context, form=form, errors={})


async def diff_page(request: Request):
    signed_in_user(request, auth.STAFF)
    form = {k: request.query_params.get(k, "").strip() for k in ("a", "b")}
    errors = {k: MESSAGES["number"] for k, v in form.items() if not v.isdigit()}
    if not errors and form["a"] == form["b"]:
        errors["b"] = MESSAGES["same"]
    with Db(request.app.state.db_path) as db:
        context = _context(db)
        if errors:
            return render(request, "diff.html.j2", status=400, **context, form=form, errors=errors, changes=None)
        try:
            changes = api.diff_runs(db, int(form["a"]), int(form["b"]))
        except NoRun as exc:
            errors = {(exc.column or "A").lower(): MESSAGES["unknown"]}
            return render(request, "diff.html.j2", status=404, **context, form=form, errors=errors, changes=None)
    return render(request, "diff.html.j2", **context, form=form, errors={}, changes=changes)


ROUTES = [
    Route("/runs", runs_page),
    Route("/runs/diff", diff_page),
]
