"""What every console page shares: the templates, one short-lived database connection per request, the
signed-in user and what that user may see, the run the pages show."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse

from verifier.api import NOTE_LIMIT
from verifier.console import actions
from verifier.export import labels as L
from verifier.store import NoRun, get_user, moment, open_db

FIELD_MESSAGES = {
    "--status": "Trạng thái không hợp lệ hoặc bộ tiêu chí không cho phép với tiêu chí này: hãy chọn một trạng "
                "thái trong danh sách.",
    "--note": f"Cần ghi chú lý do (không quá {NOTE_LIMIT} ký tự).",
    "--by": "Không xác định được người duyệt.",
    "form": "Kết quả kiểm tra đã thay đổi kể từ khi trang được mở: hãy xem lại rồi gửi lại.",
}
ROLE_NAMES = {"admin": "Quản trị", "reviewer": "Người duyệt", "viewer": "Người xem", "agency": "Đơn vị"}

ENV = Environment(loader=PackageLoader("verifier.console", "templates"),
                   autoescape=select_autoescape(["html", "j2"]))
ENV.globals.update(L=L, ROLE_NAMES=ROLE_NAMES, moment=moment)   # moment: a stored time as a datetime


class Db:
    """One short-lived connection per request (WAL, busy_timeout from open_db)."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        self.db = open_db(self.path)
        return self.db

    def __exit__(self, *exc):
        self.db.close()
        return False


def render(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    context.update(request=request, user=request.scope.get("console_user"),
                   csrftoken=request.scope["csrftoken"]() if "csrftoken" in request.scope else "")
    return HTMLResponse(ENV.get_template(template).render(**context), status_code=status)


def signed_in_user(request: Request, roles=None) -> dict:
    """The signed-in user (else a redirect to sign-in); 404 when the role may not see the route."""
    name = request.session.get("user")
    user = None
    if name:
        with Db(request.app.state.db_path) as db:
            user = get_user(db, name)
    if user is None or user["disabled"]:
        request.session.clear()
        raise HTTPException(303, headers={"Location": "/login"})
    if roles is not None and user["role"] not in roles:
        raise HTTPException(404)
    request.scope["console_user"] = user
    return user


def may_see(user: dict, agency_id: str) -> None:
    if user["role"] == "agency" and user["agency_id"] != agency_id:
        raise HTTPException(404)


def shown_audit(request: Request):
    """The run the pages show (actions.current_audit); 404 while the database holds none."""
    with Db(request.app.state.db_path) as db:
        try:
            return actions.current_audit(db)
        except NoRun:
            raise HTTPException(404) from None
