"""Dates as Vietnamese portals write them, and the numbers that only look like dates."""

import datetime
import unicodedata

import pytest

from crawler.dates import (
    VN_TZ,
    DateMatch,
    find_dates,
    first_date,
    is_bare_year,
    parse_machine_date,
)


def iso_dates(text: str) -> list[str]:
    """The dates find_dates sees in text, as ISO strings."""
    return [match.value.isoformat() for match in find_dates(text)]


# (text, dates expected in order of appearance)
FORMATS = [
    # digits, day first
    ("05/07/2018", ["2018-07-05"]),
    ("05/11/2018", ["2018-11-05"]),
    ("5/7/2018", ["2018-07-05"]),
    ("Ngày đăng: 5/7/2018", ["2018-07-05"]),
    ("05-07-2018 14:30", ["2018-07-05"]),
    ("14:30 05/07/2018", ["2018-07-05"]),
    ("(09/10/2015 15:34:31)", ["2015-10-09"]),
    ("Thứ 5, Ngày 09/01/2020, 22:00", ["2020-01-09"]),
    ("Thứ ba, ngày 23/05/2017 16:13 GMT+7", ["2017-05-23"]),
    ("Cập nhật lúc 08:46, Thứ Năm, 12/07/2018 (GMT+7)", ["2018-07-12"]),
    ("27.8.2014 - 10:45", ["2014-08-27"]),
    ("27.08.2014", ["2014-08-27"]),
    ("Đăng lúc 14h30 ngày 05/07/2018", ["2018-07-05"]),
    ("[05/07/2018]", ["2018-07-05"]),
    ("Tin mới05/07/2018", ["2018-07-05"]),
    ("29/02/2020", ["2020-02-29"]),
    # two-digit years: dd/mm/yy only; 00-69 are 20yy, 70-99 are 19yy
    ("05/07/18", ["2018-07-05"]),
    ("Ngày 31/12/99", ["1999-12-31"]),
    ("01/01/69", ["2069-01-01"]),
    ("01/01/70", []),  # 1970: before min_year
    ("05-07-18", []),  # like a phone number
    # words
    ("Thứ ba, 25 Tháng 1 2022 16:22", ["2022-01-25"]),
    ("ngày 25 tháng 10 năm 2018", ["2018-10-25"]),
    ("Ngày 25 Tháng 10 Năm 2018", ["2018-10-25"]),
    ("NGÀY 25 THÁNG 10 NĂM 2018", ["2018-10-25"]),
    ("Hà Nội, ngày 05 tháng 3 năm 2018", ["2018-03-05"]),
    ("25 tháng 10, 2018", ["2018-10-25"]),
    ("Tháng 10 25, 2018", ["2018-10-25"]),
    ("25 tháng Mười Hai, 2018", ["2018-12-25"]),
    ("ngày 1 tháng Giêng năm 2019", ["2019-01-01"]),
    ("Tháng Năm 25, 2018", ["2018-05-25"]),
    ("ngay 25 thang 10 nam 2018", ["2018-10-25"]),
    # ISO in text
    ("2018-07-05", ["2018-07-05"]),
    ("Ngày xuất bản 2018-07-05 14:30:00", ["2018-07-05"]),
    ("2018-12-31T20:00:00Z", ["2019-01-01"]),
    ("2018-12-31T20:00:00+07:00", ["2018-12-31"]),
    # several dates, in order; a title date counts (the caller decides)
    ("Quyết định số 15/2018/QĐ-UBND ngày 05/3/2018", ["2018-03-05"]),
    ("05/07/2018 14:30 06/07/2018", ["2018-07-05", "2018-07-06"]),
    ("Hôm nay, ngày 20 tháng 2 năm 2019 | Tin: 05/07/2018", ["2019-02-20", "2018-07-05"]),
    # day, month and year apart by spaces, after a weekday
    ("Thứ hai, 05 11 2018", ["2018-11-05"]),
    ("Thứ Năm 12 07 2018 08:46", ["2018-07-12"]),
    ("Thứ hai, 05 11 2018 | 2.345 lượt xem", ["2018-11-05"]),
    # a 12-hour time and a view counter on the date's line
    ("05/07/2018 08:46:12 AM | Lượt xem: 345", ["2018-07-05"]),
    ("26/11/2018 10:15 PM - 1205 lượt xem", ["2018-11-26"]),
    # English interfaces: month names, and the weekday settles the order of "07/05/2018"
    ("November 26, 2018", ["2018-11-26"]),
    ("Posted on Nov 26, 2018 by admin", ["2018-11-26"]),
    ("December 31, 2018 at 11:00 pm", ["2018-12-31"]),
    ("26 November 2018", ["2018-11-26"]),
    ("26th Nov, 2018", ["2018-11-26"]),
    ("Publish date: 26/11/2018", ["2018-11-26"]),
    ("Submitted by admin on Thu, 07/05/2018 - 14:30", ["2018-07-05"]),
    ("Mon, 07/05/2018 - 14:30", ["2018-05-07"]),
    ("Thứ 5, 05/07/2018", ["2018-07-05"]),
]

TRAPS = [
    # three numbers apart by spaces without a weekday; a month and year alone in English
    ("Số 12 05 2018", []),
    ("12 05 2018", []),
    ("Báo cáo tháng May 2018", []),
    ("Remark 5, 2018", []),
    # document numbers
    ("15/2018/QĐ-UBND", []),
    ("Số: 123/2018/NQ-HĐND", []),
    ("Quyết định 1234/QĐ-UBND", []),
    ("Nghị định 42/2022/NĐ-CP", []),
    ("Số 05/07/2018/QĐ-UBND", []),
    ("123/05/2018", []),
    # invalid calendar dates
    ("31/02/2018", []),
    ("13/13/2018", []),
    ("29/02/2019", []),
    ("00/01/2018", []),
    ("05/00/2018", []),
    # years only, copyright lines, ranges
    ("© 2018", []),
    ("Copyright 2015 - 2018", []),
    ("2018", []),
    ("giai đoạn 2016 - 2020", []),
    ("Kế hoạch 2016-2020", []),
    # month and year only: a post date needs a day
    ("Quý I/2018", []),
    ("tháng 5/2018", []),
    ("Tháng 10 năm 2018", []),
    ("25 tháng năm 2018", []),
    # counters, phones, prices, versions, times, percentages
    ("Lượt truy cập: 1.234.567", []),
    ("Đang online: 35", []),
    ("Điện thoại: 0206.3852.234", []),
    ("(0206) 3852 234", []),
    ("0915.123.456", []),
    ("Fax: 08-12-34", []),
    ("10.0.1.2", []),
    ("v2.1.3", []),
    ("05.07.2018.1", []),
    ("14:30", []),
    ("1.200.000 đồng", []),
    ("tăng 12,5% so với 2017", []),
    ("Tỷ lệ đạt 98.5%", []),
    # out of range years
    ("05/07/1890", []),
    ("05/07/2190", []),
    ("", []),
]


@pytest.mark.parametrize(("text", "expected"), FORMATS + TRAPS)
def test_find_dates(text, expected):
    assert iso_dates(text) == expected


@pytest.mark.parametrize(
    ("text", "matched", "has_time", "kind"),
    [
        ("Ngày đăng: 05/07/2018", "05/07/2018", False, "numeric"),
        ("05-07-2018 14:30", "05-07-2018 14:30", True, "numeric"),
        ("14:30 05/07/2018", "14:30 05/07/2018", True, "numeric"),
        ("(09/10/2015 15:34:31)", "09/10/2015 15:34:31", True, "numeric"),
        ("Thứ 5, Ngày 09/01/2020, 22:00", "09/01/2020, 22:00", True, "numeric"),
        (
            "Cập nhật lúc 08:46, Thứ Năm, 12/07/2018 (GMT+7)",
            "08:46, Thứ Năm, 12/07/2018",
            True,
            "numeric",
        ),
        ("27.8.2014 - 10:45", "27.8.2014 - 10:45", True, "numeric"),
        ("Thứ ba, 25 Tháng 1 2022 16:22", "25 Tháng 1 2022 16:22", True, "words"),
        ("Hôm nay, ngày 20 tháng 2 năm 2019.", "ngày 20 tháng 2 năm 2019", False, "words"),
        ("2018-12-31T20:00:00Z", "2018-12-31T20:00:00Z", True, "iso"),
        ("xuất bản 2018-07-05.", "2018-07-05", False, "iso"),
    ],
)
def test_match_text_time_and_kind(text, matched, has_time, kind):
    [match] = find_dates(text)
    assert (match.text, match.has_time, match.kind) == (matched, has_time, kind)
    assert text[match.start : match.end] == match.text


def test_a_time_goes_to_one_date_only():
    first, second = find_dates("05/07/2018 14:30 06/07/2018")
    assert (first.text, first.has_time) == ("05/07/2018 14:30", True)
    assert (second.text, second.has_time) == ("06/07/2018", False)


def test_match_is_a_frozen_record():
    match = find_dates("05/07/2018")[0]
    assert match == DateMatch(datetime.date(2018, 7, 5), 0, 10, "05/07/2018", False, "numeric")
    with pytest.raises(AttributeError):
        match.value = datetime.date(2019, 1, 1)


def test_year_bounds_are_configurable():
    assert iso_dates("05/07/1990") == []
    assert first_date("05/07/1990", min_year=1980) == datetime.date(1990, 7, 5)
    assert find_dates("05/07/2018", max_year=2017) == []


@pytest.mark.parametrize(
    "text",
    [
        "Thứ Năm, ngày 25 tháng 10 năm 2018 14:30",
        "Cập nhật lúc 08:46, Thứ Năm, 12/07/2018 (GMT+7)",
        "Tin hoạt động của Sở Tài nguyên và Môi trường (05/07/2018)",
    ],
)
def test_nfd_input_gives_the_same_dates_and_spans_into_the_input(text):
    decomposed = unicodedata.normalize("NFD", text)
    assert decomposed != text
    nfc_matches = find_dates(text)
    nfd_matches = find_dates(decomposed)
    assert [m.value for m in nfd_matches] == [m.value for m in nfc_matches]
    for nfd_match, nfc_match in zip(nfd_matches, nfc_matches):
        assert decomposed[nfd_match.start : nfd_match.end] == nfd_match.text
        assert unicodedata.normalize("NFC", nfd_match.text) == nfc_match.text
    assert first_date(decomposed) == nfc_matches[0].value


def test_nfd_spans_in_a_long_text():
    sentence = "Tin tức sự kiện của Ủy ban nhân dân tỉnh, ngày 25 tháng 10 năm 2018. "
    text = sentence * 40 + "Đăng ngày 05/07/2018"
    decomposed = unicodedata.normalize("NFD", text)
    matches = find_dates(decomposed)
    assert len(matches) == 41
    assert matches[-1].text == "05/07/2018"
    assert decomposed[matches[-1].start :] == "05/07/2018"
    assert unicodedata.normalize("NFC", matches[0].text) == "ngày 25 tháng 10 năm 2018"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ngày đăng: 05/07/2018 - Cập nhật: 06/07/2018", datetime.date(2018, 7, 5)),
        ("© 2018 Sở TTTT", None),
        ("", None),
        (unicodedata.normalize("NFD", "Ngày 25 Tháng 10 Năm 2018"), datetime.date(2018, 10, 25)),
    ],
)
def test_first_date(text, expected):
    assert first_date(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # ISO 8601: zone converted to Vietnam time, no zone taken as local
        ("2018-12-31T20:00:00Z", "2019-01-01"),
        ("2018-12-31T16:59:59Z", "2018-12-31"),
        ("2018-12-31T20:00:00+07:00", "2018-12-31"),
        ("2018-12-31T20:00:00.000+0000", "2019-01-01"),
        ("2018-12-31T02:00:00-05:00", "2018-12-31"),
        ("2018-12-31T20:00:00", "2018-12-31"),
        ("2018-12-31 20:00:00 +00:00", "2019-01-01"),
        ("2018-12-31", "2018-12-31"),
        ("  2018-07-05  ", "2018-07-05"),
        ("20180705", "2018-07-05"),
        # malformed ISO printed by CMS templates: the calendar date as written
        ("2018-11-26+0708:00:00", "2018-11-26"),
        ("2018-1-6", "2018-01-06"),
        # RFC 822 / 1123 (RSS pubDate)
        ("Mon, 31 Dec 2018 20:00:00 GMT", "2019-01-01"),
        ("Mon, 31 Dec 2018 20:00:00 +0000", "2019-01-01"),
        ("Mon, 31 Dec 2018 20:00:00 +0700", "2018-12-31"),
        ("Mon, 31 Dec 2018 16:00:00 -0500", "2019-01-01"),
        ("Mon, 31 Dec 2018 20:00:00", "2018-12-31"),
        ("Mon, 31 Dec 2018 20:00:00 GMT+7", "2018-12-31"),
        ("31 Dec 2018 20:00:00 GMT", "2019-01-01"),
        # not machine-readable, or no date
        ("garbage", None),
        ("", None),
        (None, None),
        ("2018-13-01", None),
        ("2018-02-30T10:00:00Z", None),
        ("2018-W01-1", None),
        ("2018", None),
        ("05/07/2018", None),
        ("0001-01-01T00:00:00", None),
        ("9999-12-31T23:00:00Z", None),
    ],
)
def test_parse_machine_date(value, expected):
    result = parse_machine_date(value)
    assert (result.isoformat() if result else None) == expected


def test_vietnam_time_zone():
    assert VN_TZ.key == "Asia/Ho_Chi_Minh"
    moment = datetime.datetime(2018, 12, 31, 17, 0, tzinfo=datetime.UTC)
    assert moment.astimezone(VN_TZ).date() == datetime.date(2019, 1, 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2018", True),
        ("© 2018", True),
        ("(c) 2018", True),
        ("Copyright 2015-2018", True),
        ("Copyright 2015 - 2018", True),
        ("Copyright © 2018 Sở Thông tin và Truyền thông tỉnh Lào Cai", True),
        ("Bản quyền thuộc Sở TTTT, năm 2018", True),
        ("Năm 2018", True),
        ("2016 - 2020", True),
        ("05/07/2018", False),
        ("2018-07-05", False),
        ("© 2018 - Cập nhật 05/07/2018", False),
        ("tháng 5/2018", False),
        ("Lượt truy cập: 1.234.567", False),
        ("20188", False),
        ("", False),
    ],
)
def test_is_bare_year(value, expected):
    assert is_bare_year(value) is expected


def test_a_long_page_gives_every_date_once():
    # speed is measured in `make bench`, never asserted here
    chunk = (
        "Quyết định số 15/2018/QĐ-UBND ngày 05/3/2018 về việc ban hành quy chế. "
        "Cập nhật lúc 08:46, Thứ Năm, 12/07/2018 (GMT+7). Lượt truy cập: 1.234.567. "
        "Hôm nay, ngày 20 tháng 2 năm 2019. Điện thoại 0206.3852.234. "
        "Tin tức sự kiện về hoạt động của các sở, ban, ngành trong tháng. "
    )
    repeats = 50_000 // len(chunk)
    found = [m.value.isoformat() for m in find_dates(chunk * repeats)]
    assert found == ["2018-03-05", "2018-07-12", "2019-02-20"] * repeats
