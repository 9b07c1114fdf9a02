"""Hand-made evidence databases for the scoring and export tests (no crawl needed).

A database is built the way the crawl fills it: a `runs` row, the run's agencies and
reports, then `save_verdict` per link on hand-made Verdict records, with WARC records
written by warcio for the pages that have evidence.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.records import PageVisit, Post, Verdict
from verifier.intake import Report
from verifier.reported import decide_reported
from verifier.rulebook import DEFAULT_RULEBOOK, load_rulebook
from verifier.store import iso, open_db, save_verdict, warc_ref

UTC = dt.UTC
T_CHECK = dt.datetime(2018, 11, 28, 2, 30, tzinfo=UTC)
GENERATED = dt.datetime(2018, 12, 1, 3, 0, tzinfo=UTC)
EVIL_TITLE = '=HYPERLINK("http://evil","x")'
SCRIPT_TITLE = "<script>alert(1)</script>"

MINI_RULEBOOK = """
province: Thử nghiệm
year: 2018
deadline: 2018-11-26
period: [2018-01-01, 2018-12-31]
groups: {so: "Sở, ban, ngành", huyen: "UBND huyện"}
levels:
  - {name: Tốt, min: 85}
  - {name: Khá, min: 70}
  - {name: Trung bình, min: 50}
  - {name: Yếu, min: 0}
criteria:
  - {id: tin-tuc, name: Tin tức, kind: website, groups: [so, huyen], points: 10, aliases: [Tin tức],
     grades: [{min_posts: 12, share: 1.0}, {min_posts: 1, share: 0.5}]}
  - {id: chi-dao, name: Chỉ đạo điều hành, kind: website, groups: [so, huyen], points: 5, aliases: [Chỉ đạo điều hành]}
  - {id: thanh-tra, name: Thanh tra, kind: website, groups: [so, huyen], points: 4, aliases: [Thanh tra]}
  - {id: staff, name: Tổng số cán bộ, kind: reported, groups: [so, huyen], points: 0, unit: người,
     integer: true, min: 1}
  - {id: computers, name: Số cán bộ có máy tính, kind: reported, groups: [so, huyen], points: 6, unit: người,
     formula: rate, of: staff, not_above: staff, integer: true}
  - {id: lan, name: Tỷ lệ máy tính nối mạng, kind: reported, groups: [so, huyen], points: 4, unit: "%",
     formula: rate, max: 100}
  - {id: dvc, name: Dịch vụ công mức 3-4, kind: reported, groups: [so, huyen], points: 10, unit: dịch vụ,
     formula: tiers, integer: true,
     tiers: [{min: 20, points: 10}, {min: 10, points: 7}, {min: 5, points: 4}, {min: 1, points: 2}]}
  - {id: security, name: Quy chế an toàn thông tin, kind: reported, groups: [so, huyen], points: 3,
     unit: Có/Không, formula: yes_no}
"""
MINI_MAX = 42.0     # 10 + 5 + 4 + 0 + 6 + 4 + 10 + 3


def mini_rulebook_path(tmp_path: Path) -> Path:
    path = tmp_path / "mini-2018.yaml"
    path.write_text(MINI_RULEBOOK, encoding="utf-8")
    return path


def new_db(path: Path):
    return open_db(path)


def add_run(db, rulebook_path: Path | str = DEFAULT_RULEBOOK, *, year: int = 2018,
            period=("2018-01-01", "2018-12-31"), warc_dir: Path | None = None,
            started: dt.datetime = T_CHECK) -> int:
    return db["runs"].insert({
        "started_at": iso(started), "finished_at": iso(started + dt.timedelta(minutes=5)), "status": "done",
        "rulebook": str(rulebook_path), "year": year, "period_start": period[0], "period_end": period[1],
        "options": "{}", "inputs_digest": "test", "agencies_file": "agencies.csv", "reports_file": "reports.csv",
        "warc_dir": str(warc_dir) if warc_dir else None, "pid": 0,
    }).last_pk


def add_agency(db, run_id: int, agency_id: str, name: str, group: str, portal: str = "") -> None:
    db["agencies"].insert({"run_id": run_id, "agency_id": agency_id, "agency_name": name, "agency_group": group,
                           "portal": portal or f"https://{agency_id}.caobang.gov.vn"})


def add_report(db, run_id: int, agency_id: str, criterion: str, *, url: str = "", value: str = "",
               not_applicable: bool = False, note: str = "", submitted_at: str | None = "2018-11-20") -> Report:
    db["reports"].insert({"run_id": run_id, "agency_id": agency_id, "criterion": criterion, "url": url,
                          "value": value, "not_applicable": int(not_applicable), "note": note,
                          "submitted_at": submitted_at, "source": "reports.csv"}, replace=True)
    return Report(agency_id, criterion, url, value, not_applicable, note,
                  dt.date.fromisoformat(submitted_at) if submitted_at else None, "reports.csv")


def posts_in(n: int, *, year: int = 2018, prefix: str = "Bài", base: str = "https://x.gov.vn/p") -> tuple[Post, ...]:
    """n posts dated within the year (one per fortnight, newest first)."""
    start = dt.date(year, 1, 5)
    return tuple(Post(f"{prefix} {i + 1}", f"{base}/{i + 1}", start + dt.timedelta(days=14 * (n - 1 - i)),
                      None, "listing") for i in range(n))


def website(agency_id: str, criterion: str, status: str, reason: str, *, posts: tuple[Post, ...] = (),
            posts_in_year: int | None = None, url: str | None = None, pages: tuple[PageVisit, ...] = (),
            detail: str = "", discovered: bool = False, checked_at: dt.datetime = T_CHECK) -> Verdict:
    """A website verdict; posts_in_year defaults to the posts dated in 2018 when posts are given."""
    if posts_in_year is None and posts:
        posts_in_year = sum(1 for p in posts if p.published and p.published.year == 2018)
    url = url if url is not None else f"https://{agency_id}.caobang.gov.vn/{criterion}"
    checked = url if reason not in ("no_link", "not_applicable", "not_applicable_unexplained", "off_site") else None
    return Verdict(agency_id=agency_id, criterion=criterion, url=url or None, checked_url=checked, status=status,
                   reason=reason, posts_in_year=posts_in_year, discovered=discovered,
                   detail=detail or f"{status}/{reason}", pages=pages, posts=posts, checked_at=checked_at)


def page(url: str, *, ref: str | None = None, purpose: str = "listing", status: int = 200, kind: str = "listing",
         category: str | None = None, label: str | None = None, posts: int = 0) -> PageVisit:
    return PageVisit(url=url, final_url=url, purpose=purpose, status=status, fetched_at=T_CHECK, kind=kind,
                     category=category, category_label=label, posts=posts, warc_record=ref, digest="sha1:TEST")


class WarcMaker:
    """Writes response records with warcio and returns each one's 'file#offset+length'."""

    def __init__(self, folder: Path, name: str):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / name
        self.fh = self.path.open("wb")
        self.writer = WARCWriter(self.fh, gzip=True, warc_version="1.1")
        self.count = 0

    def response(self, url: str, body: bytes, *, content_type: str = "text/html; charset=utf-8") -> str:
        self.count += 1
        http = StatusAndHeaders("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))],
                                protocol="HTTP/1.1")
        record = self.writer.create_warc_record(url, "response", payload=io.BytesIO(body), length=len(body),
                                                http_headers=http, warc_headers_dict={
                                                    "WARC-Date": "2018-11-28T02:30:00Z",
                                                    "WARC-Record-ID": f"<urn:uuid:00000000-0000-0000-0000-{self.count:012d}>"})
        start = self.fh.tell()
        self.writer.write_record(record)
        self.fh.flush()
        return warc_ref(self.path.name, start, self.fh.tell() - start)

    def close(self):
        self.fh.close()


# --------------------------------------------------------------------------------------------- a province

SO = [("so-tu-phap", "Sở Tư pháp"), ("so-tttt", "Sở Thông tin và Truyền thông"),
      ("so-xay-dung", "Sở Xây dựng"), ("so-y-te", "Sở Y tế")]
HUYEN = [("ubnd-hoa-an", "UBND huyện Hòa An"), ("ubnd-bao-lac", "UBND huyện Bảo Lạc")]

GOOD_FIGURES = {
    "can-bo-cong-chuc": "40", "may-tinh-can-bo": "36", "ket-noi-internet": "100", "mang-chuyen-dung": "Có",
    "qlvb-dieu-hanh": "90", "van-ban-dien-tu": "75", "thu-cong-vu-cap": "40", "thu-cong-vu-su-dung": "30",
    "chu-ky-so": "Có", "mot-cua-dien-tu": "Có", "tthc-tong-so": "120", "dvc-muc-3-4": "24",
    "ho-so-truc-tuyen": "12,5", "can-bo-cntt": "2", "dao-tao-cntt": "20", "phong-chong-ma-doc": "80",
    "quy-che-attt": "Có", "sao-luu-du-lieu": "Không", "ke-hoach-cntt": "Có", "csdl-chuyen-nganh": "Có",
    "xa-ket-noi-internet": "85",
}


def build_province(tmp_path: Path, *, with_warc: bool = True):
    """A run over the real rulebook: four departments (one late, one without a form) and two districts that tie.

    Returns (db path, run id). Evidence: so-tu-phap's chi-dao-dieu-hanh listing is archived in a WARC
    with a post titled like a formula and a category label that is a script tag."""
    rulebook = load_rulebook()
    db_path = tmp_path / "evidence.db"
    db = new_db(db_path)
    warc_dir = tmp_path / "warc"
    run_id = add_run(db, DEFAULT_RULEBOOK, warc_dir=warc_dir)
    for agency_id, name in SO:
        add_agency(db, run_id, agency_id, name, "so")
    for agency_id, name in HUYEN:
        add_agency(db, run_id, agency_id, name, "huyen", "https://caobang.gov.vn/web/" + agency_id)
    refs = {}
    if with_warc:
        warc = WarcMaker(warc_dir, f"run-{run_id}-20181128-1.warc.gz")
        listing = (f"<html><head><title>{SCRIPT_TITLE}</title></head><body><h1>Chỉ đạo điều hành</h1>"
                   f"<ul><li><a href='/a/1'>{EVIL_TITLE}</a> 05/03/2018</li>"
                   f"<li><a href='/a/2'>Kế hoạch công tác</a> 12/06/2018</li></ul>"
                   "<script>alert(2)</script></body></html>").encode()
        refs["listing"] = warc.response("https://so-tu-phap.caobang.gov.vn/chi-dao-dieu-hanh", listing)
        refs["article"] = warc.response("https://so-tu-phap.caobang.gov.vn/a/1",
                                        "<html><body><h1>Bài 1</h1><p>Ngày 05/03/2018</p></body></html>".encode())
        warc.close()
    late = {"so-xay-dung": "2018-11-30"}
    for group, members in (("so", SO), ("huyen", HUYEN)):
        for agency_id, _ in members:
            if agency_id == "so-y-te":
                continue        # no form: no report rows
            submitted = late.get(agency_id, "2018-11-20")
            reports = []
            for criterion in rulebook.criteria_for(group):
                if criterion.kind == "website":
                    na = agency_id == "so-tttt" and criterion.id == "khoa-hoc-cong-nghe"
                    reports.append(add_report(db, run_id, agency_id, criterion.id,
                                              url="" if na else f"https://{agency_id}.caobang.gov.vn/{criterion.id}",
                                              not_applicable=na, note="Không có nhiệm vụ nghiên cứu" if na else "",
                                              submitted_at=submitted))
                else:
                    reports.append(add_report(db, run_id, agency_id, criterion.id, value=GOOD_FIGURES[criterion.id],
                                              submitted_at=submitted))
            for criterion in rulebook.criteria_for(group):
                if criterion.kind == "website":
                    save_verdict(db, run_id, _province_verdict(agency_id, criterion.id, refs), rulebook.period)
                elif agency_id == "so-tttt":   # the crawl stores reported verdicts too; others are computed
                    report = next(r for r in reports if r.criterion == criterion.id)
                    save_verdict(db, run_id, decide_reported(agency_id, criterion, report, reports, rulebook,
                                                             T_CHECK), rulebook.period)
    return db_path, run_id


def _province_verdict(agency_id: str, criterion: str, refs: dict) -> Verdict:
    base = f"https://{agency_id}.caobang.gov.vn"
    if agency_id == "so-tu-phap" and criterion == "chi-dao-dieu-hanh":
        posts = (Post(EVIL_TITLE, f"{base}/a/1", dt.date(2018, 3, 5), None, "article"),
                 Post("Kế hoạch công tác", f"{base}/a/2", dt.date(2018, 6, 12), None, "listing"),
                 Post("Thông báo cũ", f"{base}/a/3", dt.date(2016, 1, 4), None, "listing"))
        pages = (page(f"{base}/chi-dao-dieu-hanh", ref=refs.get("listing"), category="chi-dao-dieu-hanh",
                      label=SCRIPT_TITLE, posts=3),
                 page(f"{base}/a/1", ref=refs.get("article"), purpose="article", kind="article"))
        return website(agency_id, criterion, "pass", "ok", posts=posts, pages=pages)
    if agency_id == "so-tu-phap" and criterion == "thanh-tra":
        return website(agency_id, criterion, "review", "undated", posts=(Post("Kết luận thanh tra", f"{base}/t/1"),),
                       posts_in_year=0, detail="1 post(s) but no date found for any")
    if agency_id == "so-tttt" and criterion == "khoa-hoc-cong-nghe":
        return website(agency_id, criterion, "exempt", "not_applicable", url="",
                       detail="not applicable: Không có nhiệm vụ nghiên cứu")
    if agency_id == "so-tttt" and criterion == "ngan-sach":
        return website(agency_id, criterion, "fail", "no_posts_in_year",
                       posts=(Post("Công khai dự toán 2017", f"{base}/ns/1", dt.date(2017, 1, 9), None, "listing"),),
                       posts_in_year=0)
    if agency_id.startswith("ubnd") and criterion == "van-ban-phap-luat":
        return website(agency_id, criterion, "fail", "wrong_category", detail="the page shows the category 'tin-tuc-su-kien'")
    n = 14 if criterion == "tin-tuc-su-kien" else 6
    if agency_id == "so-tu-phap" and criterion == "tin-tuc-su-kien":
        n = 8          # below the 12 posts of full points: half of 12
    return website(agency_id, criterion, "pass", "ok", posts=posts_in(n, base=f"{base}/{criterion}"))


def crawl_demo(folder: Path) -> Path:
    """The whole demo crawled as a reviewer crawls it (a process of its own, the demo portals as its proxy)
    into folder/evidence.db and folder/warc; returns the database's path."""
    import os
    import subprocess
    import sys

    from demo.pipeline import DEMO_DIR, DEMO_LIMITS
    from demo.server import PortalServer

    db_path = folder / "evidence.db"
    with PortalServer() as server:
        proxy = server.proxy_url
        env = {**os.environ, "http_proxy": proxy, "HTTP_PROXY": proxy, "no_proxy": "", "NO_PROXY": ""}
        result = subprocess.run([sys.executable, "-m", "verifier", "crawl", "--agencies",
                                 str(DEMO_DIR / "agencies.csv"), "--reports", str(DEMO_DIR / "reports.csv"),
                                 "--items", str(DEMO_DIR / "items.csv"),
                                 "--db", str(db_path), "--warc-dir", str(folder / "warc"),
                                 "--timeout", str(DEMO_LIMITS.read_timeout)],
                                env=env, capture_output=True, text=True, timeout=300,
                                cwd=Path(__file__).resolve().parents[2])
    assert result.returncode in (0, 1), result.stderr[-3000:]
    return db_path


def copy_run(db, run_id: int, *, changes=None, started: dt.datetime = T_CHECK + dt.timedelta(days=1),
             year: int | None = None) -> int:
    """A later run of the same inputs: a new run with the old run's rows, some verdicts changed
    (changes: {(agency, criterion): (status, reason, posts_in_year)}); `year` makes it a run of that year."""
    old = db["runs"].get(run_id)
    period = (old["period_start"], old["period_end"]) if year is None else (f"{year}-01-01", f"{year}-12-31")
    new = add_run(db, old["rulebook"], year=year or old["year"], period=period, started=started)
    for table in ("agencies", "reports", "verdicts", "posts"):
        cols = [c for c in db[table].columns_dict if c not in ("run_id", "id")]
        names = ", ".join(f'"{c}"' for c in cols)
        db.execute(f'insert into {table} (run_id, {names}) select ?, {names} from {table} where run_id = ?',
                   [new, run_id])
    for (agency, criterion), (status, reason, posts) in (changes or {}).items():
        db.execute("update verdicts set status = ?, reason = ?, posts_in_year = ? "
                   "where run_id = ? and agency_id = ? and criterion = ?", [status, reason, posts, new, agency,
                                                                           criterion])
    db.conn.commit()
    return new
