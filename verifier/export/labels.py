"""Vietnamese wording of the reports sent to agencies (statuses, reasons, headings). Data, not logic."""

from __future__ import annotations

import datetime as dt

from crawler.dates import local_time  # noqa: F401  (labels.local_time: the name the exports use)

STATUS = {
    "pass": "Đạt",
    "fail": "Không đạt",
    "review": "Cần xem xét",
    "exempt": "Miễn (không áp dụng)",
}
# A reported figure that was accepted is "scored", not "passed": it may earn 0 points (a "Không").
STATUS_SCORED = "Đã chấm điểm"

REASON = {
    "ok": "Đúng chuyên mục, có bài viết trong kỳ đánh giá",
    "not_applicable": "Không áp dụng (có giải trình)",
    "not_applicable_unexplained": "Đánh dấu không áp dụng nhưng không giải trình",
    "no_link": "Không cung cấp đường dẫn và không tìm thấy chuyên mục trên cổng",
    "off_site": "Đường dẫn không thuộc cổng/trang thông tin điện tử của đơn vị",
    "unreachable": "Không truy cập được trang",
    "not_found": "Không tìm thấy trang (lỗi 404 hoặc trang báo lỗi)",
    "wrong_category": "Không đúng chuyên mục",
    "no_posts_in_year": "Không có bài viết trong kỳ đánh giá",
    "undated": "Không xác định được ngày đăng bài",
    "robots_disallowed": "Tệp robots.txt không cho phép kiểm tra",
    "legacy_encoding": "Trang dùng bảng mã cũ (TCVN3, VNI), không phải Unicode: cần người xem xét",
    "missing_content": "Trang thiếu nội dung bắt buộc",
    "blocked": "Tường lửa của cổng chặn công cụ kiểm tra: cần người xem bằng trình duyệt",
    "items_missing": "Có mục trong danh mục chưa được đăng trên cổng",
    "items_unread": "Không đọc được trang để tìm các mục trong danh mục",
    "no_items": "Không kê khai mục nào trong danh mục",
    "content_ok": "Trang có đủ nội dung bắt buộc",
    "not_agency_page": "Trang không phải của đơn vị (danh sách chung hoặc của đơn vị khác)",
    "scored": "Chấm điểm theo số liệu báo cáo",
    "blank": "Bỏ trống",
    "logic_check": "Số liệu không hợp lệ (kiểm tra logic)",
    "not_checked": "Chưa kiểm tra trong lần này",
}

NOT_RANKED = {
    "late": "Nộp phiếu sau thời hạn",
    "no_form": "Không nộp phiếu",
}

KIND = {"website": "Trang thông tin điện tử", "reported": "Số liệu báo cáo", "listed": "Danh mục công bố trên cổng"}
# A listed criterion's item, as the reports say it was seen.
ITEM_STATUS = {"found": "Đã đăng trên cổng", "not_found": "Không tìm thấy trên cổng"}
WEBSITE_SECTION = "Cổng/Trang thông tin điện tử"

PURPOSE = {"listing": "Trang chuyên mục", "article": "Bài viết", "feed": "RSS/Atom", "home": "Trang chủ",
           "related": "Trang cùng chuyên mục (đọc nội dung)", "search": "Trang tìm kiếm của cổng",
           "item": "Đường dẫn của mục trong danh mục"}

# What a page was taken for (crawler.records.PageReading.kind), as the reports name it.
PAGE_KIND = {
    "listing": "Trang danh sách bài viết",
    "article": "Bài viết",
    "home": "Trang chủ",
    "error": "Trang lỗi",
    "page": "Trang nội dung",
}
# Where a post's date was read (crawler.records.Post.date_source).
DATE_SOURCE = {
    "listing": "Danh sách bài viết",
    "time": "Danh sách bài viết (thẻ thời gian)",
    "article": "Trang bài viết",
    "feed": "RSS/Atom",
    "meta": "Thông tin mô tả của trang",
    "jsonld": "Dữ liệu có cấu trúc của trang",
    "page": "Nội dung trang",
}
# How it was read there, after the colon of a compound source ("article:meta": the article page's meta tags).
DATE_HOW = {"meta": "thông tin mô tả", "jsonld": "dữ liệu có cấu trúc", "time": "thẻ thời gian",
            "article": "nội dung bài", "page": "nội dung trang", "updated": "ngày cập nhật"}

TITLE = "Kết quả đánh giá mức độ ứng dụng công nghệ thông tin"
RANKING = "Xếp hạng"
AGENCY = "Đơn vị"
AGENCY_ID = "Mã đơn vị"
SCORE = "Điểm"
MAX_SCORE = "Điểm tối đa"
PERCENT = "Tỷ lệ (%)"
LEVEL = "Xếp loại"
CRITERION = "Tiêu chí"
CRITERION_ID = "Mã tiêu chí"
RESULT = "Kết quả"
REASON_HEAD = "Lý do"
REPORTED = "Đơn vị báo cáo"
FOUND = "Kết quả kiểm tra"
EVIDENCE = "Bằng chứng"
PAGES = "Trang đã kiểm tra"
POSTS = "Bài viết trong năm"
POSTS_LIST = "Bài viết đã đọc"
OVERRIDE = "Điều chỉnh của người thẩm định"
CONFIRMATION = "Phiếu xác nhận"
NOT_RANKED_HEAD = "Không xếp hạng"
REVIEW_QUEUE = "Danh sách cần xem xét"
CHECKED_AT = "Thời điểm kiểm tra"
CHECKED_URL = "Đường dẫn đã kiểm tra"
DISCOVERED = "Tìm qua menu của cổng"
NOTE = "Ghi chú"
TOTAL = "Tổng cộng"
PERIOD = "Kỳ đánh giá"
GENERATED = "Lập lúc"
RULEBOOK = "Bộ tiêu chí"
GROUP = "Nhóm"
DETAIL = "Chi tiết kỹ thuật"
HINT = "Lý do và cách khắc phục"
TO_FIX = "Các tiêu chí cần khắc phục"
TIME_NOTE = "Giờ Việt Nam, UTC+07:00"
LEVELS = "Thang xếp loại"
RANKING_PAGE = "Bảng xếp hạng (in trên khổ A4)"
IN_PERIOD = "Trong kỳ"
PRINT_EVIDENCE = "Bằng chứng chi tiết của từng tiêu chí (trang đã lưu, bài viết đọc được): xem bản điện tử của báo cáo."
MACHINE_CHANGED = "Kết quả kiểm tra tự động đã thay đổi kể từ khi điều chỉnh"
YES, NO = "Có", "Không"
# The content checks of a page judged by its content (an introduction), found and missing.
CONTENT_FOUND = "Nội dung bắt buộc có trên trang"
CONTENT_MISSING = "Nội dung bắt buộc còn thiếu"
CONTENT_CHECK = "Nội dung bắt buộc"
CONTENT_PAGE = "Trang có nội dung"
CONTENT_EXCERPT = "Đoạn trích trên trang"


def content_found(verdict) -> str:
    """The labels of the content checks the verdict's page carries, '; '-separated ('' for none)."""
    return "; ".join(c.label for c in verdict.content_checks if c.found)


def content_missing(verdict) -> str:
    return "; ".join(c.label for c in verdict.content_checks if not c.found)

# The provenance of a run (verifier.provenance), as the HTML footer and the workbook show it.
RUN_INFO = "Thông tin lần chạy"
RUN = "Lần chạy"
TOOL = "Công cụ"
VERSION = "Phiên bản"
COMMAND = "Lệnh chạy"
USER_AGENT = "User-Agent"
PROXY = "Qua proxy"
ROBOTS = "robots.txt"
ROBOTS_POLICY = {"obeyed": "tuân thủ", "ignored": "bỏ qua"}
ALLOW_PRIVATE = "Địa chỉ nội bộ"
ALLOW_PRIVATE_VALUE = {True: "cho phép (chỉ dùng cho bản trình diễn, kiểm thử)", False: "không truy cập"}
STARTED = "Bắt đầu"
FINISHED = "Kết thúc"
NOT_FINISHED = "chưa kết thúc"
UNKNOWN = "không rõ"


def status_label(status: str, reason: str | None = None) -> str:
    if status == "pass" and reason == "scored":
        return STATUS_SCORED
    return STATUS.get(status, status)


def reason_label(reason: str | None) -> str:
    return REASON.get(reason or "", reason or "")


def kind_label(kind: str | None) -> str:
    """A page kind in words ('' when none was read)."""
    return PAGE_KIND.get(kind or "", kind or "")


def date_source_label(source: str | None) -> str:
    """Where a post's date was read, in words: "listing", "article:meta" (the article page, its meta tags),
    "listing+article:updated" (the listing, and the update date from the article page)."""
    out = []
    for piece in (source or "").split("+"):
        where, _, how = piece.partition(":")
        text = DATE_SOURCE.get(where, where)
        if how and how != where:
            text += f" ({DATE_HOW.get(how, how)})"
        if text and text not in out:
            out.append(text)
    return "; ".join(out)


def error_label(error: str | None) -> str:
    """A fetch error code ("timeout", "dns", ...) in words, from the hint texts (verifier/export/hints)."""
    from verifier.export.hints import error_words  # hints reads this module: imported when first asked
    return error_words(error)


def level_legend(levels, maximum: float | None = None) -> list[tuple[str, str]]:
    """(level, its threshold in words) from the highest level down: "từ 85% trở lên", "từ 70% đến dưới 85%",
    "dưới 50%"; with the points of `maximum` when given."""
    out, upper = [], None
    for level in sorted(levels, key=lambda lv: -lv.min):
        low = f"{vn_number(level.min)}%"
        if maximum is not None:
            low += f" ({vn_number(maximum * level.min / 100)} điểm)"
        if upper is None:
            out.append((level.name, f"từ {low} trở lên"))
        elif level.min <= 0:
            out.append((level.name, f"dưới {vn_number(upper)}%"))
        else:
            out.append((level.name, f"từ {low} đến dưới {vn_number(upper)}%"))
        upper = level.min
    return out


def not_ranked_label(score, deadline) -> str:
    """Why an agency is not ranked, in words: late (with the dates) or no form."""
    label = NOT_RANKED.get(score.not_ranked_reason or "", score.not_ranked_reason or "")
    if score.not_ranked_reason == "late" and score.submitted_at:
        label += f" (nộp ngày {vn_date(score.submitted_at)}, hạn {vn_date(deadline)})"
    return label


def vn_date(value) -> str:
    """dd/mm/yyyy, as Vietnamese documents write dates."""
    return value.strftime("%d/%m/%Y") if value else ""


VN_OFFSET = "+07:00"


def vn_datetime(value) -> str:
    """dd/mm/yyyy HH:MM in the province's time (+07:00), as every time in the reports is shown."""
    if not value:
        return ""
    return local_time(value).strftime("%d/%m/%Y %H:%M")


def vn_moment(value) -> str:
    """dd/mm/yyyy HH:MM:SS +07:00: a run's start or end, to the second and with its offset.
    `value` is a datetime or an ISO 8601 text; a text that is no time is shown as it is."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return local_time(value).strftime("%d/%m/%Y %H:%M:%S ") + VN_OFFSET


def vn_number(x: float | None) -> str:
    """1234.5 -> '1234,5' (Vietnamese decimal comma); None -> ''."""
    if x is None:
        return ""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")
