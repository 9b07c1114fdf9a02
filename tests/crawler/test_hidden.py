"""Content a reader never sees is not read: a hidden old list, heading or pager changes nothing."""

import datetime as dt

import pytest

from crawler.extract import read_page

URL = "https://sotuphap.example.gov.vn/tin-tuc"

# Ways portals hide markup: (name, opening, closing).
HIDERS = [
    ("display-none", '<div style="display:none">', "</div>"),
    ("display-none-spaced", '<div class="box" style="color: red; DISPLAY : None !important;">', "</div>"),
    ("visibility-hidden", '<div style="visibility:hidden">', "</div>"),
    ("hidden-attribute", "<div hidden>", "</div>"),
    ("aria-hidden", '<div aria-hidden="true">', "</div>"),
    ("template", "<template>", "</template>"),
]
VISIBLE = ("visible", "<div>", "</div>")

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Sở Tư pháp tỉnh</title></head><body>
<div id="header"><a href="/">Trang chủ</a> <a href="/gioi-thieu">Giới thiệu</a></div>
<div class="content">
{heading}
{old}
<ul class="news-list">
{items}
</ul>
{pager}
</div>
<div id="footer">© 2018 Sở Tư pháp tỉnh</div></body></html>"""

ITEM = '<li><a href="/tin/{n}.html">{title}</a> <span class="date">{date}</span></li>'
POSTS = [
    ("Hội nghị triển khai công tác tư pháp năm 2018 trên địa bàn tỉnh", "05/11/2018"),
    ("Tập huấn nghiệp vụ hộ tịch cho công chức tư pháp cấp xã năm 2018", "20/09/2018"),
    ("Kiểm tra công tác phổ biến, giáo dục pháp luật tại các huyện", "03/07/2018"),
]
OLD_POSTS = [(f"Thông báo kết quả kỳ thi tuyển công chức đợt {k} năm 2016 của Sở", f"{k + 10:02d}/0{k}/2016")
             for k in range(1, 7)]
DATES = [dt.date(2018, 11, 5), dt.date(2018, 9, 20), dt.date(2018, 7, 3)]
PAGER = '<div class="pagination"><span>1</span> <a href="/tin-tuc?page=2">2</a> <a href="/tin-tuc?page=2">Sau »</a></div>'


def items(posts, start=1):
    return "\n".join(ITEM.format(n=start + k, title=t, date=d) for k, (t, d) in enumerate(posts))


def page(*, heading="<h2>Tin tức sự kiện</h2>", old="", pager="") -> bytes:
    return PAGE.format(heading=heading, old=old, items=items(POSTS), pager=pager).encode()


def read(matcher, body: bytes):
    return read_page(URL, body, {"Content-Type": "text/html; charset=utf-8"}, matcher)


def hidden(hider, markup: str) -> str:
    _, opening, closing = hider
    return f"{opening}{markup}{closing}"


OLD_LIST = f'<ul class="news-list old">{items(OLD_POSTS, start=100)}</ul>'


@pytest.mark.parametrize("hider", HIDERS, ids=[h[0] for h in HIDERS])
def test_a_hidden_old_list_beside_the_listing_is_not_read(matcher, hider):
    reading = read(matcher, page(old=hidden(hider, OLD_LIST)))
    assert reading.kind == "listing"
    assert [(p.title, p.published) for p in reading.posts] == [(t, d) for (t, _), d in zip(POSTS, DATES)]
    assert not any(d.year == 2016 for p in reading.posts for d in p.dates)


def test_the_same_old_list_visible_is_the_listing(matcher):
    """(the control: shown, the longer old list wins, so the tests above test the hiding)"""
    reading = read(matcher, page(old=hidden(VISIBLE, OLD_LIST)))
    assert {p.published.year for p in reading.posts} == {2016}


@pytest.mark.parametrize("hider", HIDERS, ids=[h[0] for h in HIDERS])
def test_a_hidden_category_heading_does_not_name_the_page(matcher, hider):
    heading = hidden(hider, "<h1>Thông tin chỉ đạo, điều hành</h1>") + "<h2>Tin tức sự kiện</h2>"
    reading = read(matcher, page(heading=heading))
    assert (reading.kind, reading.category.criterion, reading.category.label) == \
        ("listing", "tin-tuc-su-kien", "Tin tức sự kiện")
    assert len(reading.posts) == 3


def test_the_same_heading_visible_names_the_page(matcher):
    heading = hidden(VISIBLE, "<h1>Thông tin chỉ đạo, điều hành</h1>") + "<h2>Tin tức sự kiện</h2>"
    reading = read(matcher, page(heading=heading))
    assert reading.category.criterion != "tin-tuc-su-kien"


@pytest.mark.parametrize("hider", HIDERS, ids=[h[0] for h in HIDERS])
def test_a_hidden_pager_gives_no_next_page(matcher, hider):
    reading = read(matcher, page(pager=hidden(hider, PAGER)))
    assert reading.kind == "listing" and len(reading.posts) == 3
    assert reading.next_pages == ()


def test_the_same_pager_visible_gives_the_next_page(matcher):
    reading = read(matcher, page(pager=hidden(VISIBLE, PAGER)))
    assert reading.next_pages == ("https://sotuphap.example.gov.vn/tin-tuc?page=2",)


def test_a_page_hidden_until_its_scripts_run_is_still_read(matcher):
    """A preloader hides the whole page with an inline style: that is the page, not hidden content."""
    body = page(pager=PAGER).replace(b"<body>", b'<body><div id="wrapper" style="display: none">') \
        .replace(b"</body>", '</div><div class="loading">Đang tải...</div></body>'.encode())
    reading = read(matcher, body)
    assert reading.kind == "listing" and [p.published for p in reading.posts] == DATES
    assert reading.next_pages == ("https://sotuphap.example.gov.vn/tin-tuc?page=2",)


def test_hidden_icons_and_form_fields_change_nothing(matcher):
    """aria-hidden icons, and hidden elements without text or links (form fields), are harmless to keep or drop."""
    icons = page().replace(b'<span class="date">', b'<i class="fa fa-clock" aria-hidden="true"></i><span class="date">')
    fields = page(old='<div style="display:none"><input type="hidden" name="__VIEWSTATE" value="x"></div>')
    assert read(matcher, icons).posts == read(matcher, page()).posts == read(matcher, fields).posts
