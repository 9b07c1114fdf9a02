"""Classes of markup seen on real portals, each on a small page built for it (tests/fixtures/classes/).

The real-platform lab (tests/lab) measures whole portals; these pin one class each, so a rule that
fixes one page and breaks the class shows here: a web-part header bar as the only category heading
with a hidden leftover list, a site-wide box of older posts inside the listing's own container, a
grid whose first card is larger, and pagers in English, lower case, disabled or rewritten by a
mirroring tool.
"""

from pathlib import Path

import pytest

from crawler.extract import read_page
from tests.crawler.fixture_eval import matcher

PAGE = (Path(__file__).resolve().parent.parent / "fixtures" / "classes" / "webpart.html").read_text(encoding="utf-8")
URL = "http://sotnmt.langson.gov.vn/Pages/chi-dao.aspx"
LISTING = [("2018-11-05", "UBND tỉnh chỉ đạo tăng cường quản lý khai thác khoáng sản năm 2018"),
           ("2018-09-20", "Công văn về việc kiểm tra công tác bảo vệ môi trường các khu công nghiệp"),
           ("2017-08-02", "Kế hoạch thực hiện chỉ thị của Thủ tướng về quản lý đất đai")]
LEAD = ("2018-08-10", "Chủ tịch UBND tỉnh chỉ đạo khắc phục hậu quả mưa lũ tháng 8 năm 2018")
BOX_IN_CONTAINER = ('  </div>\n  <div class="other-news"><div class="other-title">Các tin đã đưa</div>',
                    '   <div class="other-title">Các tin đã đưa</div>')
GRID_LEAD = ('<div class="news-list">',
             '<div class="news-list"><div class="card card-lg"><a href="/Lists/ChiDao/DispForm.aspx?ID=110">'
             '<img src="a.jpg"></a><h3><a href="/Lists/ChiDao/DispForm.aspx?ID=110">' + LEAD[1] + '</a></h3>'
             '<span class="date">(10/08/2018)</span><p>Tin nổi bật đầu tiên của chuyên mục, với ảnh lớn.</p></div>')


def read(html: str):
    return read_page(URL, html.encode("utf-8"), {"Content-Type": "text/html; charset=utf-8"}, matcher())


def posts(reading):
    return [(p.published.isoformat() if p.published else None, p.title) for p in reading.posts]


@pytest.mark.parametrize(("name", "edits", "want"), [
    # the category only in an upper-cased web-part header bar, <title> the site's name, a hidden filter
    # pane full of 2016 posts, a box of older posts in its own container after the listing
    ("web-part header", [], LISTING),
    # the box of older posts inside the listing's container, with the listing's classes, after its title
    ("box inside the listing's container", [BOX_IN_CONTAINER], LISTING),
    # a grid whose first card is larger and classed apart: it is a post too
    ("grid with a larger first card", [GRID_LEAD], [LEAD, *LISTING]),
])
def test_the_listing_is_what_the_reader_sees(name, edits, want):
    html = PAGE
    for old, new in edits:
        assert old in html
        html = html.replace(old, new)
    reading = read(html)
    assert (reading.kind, reading.category.criterion) == ("listing", "chi-dao-dieu-hanh")
    assert posts(reading) == want


@pytest.mark.parametrize(("pager", "want"), [
    ('<div class="nav-links"><a href="/Pages/chi-dao.aspx?page=2">Next Page »</a> '
     '<a href="/Pages/chi-dao.aspx?page=5">Last</a></div>', ["?page=2", "?page=5"]),
    ('<div class="navigation"><a href="/chi-dao/page/2/">← Older posts</a></div>', ["/chi-dao/page/2/"]),
    ('<div><a href="/Pages/chi-dao.aspx?page=2">trang sau</a></div>', ["?page=2"]),
    # the last page: "Sau" disabled, only the previous page linked
    ('<div class="pager"><a href="javascript:;">Sau</a> <a href="/Pages/chi-dao.aspx?page=1">Trước</a></div>',
     ["?page=1"]),
    # rewritten by a mirroring tool: file names without page numbers, and no pager class
    ('<div><a href="index4b2f.html">1</a> <a href="index9ba9.html">2</a> <a href="indexfdb0.html">3</a> '
     '<a href="index9ba9.html">Trang sau</a></div>', ["index4b2f.html", "index9ba9.html", "indexfdb0.html"]),
])
def test_pagers_as_real_portals_write_them(pager, want):
    reading = read(PAGE.replace('<div class="footer">', pager + '<div class="footer">'))
    assert len(reading.next_pages) == len(want)
    for url, end in zip(reading.next_pages, want):
        assert url.endswith(end), (url, end)


def test_a_hidden_list_gives_no_post_and_no_date():
    reading = read(PAGE)
    assert not any("ẩn" in p.title for p in reading.posts)
    assert all(d.year != 2016 for p in reading.posts for d in p.dates)


@pytest.mark.parametrize(("summary", "want"), [
    # a document's own date in the summary never dates the post: the post stays undated
    ("Kế hoạch số 28/KH-SYT ngày 10/3/2017.", None),
    ("Ban hành kèm theo Quyết định số 120/QĐ-SGTVT ngày 04/5/2017 của Giám đốc Sở.", None),
    ("Quy hoạch được phê duyệt tại Quyết định số 540/QĐ-UBND ngày 12/4/2017.", None),
    # a date in running text that no document number or type precedes is the last resort, as before
    ("Sáng ngày 05/3/2018, UBND tỉnh tổ chức hội nghị triển khai nhiệm vụ năm 2018.", "2018-03-05"),
])
def test_a_document_date_in_a_summary_is_not_the_posts_date(summary, want):
    html = PAGE.replace('<span class="date">(05/11/2018)</span><p>Tóm tắt nội dung chỉ đạo về khoáng sản.</p>',
                        f"<p>{summary}</p>")
    first = read(html).posts[0]
    assert (first.published.isoformat() if first.published else None) == want


def test_an_english_interface_labels_the_article_date():
    article = """<html><head><title>Hội nghị tổng kết năm 2018 | Sở TN&MT</title></head><body>
    <div class="header">Hôm nay, ngày 20 tháng 2 năm 2019</div>
    <div class="content"><h1>Hội nghị tổng kết công tác tài nguyên và môi trường năm 2018</h1>
    <div class="info">Category: Tin hoạt động</div><p>Publish date: 26/11/2018 10:15 PM | Views: 345</p>
    <p>Ngày 20/11/2018, Sở Tài nguyên và Môi trường tổ chức hội nghị tổng kết công tác năm 2018 và triển khai
    nhiệm vụ năm 2019 với sự tham dự của lãnh đạo các phòng, đơn vị trực thuộc và các huyện, thành phố.
    Hội nghị đã đánh giá kết quả thực hiện nhiệm vụ, chỉ ra những tồn tại, hạn chế và đề ra giải pháp.</p>
    </div><div class="footer">© 2018</div></body></html>"""
    reading = read_page("http://sotnmt.langson.gov.vn/tin-tuc/hoi-nghi-tong-ket.html", article.encode("utf-8"),
                        {"Content-Type": "text/html; charset=utf-8"}, matcher())
    assert reading.kind == "article" and reading.article_date.isoformat() == "2018-11-26"


def test_a_page_of_a_hundred_thousand_links_is_read_as_far_as_the_bound():
    """A hostile listing page (tens of thousands of items, a hidden copy of them) is read as far as the
    page bound: the first items are the listing's posts, the cut is noted, the hidden copy never counts."""
    from crawler.extract.weights import WEIGHTS
    items = "".join(f'<li class="item"><a href="/tin/bai-{i}.html">Thông báo số {i} về việc triển khai công tác'
                    f'</a> <span>{i % 28 + 1:02d}/03/2018</span></li>' for i in range(3 * WEIGHTS.max_page_links))
    page = (f'<html><head><title>Sở TNMT</title></head><body><div style="display:none"><ul>{items}</ul></div>'
            f'<h1>Thông tin chỉ đạo, điều hành</h1><ul>{items}</ul></body></html>')
    reading = read(page)
    assert reading.kind == "listing" and reading.category.criterion == "chi-dao-dieu-hanh"
    assert len(reading.posts) == WEIGHTS.max_page_links
    assert reading.posts[0].title.startswith("Thông báo số 0 ") and str(reading.posts[0].published) == "2018-03-01"
    assert any("first 2500 links" in n for n in reading.notes)
    small = read(f'<html><body><h1>Thông tin chỉ đạo, điều hành</h1><ul>{items[:5000]}</ul></body></html>')
    assert small.notes == () and len(small.posts) > 10
