"""Category names as portals write them, matched to criteria; neighbours never confused."""

import pytest

VARIANTS = [
    ("Thông tin chỉ đạo, điều hành", "chi-dao-dieu-hanh"),
    ("Chỉ đạo điều hành", "chi-dao-dieu-hanh"),
    ("Chỉ đạo - Điều hành", "chi-dao-dieu-hanh"),
    ("Văn bản chỉ đạo điều hành", "chi-dao-dieu-hanh"),
    ("Tin chỉ đạo điều hành", "chi-dao-dieu-hanh"),
    ("CHỈ ĐẠO ĐIỀU HÀNH", "chi-dao-dieu-hanh"),
    ("Chi dao dieu hanh", "chi-dao-dieu-hanh"),
    ("Điều hành - Chỉ đạo của UBND", "chi-dao-dieu-hanh"),
    ("Lịch công tác", "chi-dao-dieu-hanh"),
    ("Giới thiệu", "gioi-thieu"),
    ("Giới thiệu chung", "gioi-thieu"),
    ("Chức năng, nhiệm vụ", "gioi-thieu"),
    ("Cơ cấu tổ chức", "gioi-thieu"),
    ("Tổ chức bộ máy", "gioi-thieu"),
    ("Lãnh đạo Sở", "gioi-thieu"),
    ("Tin tức", "tin-tuc-su-kien"),
    ("Tin tức - Sự kiện", "tin-tuc-su-kien"),
    ("Tin hoạt động", "tin-tuc-su-kien"),
    ("Hoạt động của Sở", "tin-tuc-su-kien"),
    ("Phổ biến, giáo dục pháp luật", "pho-bien-phap-luat"),
    ("Tuyên truyền pháp luật", "pho-bien-phap-luat"),
    ("Hướng dẫn thực hiện pháp luật", "pho-bien-phap-luat"),
    ("Quy hoạch - Kế hoạch", "chien-luoc-quy-hoach"),
    ("Chiến lược, quy hoạch, kế hoạch", "chien-luoc-quy-hoach"),
    ("Quy hoạch phát triển", "chien-luoc-quy-hoach"),
    ("Văn bản quy phạm pháp luật", "van-ban-phap-luat"),
    ("Văn bản QPPL", "van-ban-phap-luat"),
    ("Văn bản pháp luật", "van-ban-phap-luat"),
    ("Hệ thống văn bản", "van-ban-phap-luat"),
    ("Dự án đầu tư", "du-an-dau-tu"),
    ("Thông tin đấu thầu", "du-an-dau-tu"),
    ("Đấu thầu - Mua sắm công", "du-an-dau-tu"),
    ("Dự án, hạng mục đầu tư", "du-an-dau-tu"),
    ("Khoa học - Công nghệ", "khoa-hoc-cong-nghe"),
    ("Đề tài nghiên cứu khoa học", "khoa-hoc-cong-nghe"),
    ("Lấy ý kiến dự thảo", "lay-y-kien"),
    ("Góp ý dự thảo văn bản", "lay-y-kien"),
    ("Dự thảo văn bản", "lay-y-kien"),
    ("Thanh tra", "thanh-tra"),
    ("Giải quyết khiếu nại, tố cáo", "thanh-tra"),
    ("Kết luận thanh tra", "thanh-tra"),
    ("Tiếp công dân", "thanh-tra"),
    ("Hỏi đáp", "hoi-dap"),
    ("Hỏi - Đáp", "hoi-dap"),
    ("Trao đổi - Hỏi đáp", "hoi-dap"),
    ("Hộp thư góp ý", "hoi-dap"),
    ("Dịch vụ công trực tuyến", "dich-vu-cong"),
    ("Thủ tục hành chính", "dich-vu-cong"),
    ("Thống kê", "thong-ke"),
    ("Số liệu thống kê", "thong-ke"),
    ("Báo cáo - Thống kê", "thong-ke"),
    ("Công khai ngân sách", "ngan-sach"),
    ("Công khai tài chính", "ngan-sach"),
    ("Tài chính - Ngân sách", "ngan-sach"),
    ("Công khai tài chính - ngân sách", "ngan-sach"),
]

NOT_A_CATEGORY = ["Trang chủ", "Tin mới", "Tin đọc nhiều", "Thông báo", "Liên kết website", "Văn bản mới",
                  "Sở Tư pháp tỉnh Cao Bằng", ""]


@pytest.mark.parametrize("label,criterion", VARIANTS)
def test_portal_wordings_name_their_criterion(matcher, label, criterion):
    assert matcher.match(label)[0] == criterion


@pytest.mark.parametrize("label", NOT_A_CATEGORY)
def test_chrome_labels_name_no_criterion(matcher, label):
    assert matcher.match(label)[0] is None


@pytest.mark.parametrize("left,right", [
    ("Văn bản chỉ đạo điều hành", "Văn bản quy phạm pháp luật"),
    ("Tin tức", "Tin chỉ đạo điều hành"),
    ("Dự thảo văn bản", "Hệ thống văn bản"),
    ("Góp ý dự thảo văn bản", "Hộp thư góp ý"),
    ("Kế hoạch thanh tra", "Quy hoạch - Kế hoạch"),
])
def test_neighbour_categories_are_told_apart(matcher, left, right):
    assert matcher.match(left)[0] != matcher.match(right)[0]


def test_nfd_text_matches_like_nfc(matcher):
    import unicodedata
    assert matcher.match(unicodedata.normalize("NFD", "Thông tin chỉ đạo, điều hành"))[0] == "chi-dao-dieu-hanh"


def test_a_sentence_is_not_a_category_label(matcher):
    title = "Chỉ đạo điều hành của UBND tỉnh về việc tăng cường công tác phòng chống dịch bệnh trên đàn gia súc năm 2018"
    assert matcher.match(title)[0] is None
