"""The console's Starlette application: sign-in, ranking, agency and verdict pages, review queue, override,
audit trail. Every route checks the signed-in user's role and, for agency accounts, the agency of the object."""

from __future__ import annotations

from pathlib import Path

from asgi_csrf import asgi_csrf
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from verifier.api import now_utc
from verifier.console import actions, auth, pages_check, pages_runs
from verifier.console.web import FIELD_MESSAGES, Db, may_see, render, shown_audit, signed_in_user
from verifier.errors import InputError
from verifier.export import trail
from verifier.export.hints import audit_hint
from verifier.export.html_evidence import archived_frame, archived_record, request_chain
from verifier.rulebook import OVERRIDE_STATUSES
from verifier.store import (
    append_audit,
    audit_entries,
    ensure_console_tables,
    load_overrides,
    verdict_history,
)

SESSION_COOKIE = "pe_session"
SESSION_AGE = 8 * 3600
# the console's pages: no script at all, no resource from elsewhere; the archived page's frame is sandboxed
# and carries its own CSP (html_evidence.srcdoc)
PAGE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


async def login_page(request: Request):
    return render(request, "login.html.j2")


async def login(request: Request):
    form = await request.form()
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    now = now_utc()
    with Db(request.app.state.db_path) as db:
        user, why = auth.sign_in(db, name, password, _client(request), now)
        append_audit(db, at=now, who=name, action="sign-in" if user else "sign-in-failed",
                     object=_client(request), detail=why)
    if user is None:
        message = ("Đăng nhập sai quá nhiều lần: tài khoản tạm khoá 15 phút." if why == "locked"
                   else "Tên đăng nhập hoặc mật khẩu không đúng.")
        return render(request, "login.html.j2", status=429 if why == "locked" else 401, error=message, name=name)
    request.session.clear()
    request.session["user"] = user["name"]
    return RedirectResponse("/", status_code=303)


async def logout(request: Request):
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


async def home(request: Request):
    user = signed_in_user(request)
    if user["role"] == "agency":
        return RedirectResponse(f"/agency/{user['agency_id']}", status_code=303)
    audit = shown_audit(request)
    return render(request, "ranking.html.j2", audit=audit, groups=audit.groups(),
                   names={a.agency_id: a.agency_name for a in audit.data.agencies})


def _agency(audit, agency_id: str):
    info = next((a for a in audit.data.agencies if a.agency_id == agency_id), None)
    if info is None:
        raise HTTPException(404)
    return info


def agency_context(request: Request, user: dict) -> dict:
    """What the agency page shows (404 when the user may not see the agency)."""
    from verifier.console import pages_round

    agency_id = request.path_params["agency_id"]
    may_see(user, agency_id)
    audit = shown_audit(request)
    info = _agency(audit, agency_id)
    rows = []
    for v in audit.verdicts_of(agency_id):
        criterion = audit.rulebook.by_id.get(v.criterion)
        rows.append({"verdict": v, "criterion": criterion, "points": audit.points(agency_id, v.criterion),
                     "reported": audit.reported_text(agency_id, v.criterion),
                     "override": audit.override(agency_id, v.criterion),
                     "hint": audit_hint(audit, agency_id, v.criterion)})
    return dict(audit=audit, info=info, score=audit.score(agency_id), rows=rows,
                **pages_round.agency_round(request, user, audit, agency_id))


async def agency_page(request: Request):
    user = signed_in_user(request)
    return render(request, "agency.html.j2", **agency_context(request, user), round_errors={}, round_form={})


def verdict_context(request: Request, user: dict):
    from verifier.console import pages_round

    agency_id, criterion_id = request.path_params["agency_id"], request.path_params["criterion"]
    may_see(user, agency_id)
    audit = shown_audit(request)
    info = _agency(audit, agency_id)
    verdict = audit.data.verdict_map().get((agency_id, criterion_id))
    if verdict is None:
        raise HTTPException(404)
    fetch_ids = audit.fetch_ids(verdict)
    pages = list(zip(verdict.pages, fetch_ids))
    view = audit.override(agency_id, criterion_id)
    with Db(request.app.state.db_path) as db:
        runs = verdict_history(db, agency_id, criterion_id)
        # every decision on this verdict, withdrawn ones too: the record is append-only
        decisions = tuple(o for o in load_overrides(db) if (o.agency_id, o.criterion) == (agency_id, criterion_id))
    return dict(runs=runs, audit=audit, info=info, verdict=verdict,
                criterion=audit.rulebook.by_id.get(criterion_id),
                points=audit.points(agency_id, criterion_id), pages=pages, override=view,
                history=decisions, hint=audit_hint(audit, agency_id, criterion_id),
                reported=audit.reported_text(agency_id, criterion_id),
                checked_at=verdict.checked_at.isoformat() if verdict.checked_at else "",
                statuses=audit.rulebook.by_id[criterion_id].override_statuses if criterion_id in audit.rulebook.by_id
                else OVERRIDE_STATUSES,
                may_decide=user["role"] in auth.DECIDERS,
                **pages_round.verdict_round(request, user, agency_id, criterion_id))


async def verdict_page(request: Request):
    user = signed_in_user(request)
    return render(request, "verdict.html.j2", **verdict_context(request, user), errors={}, form={})


async def override(request: Request):
    user = signed_in_user(request, auth.DECIDERS)
    context = verdict_context(request, user)
    form = await request.form()
    fields = {k: str(form.get(k, "")) for k in ("status", "note", "run", "checked_at")}
    now = now_utc()
    with Db(request.app.state.db_path) as db:
        try:
            saved = actions.apply_override(db, context["audit"], context["verdict"].agency_id,
                                           context["verdict"].criterion, status=fields["status"],
                                           note=fields["note"], by=user["name"], seen_run=fields["run"],
                                           seen_checked_at=fields["checked_at"], now=now)
        except InputError as exc:
            column = getattr(exc, "column", None) or "form"
            errors = {column.lstrip("-"): FIELD_MESSAGES.get(column, FIELD_MESSAGES["form"])}
            return render(request, "verdict.html.j2", status=400, **context, errors=errors, form=fields)
        append_audit(db, at=now, who=user["name"], action="override",
                     object=f"{saved.agency_id}/{saved.criterion}",
                     detail=f"#{saved.id} {saved.machine_status or '-'} -> {saved.status}: {saved.note}")
    return RedirectResponse(request.url.path, status_code=303)


async def withdraw(request: Request):
    user = signed_in_user(request, auth.DECIDERS)
    context = verdict_context(request, user)
    form = await request.form()
    fields = {k: str(form.get(k, "")) for k in ("override_id", "withdraw_note")}
    now = now_utc()
    with Db(request.app.state.db_path) as db:
        try:
            saved = actions.withdraw_override(db, context["audit"], context["verdict"].agency_id,
                                              context["verdict"].criterion, override_id=fields["override_id"],
                                              note=fields["withdraw_note"], by=user["name"], now=now)
        except InputError as exc:
            column = getattr(exc, "column", None) or "form"
            key = "withdraw_note" if column == "--note" else "withdraw_form"
            message = FIELD_MESSAGES.get(column, FIELD_MESSAGES["form"])
            return render(request, "verdict.html.j2", status=400, **context, errors={key: message},
                           form=fields)
        append_audit(db, at=now, who=user["name"], action="withdraw",
                     object=f"{saved.agency_id}/{saved.criterion}", detail=f"#{saved.id}: {fields['withdraw_note']}")
    return RedirectResponse(request.url.path.rsplit("/withdraw", 1)[0], status_code=303)


async def archived_page(request: Request):
    user = signed_in_user(request)
    context = verdict_context(request, user)
    fid = request.path_params["fetch_id"]
    if fid not in [i for _, i in context["pages"] if i is not None]:
        raise HTTPException(404)         # a fetch of another verdict (or agency) is not reachable from here
    fetch = context["audit"].fetches.get(fid)
    if fetch is None:
        raise HTTPException(404)
    path, record = archived_record(context["audit"], fetch)
    chain = request_chain(path, int(fetch.get("warc_offset") or 0)) if record is not None else []
    frame = note = None
    if record is not None and record.record_type == "response" and record.body:
        frame, note = archived_frame(record)
    return render(request, "archived.html.j2", **context, fetch=fetch, fid=fid, frame=frame, note=note,
                   chain=chain)


async def queue(request: Request):
    from verifier.console import pages_round

    signed_in_user(request, auth.STAFF)
    audit = shown_audit(request)
    want = {k: request.query_params.get(k, "") for k in ("agency", "criterion", "reason", "kind")}
    items = [(v, cp) for v, cp in audit.review_queue()
             if (not want["agency"] or v.agency_id == want["agency"])
             and (not want["criterion"] or v.criterion == want["criterion"])
             and (not want["reason"] or v.reason == want["reason"]) and want["kind"] != "dispute"]
    everything = audit.review_queue()
    disputes = pages_round.queue_disputes(request, {"kind": want["kind"]})      # unfiltered, for the choices
    return render(request, "queue.html.j2", audit=audit, items=items, want=want,
                   disputes=[d for d in disputes if want["agency"] in ("", d.agency_id)
                             and want["criterion"] in ("", d.criterion) and not want["reason"]],
                   names={a.agency_id: a.agency_name for a in audit.data.agencies},
                   agencies=sorted({v.agency_id for v, _ in everything} | {d.agency_id for d in disputes}),
                   criteria=sorted({v.criterion for v, _ in everything} | {d.criterion for d in disputes}),
                   reasons=sorted({v.reason for v, _ in everything}))


async def audit_trail(request: Request):
    signed_in_user(request, {"admin"})
    with Db(request.app.state.db_path) as db:
        entries = audit_entries(db)
    return render(request, "audit.html.j2", entries=entries, action_text=trail.action_text)


async def not_found(request: Request, exc: HTTPException):
    if exc.status_code == 303:
        return RedirectResponse(exc.headers["Location"], status_code=303)
    if exc.status_code == 403:
        return render(request, "error.html.j2", status=403, message="Yêu cầu bị từ chối.")
    return render(request, "error.html.j2", status=exc.status_code, message="Không tìm thấy trang.")


def _headers(app):
    async def wrapped(scope, receive, send):
        async def send_with(event):
            if event["type"] == "http.response.start":
                headers = list(event.get("headers") or [])
                headers += [(b"content-security-policy", PAGE_CSP.encode()), (b"x-content-type-options", b"nosniff"),
                            (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]
                event = {**event, "headers": headers}
            await send(event)
        await app(scope, receive, send_with)
    return wrapped


def create_app(db_path: Path | str, *, https: bool = False, allow_private: bool = False):
    """The console over the database at db_path (its console tables created if missing); allow_private lets its
    spot-check fetch loopback and private addresses (the demo, tests)."""
    from verifier.console import pages_round  # its pages build on this module's agency and verdict pages

    db_path = Path(db_path)
    with Db(db_path) as db:
        ensure_console_tables(db)
        secret = auth.session_secret(db)
    routes = [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", home),
        Route("/queue", queue),
        Route("/audit", audit_trail),
        Route("/agency/{agency_id}", agency_page),
        Route("/agency/{agency_id}/{criterion}", verdict_page, methods=["GET"]),
        Route("/agency/{agency_id}/{criterion}", override, methods=["POST"]),
        Route("/agency/{agency_id}/{criterion}/withdraw", withdraw, methods=["POST"]),
        Route("/agency/{agency_id}/{criterion}/page/{fetch_id:int}", archived_page),
        *pages_check.ROUTES,
        *pages_runs.ROUTES,
        *pages_round.ROUTES,
        Mount("/static", StaticFiles(packages=[("verifier.console", "static")]), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: not_found}, middleware=[
        Middleware(SessionMiddleware, secret_key=secret, session_cookie=SESSION_COOKIE, max_age=SESSION_AGE,
                   same_site="lax", https_only=https)])
    app.state.db_path = db_path
    app.state.allow_private = allow_private
    return _headers(asgi_csrf(app, signing_secret=secret, always_protect={"/login", "/logout"},
                              cookie_secure=https))
