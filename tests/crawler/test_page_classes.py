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


NV = "http://soyte.example.gov.vn"
NV_MENU = (f'<ul class="nav"><li><a href="{NV}/">Trang nhất</a></li><li class="active"><a href="{NV}/tin-tuc/">'
           'Tin tức - Sự kiện</a><ul><li><a href="/tin-hoat-dong/">Tin hoạt động</a></li>'
           '<li><a href="/dieu-hanh/">Điều hành - Chỉ đạo</a></li></ul></li></ul>')


def _box(title: str, lead: tuple, rest: list) -> str:
    head = f'<div class="panel-heading"><h4><a href="/{title[1]}/">{title[0]}</a></h4></div>' if title else ""
    items = "".join(f'<li><a href="{u}" title="{t}">{t}</a></li>' for u, t in rest)
    return (f'<div class="news_column"><div class="panel">{head}<div class="panel-body"><div class="row">'
            f'<div class="col-md-16"><h3><a href="{lead[0]}">{lead[1]}</a></h3><div class="text-muted">'
            f'<span>{lead[2]} 08:00</span></div>Tóm tắt của bài viết đầu tiên trong hộp.</div>'
            f'<div class="col-md-8"><ul class="related">{items}</ul></div></div></div></div></div>')


def test_a_parent_category_page_lists_the_posts_of_its_sub_category_boxes():
    """A parent category's page (NukeViet's viewcat_main): a box per sub-category, each a lead post with its
    date on the lines after the headline and a list. The menus nest the boxes' titles under the page's own
    entry, so every box's posts are the parent's; a box of a category nested elsewhere is not."""
    boxes = (_box(("Tin hoạt động", "tin-hoat-dong"), ("/tin-hoat-dong/so-ket-6-thang-71.html",
                  "Sơ kết công tác y tế 6 tháng đầu năm 2019", "17/06/2019"),
                  [("/tin-hoat-dong/hien-mau-56.html", "Kỷ niệm ngày thành lập Hội Chữ thập đỏ tỉnh"),
                   ("/tin-hoat-dong/vac-xin-49.html", "Triển khai tiêm vắc xin sởi cho trẻ em"),
                   ("/tin-hoat-dong/tim-bam-sinh-45.html", "Khám sàng lọc tim bẩm sinh cho trẻ em")])
             + _box(("Điều hành - Chỉ đạo", "dieu-hanh"), ("/dieu-hanh/lich-cong-tac-62.html",
                    "Lịch công tác của Ban Giám đốc Sở tuần 07", "14/02/2019"),
                    [("/dieu-hanh/ket-luan-47.html", "Kết luận của Giám đốc Sở tại buổi giao ban tháng 7"),
                     ("/dieu-hanh/truc-tet-58.html", "Thông báo phân công trực Tết Dương lịch của Sở")]))
    page = (f'<html><head><title>Tin tức - Sự kiện</title></head><body>{NV_MENU}<div class="breadcrumbs">'
            f'<a href="{NV}/">Trang nhất</a> <a href="{NV}/tin-tuc/">Tin tức - Sự kiện</a></div>'
            f'<div class="main">{boxes}</div></body></html>')
    reading = read_page(f"{NV}/tin-tuc/", page.encode(), {"Content-Type": "text/html; charset=utf-8"}, matcher())
    assert reading.kind == "listing" and reading.category.criterion == "tin-tuc-su-kien"
    assert [(p.title, str(p.published)) for p in reading.posts] == [
        ("Sơ kết công tác y tế 6 tháng đầu năm 2019", "2019-06-17"),
        ("Kỷ niệm ngày thành lập Hội Chữ thập đỏ tỉnh", "None"), ("Triển khai tiêm vắc xin sởi cho trẻ em", "None"),
        ("Khám sàng lọc tim bẩm sinh cho trẻ em", "None"),
        ("Lịch công tác của Ban Giám đốc Sở tuần 07", "2019-02-14"),
        ("Kết luận của Giám đốc Sở tại buổi giao ban tháng 7", "None"),
        ("Thông báo phân công trực Tết Dương lịch của Sở", "None")]
    # the same boxes, the menus nesting nothing under the page: only the best box is the listing
    flat = page.replace(NV_MENU, f'<ul class="nav"><li><a href="{NV}/tin-tuc/">Tin tức - Sự kiện</a></li></ul>')
    alone = read_page(f"{NV}/tin-tuc/", flat.encode(), {"Content-Type": "text/html; charset=utf-8"}, matcher())
    assert "Lịch công tác của Ban Giám đốc Sở tuần 07" not in [p.title for p in alone.posts]


def test_a_box_of_further_posts_under_the_category_address_is_the_listings_own():
    """"Các tin khác" after a NukeViet category's items lists the category's next posts (every link under its
    address, the date in brackets inside the link): they are its posts, title without the date. The same box
    linking all over the site is the site-wide box of class 3 and stays out."""
    main = "".join(f'<div class="panel"><h3><a href="/tin-hoat-dong/bai-{i}.html">Tin hoạt động số {i} của Sở Y tế '
                   f'tỉnh</a></h3><p class="date">0{i}/11/2018</p></div>' for i in range(1, 4))
    def page(prefix):
        further = "".join(f'<li><a href="{prefix}/bai-{i}.html" title="Bài cũ hơn số {i} của chuyên mục">Bài cũ hơn số'
                          f' {i} của chuyên mục <em>(0{i}/05/2018)</em></a></li>' for i in range(4, 6))
        return (f'<html><body><h1>Tin hoạt động</h1><div class="list">{main}</div><div class="other">'
                f'<h4>Các tin khác</h4><ul class="related">{further}</ul></div></body></html>')
    own = read_page(f"{NV}/tin-hoat-dong/", page("/tin-hoat-dong").encode(), {}, matcher())
    assert [(p.title, str(p.published)) for p in own.posts][-2:] == [
        ("Bài cũ hơn số 4 của chuyên mục", "2018-05-04"), ("Bài cũ hơn số 5 của chuyên mục", "2018-05-05")]
    assert len(own.posts) == 5
    site_wide = read_page(f"{NV}/tin-hoat-dong/", page("/van-ban").encode(), {}, matcher())
    assert len(site_wide.posts) == 3


@pytest.mark.parametrize(("body_class", "kind"), [
    ("home blog wp-embed-responsive", "home"),      # WordPress's front page, served at an unknown path
    ("html front logged-in", "home"),               # Drupal's
    ("html not-front page-taxonomy", "listing"),    # any other Drupal page
    ("archive category blog", "listing"),
])
def test_the_front_page_at_another_address_is_the_home_page(body_class, kind):
    """WordPress with plain permalinks ignores an unknown path and serves the front page with 200: the
    <body> class the CMS gives its front page says so, whatever the address."""
    items = "".join(f'<article><h2><a href="/?p={i}">Bài viết số {i} về hoạt động của huyện Hòa An</a></h2>'
                    f'<time datetime="2018-0{i}-01">01/0{i}/2018</time></article>' for i in range(1, 5))
    page = f'<html><body class="{body_class}"><main>{items}</main></body></html>'
    assert read_page("http://hoaan.example.gov.vn/khong-ton-tai/", page.encode(), {}, matcher()).kind == kind


def test_an_update_line_in_the_article_text_dates_the_update():
    """A block theme shows only the publication date (<time>); the editor wrote the update into the text
    ("Cập nhật lúc 14:20 ngày 20/08/2018: ..."). The update counts, the document date in the text does not."""
    page = ('<html><body class="post-template-default single single-post postid-12"><main>'
            '<h1>Quy hoạch xây dựng vùng huyện Hòa An đến năm 2030</h1><time datetime="2017-11-14">14/11/2017</time>'
            '<div class="entry-content"><p>Quy hoạch được phê duyệt tại Quyết định số 1789/QĐ-UBND ngày 10/11/2017.</p>'
            '<p><em>Cập nhật lúc 14:20 ngày 20/08/2018:</em> bổ sung bản đồ định hướng phát triển không gian.</p>'
            '</div></main></body></html>')
    reading = read_page("http://hoaan.example.gov.vn/2017/11/quy-hoach/", page.encode(), {}, matcher())
    assert (reading.kind, str(reading.article_date), str(reading.article_updated)) == \
        ("article", "2017-11-14", "2018-08-20")
    assert reading.updates_shown
    alone = page.replace('<time datetime="2017-11-14">14/11/2017</time>', "")
    only = read_page("http://hoaan.example.gov.vn/2017/11/quy-hoach/", alone.encode(), {}, matcher())
    assert (str(only.article_date), only.article_updated) == ("2018-08-20", None)


@pytest.mark.parametrize(("body_class", "rows", "kind"), [
    ("page-template-default page page-id-35", "", "page"),                 # WordPress's "Liên hệ" page
    ("html not-front page-node page-node-5 node-type-page", "table", "page"),  # Drupal's, a table of contacts
    ("page-template-default page page-id-34", "dated", "listing"),         # a Query Loop of posts on a page
])
def test_a_static_page_is_a_page_whatever_its_tables(body_class, rows, kind):
    """The CMS marks its static pages (<body> class); a short contact text or a table of departments with
    their e-mail links is no listing, while a static page holding a list of dated posts still is."""
    table = "".join(f'<tr><td><a href="/phong-{i}">Phòng nghiệp vụ số {i} của Sở Tư pháp</a></td><td>'
                    f'{"0" + str(i) + "/03/2018" if rows == "dated" else "0206.3852.xxx"}</td></tr>' for i in range(1, 7))
    page = (f'<html><body class="{body_class}"><main><h1>Liên hệ</h1><p>Sở Tư pháp tỉnh Cao Bằng – Số 042 Phố '
            f'Hoàng Đình Giong – Điện thoại: 0206.3852.xxx</p>{"<table>" + table + "</table>" if rows else ""}'
            '</main></body></html>')
    reading = read_page("http://stp.example.gov.vn/lien-he/", page.encode(), {}, matcher())
    assert reading.kind == kind and reading.category.criterion == "gioi-thieu"
