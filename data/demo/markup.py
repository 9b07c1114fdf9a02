"""The markup of the demo portals: one page skeleton per platform, as the real ones are built.

Each platform gets its own class names, URL style, date format, pager and article layout,
with the chrome every real portal carries: the header's "today" date, a main menu listing
every category, side boxes with fresh posts of other categories, a footer with "© 2018"
and a visitor counter. build.py decides what is on each page; this module only renders.
"""

from __future__ import annotations

import datetime as dt
from html import escape

TODAY = dt.date(2019, 2, 20)          # the day the demo portals are "visited"
WEEKDAYS = ["Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy", "Chủ nhật"]


def e(text: str) -> str:
    return escape(text, quote=True)


# -- dates, the way each platform writes them ---------------------------------

def date_text(platform: str, d: dt.date, k: int) -> str:
    """The visible date of a listing item (k varies the time of day)."""
    hh, mm = 7 + k % 10, (k * 17) % 60
    return {
        "drupal": f"{d:%d/%m/%Y}",
        "sharepoint": f"({d:%d/%m/%Y} {hh:02d}:{mm:02d}:{(k * 7) % 60:02d})",
        "liferay": f"{d.day}.{d.month}.{d.year} - {hh:02d}:{mm:02d}",
        "nukeviet": f"{WEEKDAYS[d.weekday()]}, {d.day:02d} Tháng {d.month} {d.year} {hh:02d}:{mm:02d}",
        "wordpress": f"{d:%d/%m/%Y}",
        "vendor": f"{d:%d/%m/%Y}",
        "3cms": f"{d:%d-%m-%Y} {hh:02d}:{mm:02d}",
        "webforms": f"{d:%d/%m/%Y}",
    }[platform]


def article_date_line(platform: str, d: dt.date) -> str:
    return {
        "drupal": f"Ngày đăng: {d:%d/%m/%Y} - 08:15",
        "sharepoint": f"Cập nhật lúc 08:46, {WEEKDAYS[d.weekday()]}, {d:%d/%m/%Y} (GMT+7)",
        "liferay": f"{d.day}.{d.month}.{d.year} - 10:45",
        "nukeviet": f"{WEEKDAYS[d.weekday()]}, ngày {d:%d/%m/%Y} 16:13 GMT+7",
        "wordpress": f"Đăng ngày {d:%d/%m/%Y}",
        "vendor": f"{WEEKDAYS[d.weekday()]}, {d:%d/%m/%Y}, 09:30",
        "3cms": f"Ngày {d.day} tháng {d.month} năm {d.year}",
        "webforms": f"Ngày ban hành: {d:%d/%m/%Y}",
    }[platform]


def today_line(platform: str) -> str:
    d = TODAY
    if platform in ("nukeviet", "wordpress"):
        return f"{WEEKDAYS[d.weekday()]}, {d:%d/%m/%Y}"
    return f"Hôm nay, ngày {d.day} tháng {d.month} năm {d.year}"


# -- the skeleton ---------------------------------------------------------------

SKIN = {   # platform -> (body class, menu class, main id, breadcrumb class, side class, footer id)
    "drupal": ("html not-front page-taxonomy", "menu nice-menu", "main-content", "breadcrumb", "region-sidebar", "footer"),
    "sharepoint": ("ms-backgroundImage", "ms-core-listMenu-root", "ctl00_PlaceHolderMain", "ms-breadcrumb",
                   "right-zone", "footer-zone"),
    "liferay": ("yui3-skin-sam controls-visible guest-site", "nav navbar-nav", "content", "breadcrumb breadcrumb-horizontal",
                "portlet-column-last", "footer"),
    "nukeviet": ("", "nav-menu", "body", "breadcrumbs", "col-right", "footer"),
    "wordpress": ("archive category", "main-navigation", "primary", "breadcrumbs", "widget-area", "colophon"),
    "vendor": ("", "mainmenu", "maincontent", "path", "sidebar", "footer"),
    "3cms": ("", "menu-top", "content-main", "breadcrumb", "box-right", "footer"),
    "webforms": ("", "MenuNgang", "noidung", "duongdan", "cotphai", "chantrang"),
}


def page(site, *, title: str, main: str, crumbs: list[tuple[str, str | None]], head: str = "",
         notice: str = "", charset_meta: bool = True) -> str:
    """A whole page of `site` (a build.Portal) around `main`."""
    body_cls, menu_cls, main_id, crumb_cls, side_cls, footer_id = SKIN[site.platform]
    menu = "\n".join(f'      <li><a href="{e(href)}">{e(label)}</a></li>' for label, href in site.menu())
    crumb = " » ".join(f'<a href="{e(h)}">{e(t)}</a>' if h else f"<span>{e(t)}</span>" for t, h in crumbs)
    side = "\n".join(f'        <li><a href="{e(href)}">{e(t)}</a> <span class="date">({d:%d/%m/%Y})</span></li>'
                     for t, href, d in site.side_posts())
    meta = '<meta charset="utf-8">' if charset_meta else '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
    return f"""<!DOCTYPE html>
<html lang="vi">
<head>
  {meta}
  <title>{e(title)} | {e(site.name)}</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="{e(site.root_path)}/themes/{site.platform}/style.css">
  {head}
</head>
<body class="{body_cls}">
  <div id="header">
    <div class="banner"><a href="{e(site.home_path)}"><img src="{e(site.root_path)}/images/banner.png" alt="{e(site.name)}"></a>
      <span class="site-name">{e(site.name.upper())}</span></div>
    <div class="today">{today_line(site.platform)}</div>
    <form class="search" action="{e(site.root_path)}/tim-kiem"><input name="q" placeholder="Tìm kiếm..."></form>
  </div>
  <div id="nav">
    <ul class="{menu_cls}">
{menu}
    </ul>
  </div>
  {notice}
  <div id="wrapper">
    <div id="{main_id}" class="main">
      <div class="{crumb_cls}">{crumb}</div>
{main}
    </div>
    <div class="{side_cls}">
      <div class="box"><h3 class="box-title">Tin mới</h3>
        <ul>
{side}
        </ul>
      </div>
      <div class="box"><h3 class="box-title">Liên kết website</h3>
        <select><option>Cổng thông tin điện tử tỉnh Cao Bằng</option><option>Chính phủ</option></select></div>
      <div class="box counter"><h3 class="box-title">Thống kê truy cập</h3>
        <p>Đang truy cập: 27</p><p>Hôm nay: 1.204</p><p>Tổng lượt truy cập: {site.counter}</p></div>
    </div>
  </div>
  <div id="{footer_id}">
    <p>© 2018 {e(site.name)}. Giấy phép số 15/GP-TTĐT ngày 20/03/2016.</p>
    <p>Địa chỉ: {e(site.address)} - Điện thoại: 0206.3852.xxx - Email: {e(site.email)}</p>
    <p>Lượt truy cập: {site.counter}</p>
  </div>
</body>
</html>
"""


# -- listing items ----------------------------------------------------------------

def item(platform: str, title: str, href: str, date: dt.date | None, k: int, summary: str) -> str:
    t, h, s = e(title), e(href), e(summary)
    d = date_text(platform, date, k) if date else ""
    if platform == "drupal":
        when = f'\n          <span class="views-field-created"><span class="date-display-single">{d}</span></span>' if d else ""
        return (f'        <div class="views-row views-row-{k + 1}">\n          <span class="views-field-title">'
                f'<a href="{h}">{t}</a></span>{when}\n          <div class="views-field-body">{s}</div>\n        </div>')
    if platform == "sharepoint":
        when = f' <span class="date">{d}</span>' if d else ""
        return f'        <tr><td class="ms-vb"><a href="{h}">{t}</a>{when}<p class="sapo">{s}</p></td></tr>'
    if platform == "liferay":
        when = f'\n          <span class="metadata-publish-date">{d}</span>' if d else ""
        return (f'        <div class="asset-abstract">\n          <h3 class="asset-title"><a href="{h}">{t}</a></h3>{when}'
                f'\n          <div class="asset-summary">{s}</div>\n        </div>')
    if platform == "nukeviet":
        when = f'\n          <span class="time">{d}</span>' if d else ""
        return (f'        <div class="news_column">\n          <h3><a href="{h}" title="{t}">{t}</a></h3>{when}'
                f'\n          <p class="hometext">{s}</p>\n        </div>')
    if platform == "wordpress":
        when = (f'\n          <div class="entry-meta">Đăng ngày <time class="entry-date published" '
                f'datetime="{date.isoformat()}T08:00:00+07:00">{d}</time></div>') if date else ""
        return (f'        <article class="post type-post">\n          <h2 class="entry-title"><a href="{h}" rel="bookmark">{t}</a></h2>'
                f'{when}\n          <div class="entry-summary"><p>{s}</p></div>\n        </article>')
    if platform == "vendor":
        when = f' <span class="date">{d}</span>' if d else ""
        return (f'        <li class="news-item"><a class="thumb" href="{h}"><img src="/upload/thumb-{k}.jpg" alt=""></a>'
                f'<a class="title" href="{h}">{t}</a>{when}<p class="sapo">{s}</p></li>')
    if platform == "3cms":
        when = f' <span class="date">{d}</span>' if d else ""
        return f'        <div class="item-news"><a class="title" href="{h}">{t}</a>{when}<p>{s}</p></div>'
    if platform == "webforms":
        return f'        <tr><td>{k + 1}</td><td><a href="{h}">{t}</a></td><td>{d}</td></tr>'
    raise ValueError(platform)


def listing_block(platform: str, heading: str, items: list[str], pager: str) -> str:
    body = "\n".join(items)
    h = e(heading)
    if platform == "drupal":
        return (f'      <h1 class="page-title">{h}</h1>\n      <div class="view view-taxonomy-term">\n'
                f'      <div class="view-content">\n{body}\n      </div>\n{pager}\n      </div>')
    if platform == "sharepoint":
        return (f'      <div class="title-category"><h2>{h}</h2></div>\n      <table class="ms-listviewtable">\n'
                f'{body}\n      </table>\n{pager}')
    if platform == "liferay":
        return (f'      <section class="portlet"><header class="portlet-topper"><h2 class="portlet-title">{h}</h2></header>\n'
                f'      <div class="portlet-body">\n{body}\n{pager}\n      </div></section>')
    if platform == "nukeviet":
        return f'      <h1 class="title-cat">{h}</h1>\n      <div class="list-news">\n{body}\n      </div>\n{pager}'
    if platform == "wordpress":
        return (f'      <header class="page-header"><h1 class="page-title">Chuyên mục: {h}</h1></header>\n'
                f'{body}\n{pager}')
    if platform == "vendor":
        return f'      <h2 class="cat-title">{h}</h2>\n      <ul class="list-news">\n{body}\n      </ul>\n{pager}'
    if platform == "3cms":
        return f'      <h2 class="title-cate">{h}</h2>\n      <div class="list">\n{body}\n      </div>\n{pager}'
    if platform == "webforms":
        return (f'      <h1 class="title">{h}</h1>\n      <table id="gvDanhSach" class="grid"><tr><th>STT</th>'
                f'<th>Trích yếu</th><th>Ngày</th></tr>\n{body}\n      <tr class="pager"><td colspan="3">{pager}</td></tr>'
                f'</table>')
    raise ValueError(platform)


def pager(platform: str, current: int, hrefs: list[str]) -> str:
    """The pager of page `current` (1-based) of a listing whose pages are at `hrefs`."""
    if len(hrefs) < 2:
        return ""
    if platform == "webforms":
        return " ".join(f"<span>{n}</span>" if n == current else
                        f"<a href=\"javascript:__doPostBack('ctl00$noidung$gvDanhSach','Page${n}')\">{n}</a>"
                        for n in range(1, len(hrefs) + 1))
    links = []
    for n, href in enumerate(hrefs, start=1):
        links.append(f'<span class="current">{n}</span>' if n == current else f'<a href="{e(href)}">{n}</a>')
    if current < len(hrefs):
        links.append(f'<a class="next" href="{e(hrefs[current])}">Trang sau »</a>')
    cls = {"drupal": "item-list pager", "wordpress": "navigation pagination", "liferay": "pagination",
           "nukeviet": "generate_page"}.get(platform, "paging")
    return f'      <div class="{cls}">{" ".join(links)}</div>'


def article_block(platform: str, title: str, date: dt.date | None, body: str, category: str) -> str:
    when = f'<div class="date-time">{article_date_line(platform, date)}</div>' if date else ""
    return (f'      <div class="article detail">\n        <h1 class="title">{e(title)}</h1>\n        {when}\n'
            f'        <div class="content"><p>{e(body)}</p>\n        <p>Chuyên mục: {e(category)}</p></div>\n'
            f'        <div class="share">Chia sẻ: <a href="#">Facebook</a> <a href="#">Zalo</a> '
            f'<a href="javascript:window.print()">In trang</a></div>\n      </div>')


def home_block(site) -> str:
    boxes = []
    for cat in site.categories[:4]:
        posts = [p for p in cat.posts if p.date][:3]
        lis = "".join(f'<li><a href="{e(site.article_path(cat, p))}">{e(p.title)}</a></li>' for p in posts)
        boxes.append(f'      <div class="home-box"><h2><a href="{e(site.listing_path(cat, 1))}">{e(cat.label)}</a></h2>'
                     f'<ul>{lis}</ul></div>')
    return "\n".join(boxes)


def not_found_block() -> str:
    return ('      <div class="error-page"><h1>Không tìm thấy trang</h1>\n'
            '        <p>Trang bạn yêu cầu không tồn tại hoặc đã bị xóa. Vui lòng quay lại '
            '<a href="/">trang chủ</a>.</p></div>')
