"""A synthetic farm of agency portals for the benchmarks.

N hosts, each a portal on one of four platforms seen in the provinces, each
with K categories whose listings run over P pages of posts, newest first,
dated day first across the evaluation year and, on the last page, the year
before; every post has its article page. Pages carry the chrome real portals
carry: a header with today's date, a menu of every category, side boxes of the
latest posts of other categories with fresh dates, a footer with "© 2018" and
a visitor counter. Nothing is stored: a page is rendered from its URL when it
is asked for (deterministically: the same URL always gives the same bytes), so
a 10,000-page farm costs no disk and little memory.

Platforms and their URLs:

=========== =================================== ===================================== ==============================
platform    listing (page 1)                    listing page n                        article
=========== =================================== ===================================== ==============================
drupal      /taxonomy/term/<tid>                ?page=<n-1> (zero-based)              /node/<nid>
vendor      /chuyen-muc/<slug>.html             /chuyen-muc/<slug>/trang-<n>.html     /<title-slug>-<id>.html
nukeviet    /index.php?language=vi&nv=news&     op=<Slug>/page-<n>                    op=<Slug>/<title-slug>-<id>.html
            op=<Slug>
sharepoint  /Pages/ChuyenMuc/<cid>/<Slug>.html  /Pages/ChuyenMuc/PhanTrang/<cid>/<n>/ /Lists/TinTuc/View_detail.aspx
                                                <Slug>.html                           ?ItemID=<id>
=========== =================================== ===================================== ==============================

The farm also writes the crawl's inputs (``agencies.csv``, ``reports.csv``)
and says what a correct crawl must find (``expected_requests``,
``expected_posts_in_year``), so the harness can tell a fast crawl from a
wrong one.

Run ``python -m bench.farm --hosts 2 --categories 2 --pages 2 --out DIR`` to
write a farm's inputs and every page to DIR for a look.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import html
import random
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from crawler.settings import MAX_ARTICLE_PAGES, MAX_LISTING_PAGES

PLATFORMS = ("drupal", "vendor", "nukeviet", "sharepoint")
ITEMS_PER_PAGE = 10
MAX_POSTS_PER_LISTING = 9_999          # article ids hold the post number in four digits
TODAY = dt.date(2019, 2, 20)           # the day the portals are "visited": after the evaluation year
ROBOTS_TXT = b"User-agent: *\nDisallow: /admin/\nDisallow: /user/\n"
HTML_TYPE = "text/html; charset=utf-8"

# (criterion id, menu labels seen on portals, ASCII slug). Labels are the names the
# rulebook's aliases recognise; which one a portal uses depends on the portal.
# Criteria the rulebook judges by their content (freshness: not_required): the farm's listings carry posts,
# not an introduction's functions, leaders and contacts, so a correct crawl fails them (missing_content).
# It comes last, so a farm of few categories per portal serves only listings judged by their dates.
CONTENT_JUDGED = frozenset({"gioi-thieu"})
CATEGORIES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("tin-tuc-su-kien", ("Tin tức - Sự kiện", "Tin hoạt động", "Tin tức"), "tin-tuc-su-kien"),
    ("chi-dao-dieu-hanh", ("Thông tin chỉ đạo, điều hành", "Chỉ đạo điều hành", "Văn bản chỉ đạo điều hành"),
     "chi-dao-dieu-hanh"),
    ("pho-bien-phap-luat", ("Phổ biến, giáo dục pháp luật", "Tuyên truyền pháp luật",
                            "Hướng dẫn thực hiện pháp luật"), "pho-bien-giao-duc-phap-luat"),
    ("chien-luoc-quy-hoach", ("Quy hoạch - Kế hoạch", "Chiến lược, quy hoạch, kế hoạch", "Quy hoạch phát triển"),
     "quy-hoach-ke-hoach"),
    ("van-ban-phap-luat", ("Văn bản quy phạm pháp luật", "Văn bản QPPL", "Hệ thống văn bản"), "van-ban-qppl"),
    ("du-an-dau-tu", ("Dự án đầu tư", "Thông tin đấu thầu", "Đấu thầu - Mua sắm công"), "du-an-dau-tu"),
    ("khoa-hoc-cong-nghe", ("Khoa học - Công nghệ", "Đề tài nghiên cứu khoa học"), "khoa-hoc-cong-nghe"),
    ("lay-y-kien", ("Lấy ý kiến dự thảo", "Góp ý dự thảo văn bản", "Dự thảo văn bản"), "gop-y-du-thao"),
    ("thanh-tra", ("Thanh tra", "Giải quyết khiếu nại, tố cáo", "Kết luận thanh tra"), "thanh-tra"),
    ("hoi-dap", ("Hỏi đáp", "Hỏi - Đáp", "Trao đổi - Hỏi đáp"), "hoi-dap"),
    ("dich-vu-cong", ("Dịch vụ công trực tuyến", "Thủ tục hành chính"), "dich-vu-cong"),
    ("thong-ke", ("Thống kê", "Số liệu thống kê", "Báo cáo - Thống kê"), "so-lieu-thong-ke"),
    ("ngan-sach", ("Công khai ngân sách", "Công khai tài chính", "Tài chính - Ngân sách"), "cong-khai-ngan-sach"),
    ("gioi-thieu", ("Giới thiệu", "Cơ cấu tổ chức", "Chức năng, nhiệm vụ"), "gioi-thieu"),
)

# Agencies the farm's hosts are named after (host prefix, name, group), cycled with a number.
AGENCIES = (
    ("sotuphap", "Sở Tư pháp", "so"), ("sotnmt", "Sở Tài nguyên và Môi trường", "so"),
    ("stttt", "Sở Thông tin và Truyền thông", "so"), ("sokhdt", "Sở Kế hoạch và Đầu tư", "so"),
    ("hoaan", "UBND huyện Hòa An", "huyen"), ("sotc", "Sở Tài chính", "so"),
    ("snnptnt", "Sở Nông nghiệp và Phát triển nông thôn", "so"), ("trungkhanh", "UBND huyện Trùng Khánh", "huyen"),
    ("sgddt", "Sở Giáo dục và Đào tạo", "so"), ("thanhtra", "Thanh tra tỉnh", "so"),
    ("baolac", "UBND huyện Bảo Lạc", "huyen"), ("soyte", "Sở Y tế", "so"),
)

# Title pieces: what the posts of each category are about.
TITLE_FORMS = {
    "gioi-thieu": ("Quyết định về việc kiện toàn {unit}", "Thông báo phân công nhiệm vụ {unit}",
                   "Quy chế làm việc của {unit} năm {y}"),
    "tin-tuc-su-kien": ("Hội nghị tổng kết công tác {topic} năm {y}", "Đoàn công tác kiểm tra tình hình {topic}",
                        "Tập huấn nghiệp vụ về {topic} cho cán bộ cơ sở", "Lễ phát động phong trào thi đua về {topic}"),
    "chi-dao-dieu-hanh": ("Kế hoạch số {n}/KH-UBND về {topic} năm {y}", "Công văn số {n}/UBND-TH về việc {topic}",
                          "Thông báo kết luận của Chủ tịch UBND tỉnh về {topic}", "Chỉ thị về tăng cường {topic}"),
    "pho-bien-phap-luat": ("Tuyên truyền, phổ biến Luật {law} năm {y}", "Hướng dẫn thực hiện Luật {law}",
                           "Hội nghị phổ biến pháp luật về {topic}"),
    "chien-luoc-quy-hoach": ("Quy hoạch {topic} giai đoạn 2016 - 2020", "Kế hoạch phát triển {topic} năm {y}",
                             "Điều chỉnh quy hoạch {topic} đến năm 2030"),
    "van-ban-phap-luat": ("Quyết định số {n}/{y}/QĐ-UBND về {topic}", "Nghị quyết số {n}/{y}/NQ-HĐND về {topic}",
                          "Chỉ thị số {n}/CT-UBND về {topic}"),
    "du-an-dau-tu": ("Thông báo mời thầu gói thầu số {n} thuộc dự án {topic}",
                     "Kế hoạch lựa chọn nhà thầu dự án {topic}", "Kết quả lựa chọn nhà thầu gói thầu {n}"),
    "khoa-hoc-cong-nghe": ("Nghiệm thu đề tài nghiên cứu khoa học về {topic}",
                           "Thông báo tuyển chọn đề tài khoa học năm {y} về {topic}"),
    "lay-y-kien": ("Lấy ý kiến góp ý dự thảo Quyết định về {topic}", "Dự thảo Nghị quyết quy định về {topic}"),
    "thanh-tra": ("Kết luận thanh tra việc chấp hành pháp luật về {topic}",
                  "Thông báo kết quả giải quyết khiếu nại về {topic}"),
    "hoi-dap": ("Hỏi về thủ tục {topic}", "Trả lời câu hỏi của công dân về {topic}"),
    "dich-vu-cong": ("Công bố thủ tục hành chính về {topic}", "Hướng dẫn nộp hồ sơ trực tuyến về {topic}"),
    "thong-ke": ("Báo cáo số liệu thống kê về {topic} tháng {m}/{y}", "Số liệu thống kê {topic} quý {q}/{y}"),
    "ngan-sach": ("Công khai dự toán ngân sách năm {y}", "Công khai tình hình thực hiện dự toán ngân sách quý {q}/{y}",
                  "Công khai quyết toán ngân sách năm {py}"),
}
TOPICS = (
    "cải cách hành chính", "chuyển đổi số", "phòng, chống thiên tai", "xây dựng nông thôn mới",
    "an toàn thông tin mạng", "phòng, chống dịch bệnh", "giảm nghèo bền vững", "quản lý đất đai",
    "bảo vệ môi trường", "an toàn giao thông", "phát triển du lịch", "khai thác khoáng sản",
    "quản lý thị trường", "chăm sóc sức khỏe nhân dân", "đầu tư công", "hỗ trợ doanh nghiệp",
)
LAWS = ("Tiếp cận thông tin", "Đất đai", "Bảo vệ môi trường", "An ninh mạng", "Phòng, chống tham nhũng", "Hòa giải ở cơ sở")
UNITS = ("Văn phòng Sở", "Phòng Tổ chức cán bộ", "Ban Chỉ đạo", "Hội đồng thi đua khen thưởng", "Tổ công tác")
SUMMARIES = (
    "Nhằm triển khai thực hiện có hiệu quả nhiệm vụ được giao, đề nghị các phòng, đơn vị thực hiện một số nội dung sau.",
    "Thực hiện chỉ đạo của UBND tỉnh, Thủ trưởng các đơn vị nghiêm túc triển khai, báo cáo kết quả đúng thời hạn.",
    "Căn cứ Luật Tổ chức chính quyền địa phương và các văn bản hướng dẫn thi hành, UBND tỉnh giao nhiệm vụ như sau.",
    "Văn bản gửi kèm theo, đề nghị các cơ quan, đơn vị nghiên cứu, thực hiện.",
    "Hội nghị đã đánh giá kết quả đạt được, chỉ ra những tồn tại, hạn chế và đề ra nhiệm vụ trọng tâm thời gian tới.",
)
PARAGRAPHS = (
    "Thực hiện Quyết định số 15/2018/QĐ-UBND của UBND tỉnh, {org} đã xây dựng kế hoạch và triển khai đồng bộ các "
    "giải pháp về {topic}, gắn trách nhiệm của người đứng đầu với kết quả thực hiện nhiệm vụ.",
    "Ngày {d_prev}, UBND tỉnh đã ban hành văn bản chỉ đạo các sở, ban, ngành và UBND các huyện, thành phố tập trung "
    "rà soát, đánh giá tình hình {topic}; kịp thời tháo gỡ khó khăn, vướng mắc phát sinh tại cơ sở.",
    "Qua kiểm tra cho thấy, các đơn vị đã quan tâm chỉ đạo, tổ chức thực hiện nghiêm túc; tuy nhiên một số nơi còn "
    "chậm triển khai, chất lượng báo cáo chưa cao, việc cập nhật thông tin lên Cổng thông tin điện tử chưa thường xuyên.",
    "Trong thời gian tới, {org} đề nghị các đơn vị tiếp tục quán triệt, tuyên truyền sâu rộng đến cán bộ, công chức, "
    "viên chức và Nhân dân; định kỳ báo cáo kết quả trước ngày 15 hằng tháng để tổng hợp, báo cáo UBND tỉnh.",
    "Kinh phí thực hiện được bố trí từ nguồn ngân sách nhà nước theo phân cấp hiện hành và các nguồn huy động hợp "
    "pháp khác; các đơn vị chủ động lồng ghép với các chương trình, dự án đang triển khai trên địa bàn.",
)
# Menu entries that are no website criterion's category (real menus carry dozens).
EXTRA_MENU = (
    ("Tiện ích", ("Thư viện ảnh", "Thư viện video", "Hướng dẫn sử dụng", "Tra cứu hồ sơ", "Đường dây nóng",
                  "Danh bạ điện thoại", "Biểu mẫu")),
    ("Tổ chức đoàn thể", ("Đảng bộ", "Công đoàn", "Đoàn thanh niên", "Thi đua khen thưởng", "Gương điển hình")),
    ("Tuyển dụng", ()), ("Hợp tác quốc tế", ()), ("English", ()),
)
WEEKDAYS = ("Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy", "Chủ nhật")
WEEKDAY_NUM = ("Thứ 2", "Thứ 3", "Thứ 4", "Thứ 5", "Thứ 6", "Thứ 7", "Chủ nhật")

# Inline CSS/JS of the kind portal themes carry: the parser reads it, the extractor drops it.
HEAD_BOILERPLATE = (
    '<style type="text/css">body{font-family:Arial,Helvetica,sans-serif;font-size:13px;color:#333}'
    "#header{background:#0a4f8f;height:120px}.menu li{float:left;list-style:none}.menu a{color:#fff;padding:8px 12px}"
    ".box-title{background:#e9eef5;font-weight:bold;padding:6px}.list-news .item{border-bottom:1px dotted #ccc;"
    "padding:6px 0}.pager li{display:inline;margin:0 3px}.footer{background:#0a4f8f;color:#fff;padding:12px}"
    "</style>\n<script type=\"text/javascript\">var siteSettings={\"basePath\":\"/\",\"lang\":\"vi\","
    "\"theme\":\"portal\",\"ajaxPageState\":{\"theme_token\":\"mM3o0VvGxk2Xr1Q4nqk5b8X9hGzYkqP\"}};"
    "function showDate(){var d=new Date();return d.getDate()+'/'+(d.getMonth()+1)+'/'+d.getFullYear();}"
    "(function(i,s,o,g,r,a,m){i['GoogleAnalyticsObject']=r;i[r]=i[r]||function(){(i[r].q=i[r].q||[])"
    ".push(arguments)},i[r].l=1*new Date();a=s.createElement(o),m=s.getElementsByTagName(o)[0];a.async=1;"
    "a.src=g;m.parentNode.insertBefore(a,m)})(window,document,'script','//www.google-analytics.com/analytics.js','ga');"
    "</script>\n"
    '<script type="text/javascript">var menuData=' + "[" + ",".join(
        f'{{"id":{k},"parent":{k // 6},"weight":{k % 7},"expanded":false,"class":"menu-{k} leaf"}}' for k in range(60))
    + "];</script>\n"
)


@dataclass(frozen=True)
class FarmSpec:
    """The shape of a farm: every host has the same shape, so size grows with `hosts`."""

    hosts: int
    categories: int = 6          # categories per portal (of the 14 website criteria)
    pages: int = 4               # listing pages per category (the crawl follows at most MAX_LISTING_PAGES)
    items: int = ITEMS_PER_PAGE  # posts per listing page
    undated: int = 0             # categories per portal whose listing shows no dates (dated on the article pages)
    blank: int = 0               # categories per portal reported with a blank link (found from the home page)
    year: int = 2018
    seed: int = 0

    def __post_init__(self):
        if not 1 <= self.categories <= len(CATEGORIES):
            raise ValueError(f"categories must be 1..{len(CATEGORIES)}")
        if self.pages < 1 or self.items < 1 or self.hosts < 1:
            raise ValueError("hosts, pages and items must be at least 1")
        if self.pages * self.items > MAX_POSTS_PER_LISTING:
            raise ValueError("too many posts per listing")
        if self.undated + self.blank > self.categories:
            raise ValueError("undated + blank must not exceed categories")


@dataclass(frozen=True)
class Portal:
    host: str
    agency_id: str
    agency_name: str
    group: str
    platform: str
    index: int
    categories: tuple[int, ...]       # indexes into CATEGORIES, in menu order
    labels: tuple[str, ...]           # the label this portal gives each of its categories

    @property
    def root(self) -> str:
        return f"http://{self.host}"


@dataclass(frozen=True)
class Item:
    """One post of a listing."""

    title: str
    url: str
    date: dt.date
    hour: int
    minute: int


class Farm:
    """The farm: portals, their pages, the crawl's inputs and what a correct crawl finds."""

    def __init__(self, spec: FarmSpec, domain: str = "caobang.gov.vn"):
        self.spec = spec
        self.domain = domain
        self.portals: dict[str, Portal] = {}
        for i in range(spec.hosts):
            prefix, name, group = AGENCIES[i % len(AGENCIES)]
            host = f"{prefix}{i}.{domain}"
            cats = tuple((i + k) % len(CATEGORIES) for k in range(spec.categories))
            labels = tuple(CATEGORIES[c][1][(i + c) % len(CATEGORIES[c][1])] for c in cats)
            self.portals[host] = Portal(host, f"bench-{i:04d}", f"{name} (trang {i})", group,
                                        PLATFORMS[i % len(PLATFORMS)], i, cats, labels)
        self._dates = self._date_plan()

    # -- what the crawl is given and must find ------------------------------------------------

    def is_undated(self, portal: Portal, position: int) -> bool:
        """The first `undated` categories of a portal's menu show no dates on their listing."""
        return position < self.spec.undated

    def is_blank(self, portal: Portal, position: int) -> bool:
        """The last `blank` categories are reported with a blank link (the crawl finds them in the menu)."""
        return position >= self.spec.categories - self.spec.blank

    def write_inputs(self, directory: Path) -> tuple[Path, Path]:
        """agencies.csv and reports.csv for `portal-evidence crawl`; returns their paths."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        agencies, reports = directory / "agencies.csv", directory / "reports.csv"
        with agencies.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["agency_id", "agency_name", "group", "portal"])
            for p in self.portals.values():
                w.writerow([p.agency_id, p.agency_name, p.group, p.root])
        with reports.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["agency_id", "criterion", "url", "value", "not_applicable", "note", "submitted_at"])
            for p in self.portals.values():
                have = dict(zip(p.categories, range(len(p.categories))))
                for c, (criterion, _, _) in enumerate(CATEGORIES):
                    if c not in have:
                        w.writerow([p.agency_id, criterion, "", "", "1", "Đơn vị không có chức năng này", "20/11/2018"])
                    elif self.is_blank(p, have[c]):
                        w.writerow([p.agency_id, criterion, "", "", "", "", "20/11/2018"])
                    else:
                        w.writerow([p.agency_id, criterion, self.listing_url(p, c, 1), "", "", "", "20/11/2018"])
        return agencies, reports

    def expected_requests(self, host: str) -> int:
        """Requests a correct, complete crawl sends to this host (robots.txt included)."""
        n = 1
        portal = self.portals[host]
        for position in range(self.spec.categories):
            if self.is_blank(portal, position):
                n += 1                                   # the home page, to find the category
            if CATEGORIES[portal.categories[position]][0] in CONTENT_JUDGED:
                n += 1      # judged by its content: the reported page alone, no later pages, no article read
                continue
            n += min(self.spec.pages, MAX_LISTING_PAGES)
            if self.is_undated(portal, position):
                # article pages, until one is older than the year or the crawl's bound
                n += min(MAX_ARTICLE_PAGES, self._in_year_posts() + 1)
            elif self._older_posts_read():
                n += 1      # one article of a post listed before the year, to see whether updates show (none do)
        return n

    def expected_posts_in_year(self, undated: bool = False) -> int:
        """posts_in_year of a dated category's verdict (of an undated one: as many as its article pages date)."""
        n = self._in_year_posts()
        return min(n, MAX_ARTICLE_PAGES) if undated else n

    def expected_verdicts(self) -> dict[tuple[str, str], tuple[str, int | None, bool]]:
        """(agency_id, criterion) -> (status, posts_in_year, discovered) a correct crawl records for every row."""
        out = {}
        for p in self.portals.values():
            have = dict(zip(p.categories, range(len(p.categories))))
            for c, (criterion, _, _) in enumerate(CATEGORIES):
                if c not in have:
                    out[(p.agency_id, criterion)] = ("exempt", None, False)
                else:
                    position = have[c]
                    if criterion in CONTENT_JUDGED:
                        out[(p.agency_id, criterion)] = ("fail", None, self.is_blank(p, position))
                        continue
                    out[(p.agency_id, criterion)] = (
                        "pass", self.expected_posts_in_year(self.is_undated(p, position)), self.is_blank(p, position))
        return out

    def _older_posts_read(self) -> bool:
        read = min(self.spec.pages, MAX_LISTING_PAGES) * self.spec.items
        return any(d.year < self.spec.year for d in self._dates[:read])

    def _in_year_posts(self) -> int:
        read = min(self.spec.pages, MAX_LISTING_PAGES) * self.spec.items
        return sum(1 for d in self._dates[:read] if d.year == self.spec.year)

    @property
    def total_expected_requests(self) -> int:
        return sum(self.expected_requests(h) for h in self.portals)

    @property
    def criteria(self) -> tuple[str, ...]:
        return tuple(c[0] for c in CATEGORIES)

    # -- URLs ---------------------------------------------------------------------------------

    def listing_url(self, portal: Portal, c: int, page: int) -> str:
        """Absolute URL of page `page` (1-based) of category `c` on `portal`."""
        slug = CATEGORIES[c][2]
        cap = _cap_slug(slug)
        base = portal.root
        if portal.platform == "drupal":
            return f"{base}/taxonomy/term/{10 + c}" + (f"?page={page - 1}" if page > 1 else "")
        if portal.platform == "vendor":
            return f"{base}/chuyen-muc/{slug}.html" if page == 1 else f"{base}/chuyen-muc/{slug}/trang-{page}.html"
        if portal.platform == "nukeviet":
            op = cap if page == 1 else f"{cap}/page-{page}"
            return f"{base}/index.php?language=vi&nv=news&op={op}"
        return (f"{base}/Pages/ChuyenMuc/{5500 + c}/{cap}.html" if page == 1
                else f"{base}/Pages/ChuyenMuc/PhanTrang/{5500 + c}/{page}/{cap}.html")

    def article_url(self, portal: Portal, c: int, j: int, title: str) -> str:
        post_id = (c + 1) * 10_000 + (self.spec.pages * self.spec.items - j)
        base = portal.root
        if portal.platform == "drupal":
            return f"{base}/node/{post_id}"
        if portal.platform == "vendor":
            return f"{base}/{_slug(title)[:60].rstrip('-')}-{post_id}.html"
        if portal.platform == "nukeviet":
            return f"{base}/index.php?language=vi&nv=news&op={_cap_slug(CATEGORIES[c][2])}/" \
                   f"{_cap_slug(_slug(title)[:60].rstrip('-'))}-{post_id}.html"
        return f"{base}/Lists/TinTuc/View_detail.aspx?ItemID={post_id}"

    def home_url(self, portal: Portal) -> str:
        return portal.root + "/"

    # -- content ------------------------------------------------------------------------------

    def _date_plan(self) -> list[dt.date]:
        """Dates of a listing's posts, newest first: pages 1..P-1 in the year, page P before it."""
        spec = self.spec
        total = spec.pages * spec.items
        last = dt.date(spec.year, 12, 28)
        if spec.pages == 1:
            step = 300 / max(1, total)
        else:
            step = 362 / ((spec.pages - 1) * spec.items)
        return [last - dt.timedelta(days=int(j * step)) for j in range(total)]

    def item(self, portal: Portal, c: int, j: int) -> Item:
        """Post j (0 = newest) of category c on the portal."""
        rng = random.Random(f"{self.spec.seed}:{portal.host}:{c}:{j}")
        date = self._dates[j]
        forms = TITLE_FORMS[CATEGORIES[c][0]]
        title = rng.choice(forms).format(
            topic=rng.choice(TOPICS), law=rng.choice(LAWS), unit=rng.choice(UNITS), n=rng.randint(12, 987),
            y=date.year, py=date.year - 1, m=date.month, q=(date.month - 1) // 3 + 1)
        return Item(title, self.article_url(portal, c, j, title), date, rng.randint(7, 17), rng.randint(0, 59))

    def respond(self, host: str, target: str) -> tuple[int, str, bytes, str]:
        """(status, content type, body, kind of page) for a request to `host` for `target` (path and query)."""
        portal = self.portals.get(host.lower().removeprefix("www."))
        if portal is None:
            return 502, HTML_TYPE, b"<html><body><h1>502 Bad Gateway</h1><p>ERR_DNS_FAIL</p></body></html>", "unknown_host"
        found = self.route(portal, target)
        if found is None:
            return 404, HTML_TYPE, self._not_found(portal).encode(), "not_found"
        kind, args = found
        if kind == "robots":
            return 200, "text/plain; charset=utf-8", ROBOTS_TXT, kind
        if kind == "home":
            return 200, HTML_TYPE, self.home_page(portal).encode(), kind
        if kind == "listing":
            return 200, HTML_TYPE, self.listing_page(portal, *args).encode(), kind
        return 200, HTML_TYPE, self.article_page(portal, *args).encode(), kind

    def route(self, portal: Portal, target: str) -> tuple[str, tuple] | None:
        """What a target names on a portal: ("robots"|"home", ()), ("listing", (c, page)), ("article", (c, j))."""
        parts = urlsplit(target)
        path, query = parts.path or "/", dict(parse_qsl(parts.query))
        if path == "/robots.txt":
            return "robots", ()
        if path in ("/", "/index.php") and (not query or query == {"language": "vi"}):
            return "home", ()
        total = self.spec.pages * self.spec.items
        for c in portal.categories:
            slug, cap = CATEGORIES[c][2], _cap_slug(CATEGORIES[c][2])
            if portal.platform == "drupal" and path == f"/taxonomy/term/{10 + c}":
                page = query.get("page", "0")
                return ("listing", (c, int(page) + 1)) if page.isdigit() and int(page) < self.spec.pages else None
            if portal.platform == "vendor":
                if path == f"/chuyen-muc/{slug}.html":
                    return "listing", (c, 1)
                m = re.fullmatch(rf"/chuyen-muc/{slug}/trang-(\d+)\.html", path)
                if m and 2 <= int(m.group(1)) <= self.spec.pages:
                    return "listing", (c, int(m.group(1)))
            if portal.platform == "nukeviet" and path == "/index.php" and query.get("nv") == "news":
                op = query.get("op", "")
                if op == cap:
                    return "listing", (c, 1)
                m = re.fullmatch(rf"{re.escape(cap)}/page-(\d+)", op)
                if m and 2 <= int(m.group(1)) <= self.spec.pages:
                    return "listing", (c, int(m.group(1)))
            if portal.platform == "sharepoint":
                if path == f"/Pages/ChuyenMuc/{5500 + c}/{cap}.html":
                    return "listing", (c, 1)
                m = re.fullmatch(rf"/Pages/ChuyenMuc/PhanTrang/{5500 + c}/(\d+)/{cap}\.html", path)
                if m and 2 <= int(m.group(1)) <= self.spec.pages:
                    return "listing", (c, int(m.group(1)))
        post_id = None
        if portal.platform == "drupal":
            m = re.fullmatch(r"/node/(\d+)", path)
            post_id = m and int(m.group(1))
        elif portal.platform == "vendor":
            m = re.fullmatch(r"/[a-z0-9-]+-(\d+)\.html", path)
            post_id = m and int(m.group(1))
        elif portal.platform == "nukeviet" and path == "/index.php":
            m = re.fullmatch(r"[A-Za-z0-9-]+/[A-Za-z0-9-]+-(\d+)\.html", query.get("op", ""))
            post_id = m and int(m.group(1))
        elif path == "/Lists/TinTuc/View_detail.aspx" and query.get("ItemID", "").isdigit():
            post_id = int(query["ItemID"])
        if post_id:
            c, j = post_id // 10_000 - 1, total - post_id % 10_000
            if c in portal.categories and 0 <= j < total:
                item = self.item(portal, c, j)
                if urlsplit(item.url).path == path and dict(parse_qsl(urlsplit(item.url).query)) == query:
                    return "article", (c, j)
        return None

    # -- pages --------------------------------------------------------------------------------

    def listing_page(self, portal: Portal, c: int, page: int) -> str:
        spec = self.spec
        position = portal.categories.index(c)
        label = portal.labels[position]
        dated = not self.is_undated(portal, position)
        first = (page - 1) * spec.items
        items = [self.item(portal, c, j) for j in range(first, first + spec.items)]
        render = _LISTING_ITEM[portal.platform]
        rows = "\n".join(render(it, dated, k) for k, it in enumerate(items))
        if portal.platform == "sharepoint":
            rows = f'<table class="ms-listviewtable" width="100%">\n{rows}\n</table>'
        main = (f'{_breadcrumb(portal, label, None)}\n<h1 class="{_CLS[portal.platform]["h1"]}">{_e(label)}</h1>\n'
                f'<div class="{_CLS[portal.platform]["list"]}">\n{rows}\n</div>\n'
                f"{self._pager(portal, c, page)}")
        return self._page(portal, f"{label} | {portal.agency_name}", main, c)

    def article_page(self, portal: Portal, c: int, j: int) -> str:
        it = self.item(portal, c, j)
        label = portal.labels[portal.categories.index(c)]
        rng = random.Random(f"{self.spec.seed}:{portal.host}:{c}:{j}:body")
        prev = it.date - dt.timedelta(days=rng.randint(8, 40))
        paras = "\n".join(
            f"<p>{_e(p.format(org=portal.agency_name, topic=rng.choice(TOPICS), d_prev=_dmy(prev)))}</p>"
            for p in rng.sample(PARAGRAPHS, 4))
        total = self.spec.pages * self.spec.items
        others = [self.item(portal, c, k) for k in range(j + 1, min(total, j + 6))]
        other_list = "".join(f'<li><a href="{_e(o.url)}">{_e(o.title)}</a> <span class="date">({_dmy(o.date)})</span></li>'
                             for o in others)
        main = (f"{_breadcrumb(portal, label, self.listing_url(portal, c, 1))}\n"
                f'<div class="{_CLS[portal.platform]["article"]}">\n<h1 class="title">{_e(it.title)}</h1>\n'
                f"{_ARTICLE_DATE[portal.platform](it)}\n"
                f'<div class="sapo"><strong>{_e(rng.choice(SUMMARIES))}</strong></div>\n'
                f'<div class="content-detail">\n{paras}\n<p class="author" style="text-align:right">'
                f"<strong>{_e(portal.agency_name)}</strong></p>\n</div>\n</div>\n"
                f'<div class="other-news"><h3 class="title">Các tin khác</h3><ul>{other_list}</ul></div>')
        head = ""
        if portal.platform == "nukeviet":
            iso = f"{it.date.isoformat()}T{it.hour:02d}:{it.minute:02d}:00+07:00"
            head = (f'<meta property="og:type" content="article" />\n'
                    f'<meta property="article:published_time" content="{iso}" />\n')
        return self._page(portal, f"{it.title} - {portal.agency_name}", main, c, head=head)

    def home_page(self, portal: Portal) -> str:
        blocks = []
        for position, c in enumerate(portal.categories[:4]):
            items = [self.item(portal, c, j) for j in range(3)]
            lis = "".join(f'<li><a href="{_e(i.url)}">{_e(i.title)}</a> <span class="date">{_dmy(i.date)}</span></li>'
                          for i in items)
            blocks.append(f'<div class="home-box"><h2 class="box-title"><a href="{_e(self.listing_url(portal, c, 1))}">'
                          f"{_e(portal.labels[position])}</a></h2><ul>{lis}</ul></div>")
        return self._page(portal, f"Trang chủ | {portal.agency_name}", "\n".join(blocks), None)

    def _not_found(self, portal: Portal) -> str:
        return self._page(portal, f"Không tìm thấy trang | {portal.agency_name}",
                          "<h1>Không tìm thấy trang</h1><p>Trang bạn yêu cầu không tồn tại hoặc đã bị xóa.</p>", None)

    def _pager(self, portal: Portal, c: int, page: int) -> str:
        pages = self.spec.pages
        if pages == 1:
            return ""
        lo, hi = max(1, page - 2), min(pages, page + 2)
        links = []
        if page > 1:
            links.append(f'<li class="pager-first"><a href="{_e(self.listing_url(portal, c, 1))}">« đầu</a></li>')
        for n in range(lo, hi + 1):
            if n == page:
                links.append(f'<li class="pager-current active"><span>{n}</span></li>')
            else:
                links.append(f'<li class="pager-item"><a href="{_e(self.listing_url(portal, c, n))}">{n}</a></li>')
        if page < pages:
            links.append(f'<li class="pager-next"><a href="{_e(self.listing_url(portal, c, page + 1))}">Trang sau ›</a></li>')
            links.append(f'<li class="pager-last"><a href="{_e(self.listing_url(portal, c, pages))}">cuối »</a></li>')
        return f'<div class="{_CLS[portal.platform]["pager"]}"><ul class="pagination">{"".join(links)}</ul></div>'

    def _page(self, portal: Portal, title: str, main: str, current: int | None, head: str = "") -> str:
        cls = _CLS[portal.platform]
        menu = [f'<li><a href="{self.home_url(portal)}">Trang chủ</a></li>']
        for position, c in enumerate(portal.categories):
            active = ' class="active"' if c == current else ""
            menu.append(f'<li{active}><a href="{_e(self.listing_url(portal, c, 1))}">{_e(portal.labels[position])}</a></li>')
        for k, (top, subs) in enumerate(EXTRA_MENU):
            sub = "".join(f'<li><a href="{portal.root}/tien-ich/{k}-{n}">{_e(t)}</a></li>' for n, t in enumerate(subs))
            menu.append(f'<li class="menuparent"><a href="{portal.root}/muc/{k}">{_e(top)}</a>'
                        + (f'<ul class="submenu">{sub}</ul>' if sub else "") + "</li>")
        latest = self._latest_box(portal, current)
        notices = "".join(
            f'<li><a href="{portal.root}/thong-bao/{k}">Thông báo lịch tiếp công dân tháng {m}/{self.spec.year}</a>'
            f' - <span class="date">{_dmy(dt.date(self.spec.year, m, 3 + k))}</span></li>'
            for k, m in enumerate((12, 11, 10)))
        documents = "".join(
            f'<li><a href="{portal.root}/van-ban/{k}">Quyết định số {100 + 7 * k}/QĐ-UBND ngày {_dmy(dt.date(self.spec.year, 11 - k, 12))}'
            f" về việc {_e(TOPICS[(portal.index + k) % len(TOPICS)])}</a></li>" for k in range(5))
        visits = f"{1_234_567 + portal.index * 7919:,}".replace(",", ".")
        return (
            f'<!DOCTYPE html>\n<html lang="vi">\n<head>\n<meta charset="utf-8" />\n<title>{_e(title)}</title>\n'
            f'<meta name="generator" content="{cls["generator"]}" />\n{head}{HEAD_BOILERPLATE}</head>\n'
            f'<body class="{cls["body"]}">\n<div id="page-wrapper">\n'
            f'<div id="header"><div class="logo"><a href="{self.home_url(portal)}">'
            f"<span>{_e(portal.agency_name.upper())}</span></a><div class=\"slogan\">CỔNG THÔNG TIN ĐIỆN TỬ</div></div>\n"
            f'<div class="today">{_today(portal.platform)}</div>\n'
            f'<form action="/tim-kiem" method="get" class="search"><input type="text" name="q" placeholder="Tìm kiếm..." />'
            f"</form></div>\n"
            f'<div id="navigation"><ul class="menu {cls["menu"]}">{"".join(menu)}</ul></div>\n'
            f'<div id="main-wrapper" class="clearfix">\n<div id="content" class="column">\n{main}\n</div>\n'
            f'<div id="sidebar-right" class="col-right">\n'
            f'<div class="block"><h2 class="box-title">Tin mới nhất</h2><ul class="tinmoi">{latest}</ul></div>\n'
            f'<div class="block"><h2 class="box-title">Thông báo</h2><ul>{notices}</ul></div>\n'
            f'<div class="block"><h2 class="box-title">Văn bản mới</h2><ul class="van-ban-moi">{documents}</ul></div>\n'
            f'<div class="block video"><h2 class="box-title">Video</h2><video controls width="220" '
            f'poster="/uploads/video/poster.jpg"><source src="/uploads/video/gioi-thieu.mp4" type="video/mp4" />'
            f"</video></div>\n"
            f'<div class="block weblink"><h2 class="box-title">Liên kết website</h2><select>'
            f'<option value="http://caobang.gov.vn">Cổng TTĐT tỉnh Cao Bằng</option>'
            f'<option value="https://mic.gov.vn">Bộ Thông tin và Truyền thông</option></select></div>\n'
            f"</div>\n</div>\n"
            f'<div id="footer" class="footer"><p><strong>{_e(portal.agency_name.upper())}</strong></p>'
            f"<p>Địa chỉ: Số 0{portal.index % 9 + 1} đường Hoàng Đình Giong, thành phố Cao Bằng, tỉnh Cao Bằng</p>"
            f"<p>Điện thoại: 0206.385{portal.index % 10}.{100 + portal.index % 900} - Email: "
            f"{portal.host.split('.')[0]}@caobang.gov.vn</p><p>© 2018 Bản quyền thuộc {_e(portal.agency_name)}</p>"
            f'<div class="counter">Đang truy cập: {17 + portal.index % 40} - Tổng lượt truy cập: '
            f"{visits}</div></div>\n"
            f"</div>\n</body>\n</html>\n"
        )

    def _latest_box(self, portal: Portal, current: int | None) -> str:
        """Latest posts of other categories, with dates after the evaluation year (page chrome)."""
        out = []
        others = [c for c in range(len(CATEGORIES)) if c != current][:5]
        for k, c in enumerate(others):
            rng = random.Random(f"{portal.host}:latest:{c}")
            title = rng.choice(TITLE_FORMS[CATEGORIES[c][0]]).format(
                topic=rng.choice(TOPICS), law=rng.choice(LAWS), unit=rng.choice(UNITS), n=rng.randint(12, 987),
                y=TODAY.year, py=TODAY.year - 1, m=1, q=1)
            day = TODAY - dt.timedelta(days=2 * k + 1)
            out.append(f'<li><a href="{portal.root}/tin-moi/{c}-{k}">{_e(title)}</a> '
                       f'<span class="date">({_dmy(day)})</span></li>')
        return "".join(out)

    # -- samples for the extraction benchmark --------------------------------------------------

    def sample_pages(self, n_listings: int, n_articles: int) -> list[tuple[str, bytes, dt.date | None, str]]:
        """(url, body, article date or None, kind) of listing and article pages spread over the farm."""
        out = []
        portals = list(self.portals.values())
        for k in range(n_listings):
            p = portals[k % len(portals)]
            c = p.categories[(k // len(portals)) % len(p.categories)]
            page = 1 + k % self.spec.pages
            out.append((self.listing_url(p, c, page), self.listing_page(p, c, page).encode(), None, "listing"))
        total = self.spec.pages * self.spec.items
        for k in range(n_articles):
            p = portals[k % len(portals)]
            c = p.categories[(k // len(portals)) % len(p.categories)]
            j = (k * 7) % total
            it = self.item(p, c, j)
            out.append((it.url, self.article_page(p, c, j).encode(), it.date, "article"))
        return out

    def all_urls(self):
        """Every page URL of the farm (home, listings, articles)."""
        total = self.spec.pages * self.spec.items
        for p in self.portals.values():
            yield self.home_url(p)
            for c in p.categories:
                for page in range(1, self.spec.pages + 1):
                    yield self.listing_url(p, c, page)
                for j in range(total):
                    yield self.item(p, c, j).url


# --- per-platform rendering -------------------------------------------------------------------

_CLS = {
    "drupal": {"generator": "Drupal 7 (http://drupal.org)", "body": "html not-front page-taxonomy", "menu": "nice-menu",
               "h1": "title", "list": "view-content", "pager": "item-list", "article": "node node-article"},
    "vendor": {"generator": "VNPT Portal", "body": "page-category", "menu": "main-menu", "h1": "cat-title",
               "list": "list-news", "pager": "paging", "article": "news-detail"},
    "nukeviet": {"generator": "NukeViet v4.3", "body": "nv-news", "menu": "nav navbar-nav", "h1": "cat-title",
                 "list": "news_column", "pager": "text-center", "article": "news-view"},
    "sharepoint": {"generator": "Microsoft SharePoint", "body": "ms-backgroundImage", "menu": "ms-topnav",
                   "h1": "ms-pagetitle", "list": "danhsach-tin", "pager": "PhanTrang", "article": "chitiet-tin"},
}


def _item_drupal(it: Item, dated: bool, k: int) -> str:
    date = f'<div class="views-field views-field-created"><span class="field-content date">{_dmy(it.date)}</span></div>' \
        if dated else ""
    return (f'<div class="views-row views-row-{k + 1} {"views-row-odd" if k % 2 == 0 else "views-row-even"}">'
            f'<div class="views-field views-field-title"><span class="field-content"><a href="{_e(it.url)}">'
            f"{_e(it.title)}</a></span></div>{date}"
            f'<div class="views-field views-field-body"><div class="field-content">{_e(SUMMARIES[k % len(SUMMARIES)])}'
            f"</div></div></div>")


def _item_vendor(it: Item, dated: bool, k: int) -> str:
    date = (f'<span class="date-time">({_dmy(it.date)} {it.hour:02d}:{it.minute:02d}:{(k * 7) % 60:02d})</span>'
            if dated else "")
    return (f'<div class="item-news clearfix"><a class="thumb" href="{_e(it.url)}"><img src="/uploads/thumb/{k}.jpg" '
            f'alt="" width="120" /></a><h3 class="title-news"><a href="{_e(it.url)}">{_e(it.title)}</a></h3>{date}'
            f'<p class="sapo">{_e(SUMMARIES[k % len(SUMMARIES)])}</p></div>')


def _item_nukeviet(it: Item, dated: bool, k: int) -> str:
    date = (f'<span class="text-muted"><em class="fa fa-clock-o"></em> {WEEKDAYS[it.date.weekday()]}, '
            f"{_dmy(it.date)} {it.hour:02d}:{it.minute:02d}</span>" if dated else "")
    return (f'<div class="panel panel-default"><div class="panel-body"><h3><a href="{_e(it.url)}" '
            f'title="{_e(it.title)}">{_e(it.title)}</a></h3>{date}<p>{_e(SUMMARIES[k % len(SUMMARIES)])}</p>'
            f"</div></div>")


def _item_sharepoint(it: Item, dated: bool, k: int) -> str:
    date = f'<td class="ms-vb2 ngay-dang">{it.hour:02d}:{it.minute:02d} {_dmy(it.date)}</td>' if dated else ""
    return (f'<tr class="{"ms-alternating" if k % 2 else ""}"><td class="ms-vb2">{k + 1}</td>'
            f'<td class="ms-vb2"><a href="{_e(it.url)}">{_e(it.title)}</a></td>{date}</tr>')


_LISTING_ITEM = {"drupal": _item_drupal, "vendor": _item_vendor, "nukeviet": _item_nukeviet,
                 "sharepoint": _item_sharepoint}

_ARTICLE_DATE = {
    "drupal": lambda it: f'<div class="submitted"><span class="date">Ngày đăng: {_dmy(it.date)} - '
                         f"{it.hour:02d}:{it.minute:02d}</span></div>",
    "vendor": lambda it: f'<div class="article-date">{WEEKDAY_NUM[it.date.weekday()]}, Ngày {_dmy(it.date)}, '
                         f"{it.hour:02d}:{it.minute:02d}</div>",
    "nukeviet": lambda it: f'<span class="h-date">{WEEKDAYS[it.date.weekday()]} - {_dmy(it.date)} '
                           f"{it.hour:02d}:{it.minute:02d}</span>",
    "sharepoint": lambda it: f'<div class="ngay-dang">({_dmy(it.date)} {it.hour:02d}:{it.minute:02d}:00)</div>',
}


def _today(platform: str) -> str:
    """The header's date of the visit: after the evaluation year, never a post date."""
    d = TODAY
    return {
        "drupal": f"Hôm nay, ngày {d.day} tháng {d.month} năm {d.year}",
        "vendor": f"{WEEKDAY_NUM[d.weekday()]}, ngày {_dmy(d)}",
        "nukeviet": f"{WEEKDAYS[d.weekday()]}, {_dmy(d)} | 09:12 GMT+7",
        "sharepoint": f"{WEEKDAYS[d.weekday()]}, ngày {d.day:02d} tháng {d.month:02d} năm {d.year}",
    }[platform]


def _breadcrumb(portal: Portal, label: str, link: str | None) -> str:
    here = f'<a href="{_e(link)}">{_e(label)}</a>' if link else _e(label)
    return f'<div class="breadcrumb"><a href="{portal.root}/">Trang chủ</a> » {here}</div>'


def _dmy(d: dt.date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _slug(text: str) -> str:
    folded = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")


def _cap_slug(slug: str) -> str:
    return "-".join(w[:1].upper() + w[1:] for w in slug.split("-"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.farm", description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=2)
    parser.add_argument("--categories", type=int, default=2)
    parser.add_argument("--pages", type=int, default=2)
    parser.add_argument("--undated", type=int, default=0)
    parser.add_argument("--blank", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="directory for agencies.csv, reports.csv and pages/")
    args = parser.parse_args(argv)
    farm = Farm(FarmSpec(args.hosts, args.categories, args.pages, undated=args.undated, blank=args.blank))
    farm.write_inputs(args.out)
    n = 0
    for url in farm.all_urls():
        parts = urlsplit(url)
        status, _, body, _ = farm.respond(parts.hostname, parts.path + ("?" + parts.query if parts.query else ""))
        assert status == 200, (status, url)
        name = _slug(parts.hostname + parts.path + ("-" + parts.query if parts.query else ""))[:150] + ".html"
        (args.out / "pages").mkdir(parents=True, exist_ok=True)
        (args.out / "pages" / name).write_bytes(body)
        n += 1
    print(f"{len(farm.portals)} portals, {n} pages, {farm.total_expected_requests} requests expected from a crawl "
          f"-> {args.out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
