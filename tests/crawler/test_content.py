"""The content checks of an introduction page, on real-looking Vietnamese text: each detector with the
texts it must find and those it must not (a date shaped like a phone number, a script's e-mail)."""

from __future__ import annotations

import pytest

from crawler.content import ContentCheck, ContentRule, PageText, detect, find_content
from crawler.extract import page_text

FINDS = {
    "phone": [
        "Điện thoại: 0206.3852.046",
        "ĐT: (0206) 3 852 123 - Fax: (0206) 3 852 124",
        "Đường dây nóng: 0915 263 118",
        "Tel: +84 206 3852046",
        "Liên hệ 0206-3852-046 trong giờ hành chính",
    ],
    "email": [
        "Thư điện tử: sotuphap@caobang.gov.vn",
        "Email: vanphong.ubnd-hoaan@caobang.gov.vn.",
        "E-mail: stp[at]caobang.gov.vn",
    ],
    "address": [
        "Địa chỉ: Số 10, đường Hoàng Đình Giong, phường Hợp Giang, thành phố Cao Bằng",
        "Trụ sở: Tổ 5, phường Sông Hiến, TP. Cao Bằng",
        "Trụ sở làm việc đặt tại thị trấn Nước Hai, huyện Hòa An",
        "Số 032 phố Vườn Cam, phường Hợp Giang",
        "Dia chi: phuong Hop Giang, thanh pho Cao Bang",          # typed without accents
    ],
    "person_with_title": [
        "Giám đốc Sở: Ông Nông Văn Hùng",
        "Bà Hoàng Thị Lan - Phó Giám đốc phụ trách văn phòng",
        "Chánh Thanh tra: Bế Văn Cường, điện thoại 0912 345 678",
        "Trưởng phòng Hành chính - Tư pháp: Lục Thị Dung",
        "Phó Chủ tịch UBND huyện Nguyễn Đức Thắng",
        "Đồng chí Triệu Quang Minh, Chủ tịch UBND huyện",
    ],
}
MISSES = {
    "phone": [
        "Ngày 05.03.2018, Sở tổ chức hội nghị",               # a date written with dots
        "Quyết định số 15/2018/QĐ-UBND ngày 05/3/2018",       # a document number and a date
        "Điện thoại: 0206.3852.xxx",                          # a placeholder
        "Tổng lượt truy cập: 1.234.567",                      # a visitor counter
        "Mã số thuế 4800123456789",                           # a long code, not a phone
        "Giấy phép số 15/GP-TTĐT ngày 20/03/2016",
    ],
    "email": ["Liên hệ qua hộp thư góp ý", "@caobang", "Gửi văn bản về địa chỉ cơ quan"],
    "address": [
        "Sở Tư pháp tỉnh Cao Bằng tổ chức hội nghị tổng kết",  # a province's name is not an address
        "Nhập địa chỉ thư điện tử của bạn",
        "Huyện Hòa An triển khai nhiệm vụ năm 2018",
    ],
    "person_with_title": [
        "Giám đốc Sở Tư pháp tỉnh Cao Bằng chỉ đạo các phòng",  # a title with no name ("Cao Bằng" is a place)
        "Phó Chủ tịch UBND huyện phụ trách khối văn xã",
        "Ông Nông Văn Hùng dự hội nghị",                        # a name with no title
        "Danh sách lãnh đạo và thông tin liên hệ",
    ],
}


@pytest.mark.parametrize("detector,text", [(d, t) for d, ts in FINDS.items() for t in ts])
def test_a_detector_finds_its_content(detector, text):
    assert detect(ContentCheck("x", "x", detector), text), text


@pytest.mark.parametrize("detector,text", [(d, t) for d, ts in MISSES.items() for t in ts])
def test_a_detector_does_not_take_lookalikes(detector, text):
    assert not detect(ContentCheck("x", "x", detector), text), text


def test_phrases_match_as_category_aliases_do_with_or_without_accents():
    check = ContentCheck("cn", "Chức năng, nhiệm vụ", "phrases", ("chức năng nhiệm vụ", "nhiệm vụ quyền hạn"))
    assert detect(check, "Vị trí, chức năng, nhiệm vụ và quyền hạn của Sở")
    assert detect(check, "CHUC NANG, NHIEM VU, QUYEN HAN")
    assert not detect(check, "Sở triển khai nhiệm vụ trọng tâm, chức năng khác")


PAGE = """<html><head><title>Giới thiệu</title><script>var contact = "admin@vendor.vn"; tel = "0243 8256 789";
</script></head><body>
<div id="header"><ul class="menu"><li><a href="/co-cau">Cơ cấu tổ chức</a></li>
<li><a href="/lanh-dao">Lãnh đạo Sở: Ông Nguyễn Văn An, Giám đốc</a></li></ul></div>
<div id="main-content"><h1>Giới thiệu chung</h1><p>Sở Tư pháp có chức năng, nhiệm vụ, quyền hạn tham mưu
cho Ủy ban nhân dân tỉnh.</p></div>
<div id="footer"><p>Chịu trách nhiệm: Ông Lê Văn Bình - Chánh Văn phòng</p>
<p>Địa chỉ: Số 10, đường Hoàng Đình Giong, phường Hợp Giang. Điện thoại: 0206 3852 046</p></div>
</body></html>"""
CHECKS = (ContentCheck("cn", "Chức năng", "phrases", ("chức năng nhiệm vụ",)),
          ContentCheck("cc", "Cơ cấu tổ chức", "phrases", ("cơ cấu tổ chức",)),
          ContentCheck("ld", "Lãnh đạo", "person_with_title"),
          ContentCheck("dc", "Địa chỉ", "address"), ContentCheck("dt", "Điện thoại", "phone"),
          ContentCheck("em", "Thư điện tử", "email"))


def test_contacts_count_in_the_footer_but_phrases_and_leaders_only_in_the_main_text():
    text = page_text("http://sotuphap.caobang.gov.vn/gioi-thieu", PAGE.encode())
    finding = find_content(ContentRule(CHECKS, 6), text)
    # the footer's address and phone are the agency's; the menu's "Cơ cấu tổ chức" and leader, the footer's
    # editor, and the script's e-mail and number are not the page's content
    assert [c.id for c in finding.found] == ["cn", "dc", "dt"]
    assert [c.id for c in finding.missing] == ["cc", "ld", "em"]
    assert not finding.enough(6) and finding.enough(3)


def test_the_same_contacts_in_the_main_text_count_too():
    main = "Trụ sở: phường Hợp Giang, thành phố Cao Bằng. Điện thoại: 0206 3852 046. Email: stp@caobang.gov.vn"
    finding = find_content(ContentRule(CHECKS, 6), PageText(main=main))
    assert [c.id for c in finding.found] == ["dc", "dt", "em"]
