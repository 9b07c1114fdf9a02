"""Reported figures: read as an agency writes them, checked for logic, scored by the rulebook's formula.

Points are worked out by hand from MINI_RULEBOOK (tests/verifier/builders.py):
computers = rate of staff × 6, lan = % × 4, dvc = tiers 20/10/5/1 → 10/7/4/2, security = yes/no × 3.
"""

import datetime as dt

import pytest

from verifier.intake import Report
from verifier.reported import BadFigure, decide_reported, parse_number, parse_yes_no, score_reported
from verifier.rulebook import load_rulebook

from .builders import mini_rulebook_path

CHECKED = dt.datetime(2018, 11, 28, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    return load_rulebook(mini_rulebook_path(tmp_path_factory.mktemp("rules")))


def rows(**values) -> list[Report]:
    """One agency's report rows: criterion=value (None: marked not applicable with a note)."""
    out = []
    for criterion, value in values.items():
        if value is None:
            out.append(Report("so-a", criterion, "", "", True, "Không có nhiệm vụ"))
        else:
            out.append(Report("so-a", criterion, "", value))
    return out


def verdict(rulebook, criterion_id, **values):
    reports = rows(**values)
    report = next((r for r in reports if r.criterion == criterion_id), None)
    return decide_reported("so-a", rulebook.criterion(criterion_id), report, reports, rulebook, CHECKED)


@pytest.mark.parametrize("text,whole,expected", [
    ("85", False, 85.0), ("85%", False, 85.0), ("85,5", False, 85.5), ("85.5 %", False, 85.5),
    ("1.234", True, 1234.0), ("1.234,5", False, 1234.5), ("1,234.5", False, 1234.5), ("1.234.567", False, 1234567.0),
    ("\u00a012 ", False, 12.0),
])
def test_numbers_are_read_the_vietnamese_and_the_english_way(text, whole, expected):
    assert parse_number(text, whole=whole) == expected


@pytest.mark.parametrize("text", ["", "nhiều", "12 người", "1/2", "--3"])
def test_a_value_that_is_not_a_number_is_refused(text):
    with pytest.raises(BadFigure):
        parse_number(text)


@pytest.mark.parametrize("text,expected", [("Có", True), ("có", True), (" x ", True), ("1", True),
                                           ("Không", False), ("chưa có", False), ("0", False)])
def test_yes_no(text, expected):
    assert parse_yes_no(text) is expected


def test_rate_of_a_percentage(mini):
    v = verdict(mini, "lan", lan="85,5")
    assert (v.status, v.reason) == ("pass", "scored")
    points, basis = score_reported(mini.criterion("lan"), "85,5", [], mini)
    assert points == pytest.approx(3.42)          # 85.5% × 4
    assert "85.5%" in basis


def test_rate_of_a_whole_divides_by_the_agencys_own_figure(mini):
    reports = rows(staff="40", computers="30")
    points, basis = score_reported(mini.criterion("computers"), "30", reports, mini)
    assert points == pytest.approx(4.5)           # 30/40 × 6
    assert "30/40" in basis


@pytest.mark.parametrize("value,points", [("25", 10), ("20", 10), ("19", 7), ("10", 7), ("9", 4), ("5", 4),
                                          ("4", 2), ("1", 2), ("0", 0)])
def test_tiers_give_the_points_of_the_highest_tier_reached(mini, value, points):
    assert score_reported(mini.criterion("dvc"), value, [], mini)[0] == points


@pytest.mark.parametrize("value,points", [("Có", 3), ("Không", 0)])
def test_yes_no_gives_full_points_or_none(mini, value, points):
    v = verdict(mini, "security", security=value)
    assert (v.status, v.reason) == ("pass", "scored")     # a "Không" is accepted, it just earns 0
    assert score_reported(mini.criterion("security"), value, [], mini)[0] == points


@pytest.mark.parametrize("criterion,values,problem", [
    ("lan", {"lan": "120"}, "above the maximum 100"),                       # a rate within 0–100
    ("lan", {"lan": "-5"}, "below the minimum 0"),
    ("computers", {"staff": "40", "computers": "45"}, "above staff (40)"),  # a part not above its whole
    ("computers", {"staff": "40", "computers": "30,5"}, "not a whole number"),
    ("computers", {"computers": "30"}, "staff is not reported"),            # no whole to take the rate of
    ("staff", {"staff": "0"}, "below the minimum 1"),
    ("security", {"security": "hình như có"}, "not Có/Không"),
])
def test_a_figure_breaking_a_logic_check_goes_to_review(mini, criterion, values, problem):
    v = verdict(mini, criterion, **values)
    assert (v.status, v.reason) == ("review", "logic_check")
    assert problem in v.detail


def test_a_part_equal_to_its_whole_is_fine(mini):
    v = verdict(mini, "computers", staff="40", computers="40")
    assert (v.status, v.reason) == ("pass", "scored")


def test_blank_value_and_missing_row_fail_with_zero(mini):
    blank = verdict(mini, "lan", lan="")
    missing = verdict(mini, "lan", staff="40")
    assert (blank.status, blank.reason) == (missing.status, missing.reason) == ("fail", "blank")
    assert "no row" in missing.detail and blank.posts_in_year is None


def test_not_applicable_is_exempt_with_a_note_and_review_without(mini):
    exempt = verdict(mini, "security", security=None)
    assert (exempt.status, exempt.reason) == ("exempt", "not_applicable")
    unexplained = decide_reported("so-a", mini.criterion("security"), Report("so-a", "security", "", "", True, ""),
                                  [], mini, CHECKED)
    assert (unexplained.status, unexplained.reason) == ("review", "not_applicable_unexplained")


def test_real_rulebook_second_level_whole(rulebook):
    """thu-cong-vu-su-dung is a rate of the staff, but cannot exceed the mailboxes given out."""
    reports = [Report("so-a", c, "", v) for c, v in
               (("can-bo-cong-chuc", "40"), ("thu-cong-vu-cap", "20"), ("thu-cong-vu-su-dung", "30"))]
    criterion = rulebook.criterion("thu-cong-vu-su-dung")
    v = decide_reported("so-a", criterion, reports[2], reports, rulebook, CHECKED)
    assert (v.status, v.reason) == ("review", "logic_check") and "thu-cong-vu-cap (20)" in v.detail
    ok = [reports[0], reports[1], Report("so-a", "thu-cong-vu-su-dung", "", "16")]
    assert score_reported(criterion, "16", ok, rulebook)[0] == pytest.approx(2.0)    # 16/40 × 5
