"""Scoring and ranking on hand-computed cases.

MINI_RULEBOOK (builders.py), 42 points per group: tin-tuc 10 (graded: 12+ posts full, 1–11 half), chi-dao 5,
thanh-tra 4, staff 0 (the whole), computers 6 (rate of staff), lan 4 (%), dvc 10 (tiers), security 3 (yes/no).
Levels: Tốt 85, Khá 70, Trung bình 50, Yếu 0. Deadline 2018-11-26.
"""

import datetime as dt

import pytest

from crawler.records import Post
from verifier.export.audit import load_run
from verifier.intake import Report
from verifier.overrides import Override, OverrideView
from verifier.rulebook import load_rulebook
from verifier.score import (
    AgencyInfo,
    competition_ranks,
    level_for,
    ranking_order,
    score_agencies,
    score_run,
    website_points,
)
from verifier.store import open_db

from .builders import MINI_MAX, build_province, mini_rulebook_path, posts_in, website

UTC = dt.UTC
ON_TIME, LATE = dt.date(2018, 11, 20), dt.date(2018, 11, 27)


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    return load_rulebook(mini_rulebook_path(tmp_path_factory.mktemp("rules")))


def form(agency_id, submitted=ON_TIME, **values) -> list[Report]:
    """A filled form: website criteria get a link, reported ones the value given (None: not applicable)."""
    out = []
    for criterion in ("tin-tuc", "chi-dao", "thanh-tra"):
        out.append(Report(agency_id, criterion, f"https://{agency_id}.gov.vn/{criterion}", "", False, "", submitted))
    for criterion, value in values.items():
        na = value is None
        out.append(Report(agency_id, criterion, "", "" if na else value, na, "Không có" if na else "", submitted))
    return out


GOOD = dict(staff="40", computers="30", lan="85,5", dvc="12", security="Có")


def points_of(score):
    return {cp.criterion: cp.points for cp in score.points}


def test_each_verdict_kind_earns_its_points(mini):
    """pass and exempt earn, fail earns 0, review earns nothing and is pending; figures by their formula."""
    verdicts = [website("so-a", "tin-tuc", "pass", "ok", posts=posts_in(14)),
                website("so-a", "chi-dao", "exempt", "not_applicable", url=""),
                website("so-a", "thanh-tra", "fail", "no_posts_in_year", posts_in_year=0)]
    [a] = score_agencies(mini, [AgencyInfo("so-a", "Sở A", "so")], form("so-a", **GOOD), verdicts)
    assert points_of(a) == {"tin-tuc": 10, "chi-dao": 5, "thanh-tra": 0, "staff": 0,
                            "computers": 4.5,      # 30/40 × 6
                            "lan": 3.42,           # 85.5% × 4
                            "dvc": 7,              # 12 reaches the tier from 10
                            "security": 3}
    assert a.score == a.total == 32.92 and a.max_score == MINI_MAX == 42
    assert a.percent == 78.38 and a.level == "Khá" and a.rank == 1 and a.pending == 0


def test_review_verdicts_score_nothing_and_are_counted_as_pending(mini):
    verdicts = [website("so-b", "tin-tuc", "pass", "ok", posts=posts_in(5)),
                website("so-b", "chi-dao", "review", "undated", posts=(Post("Lịch công tác", "https://b/1"),),
                        posts_in_year=0),
                website("so-b", "thanh-tra", "pass", "ok", posts=posts_in(1))]
    reports = form("so-b", staff="20", computers="25", lan="120", dvc="3", security="Không")
    [b] = score_agencies(mini, [AgencyInfo("so-b", "Sở B", "so")], reports, verdicts)
    by = {cp.criterion: cp for cp in b.points}
    assert points_of(b) == {"tin-tuc": 5, "chi-dao": 0, "thanh-tra": 4, "staff": 0, "computers": 0, "lan": 0,
                            "dvc": 2, "security": 0}
    assert [c for c, cp in by.items() if cp.pending] == ["chi-dao", "computers", "lan"]
    assert by["computers"].reason == by["lan"].reason == "logic_check"
    assert "until a reviewer decides" in by["chi-dao"].basis
    assert b.score == 11 and b.pending == 3 and b.level == "Yếu"      # 11/42 = 26.19%


@pytest.mark.parametrize("posts,points", [(30, 10), (12, 10), (11, 5), (1, 5), (None, 10)])
def test_graded_website_points(mini, posts, points):
    assert website_points(mini.criterion("tin-tuc"), posts)[0] == points


def test_graded_points_of_the_real_rulebook(rulebook):
    assert website_points(rulebook.criterion("chi-dao-dieu-hanh"), 2)[0] == 2       # 0.4 × 5
    assert website_points(rulebook.criterion("pho-bien-phap-luat"), 5)[0] == 3      # 0.5 × 6
    assert website_points(rulebook.criterion("gioi-thieu"), 1)[0] == 3              # not graded: full


def test_ungraded_pass_is_full_points_whatever_the_count(mini):
    [a] = score_agencies(mini, [AgencyInfo("so-a", "Sở A", "so")], form("so-a", **GOOD),
                         [website("so-a", "chi-dao", "pass", "ok", posts=posts_in(1))])
    assert points_of(a)["chi-dao"] == 5


@pytest.mark.parametrize("percent,level", [(100, "Tốt"), (85, "Tốt"), (84.99, "Khá"), (70, "Khá"),
                                           (69.99, "Trung bình"), (50, "Trung bình"), (49.99, "Yếu"), (0, "Yếu")])
def test_levels_by_share_of_the_maximum(mini, percent, level):
    assert level_for(percent, mini) == level


def test_competition_ranking_ties_share_a_rank_and_the_next_skips():
    assert competition_ranks({"a": 10, "b": 8, "c": 8, "d": 5}) == {"a": 1, "b": 2, "c": 2, "d": 4}
    assert competition_ranks({"a": 7.5, "b": 7.5}) == {"a": 1, "b": 1}


def _agencies(*ids, group="so"):
    return [AgencyInfo(i, i.upper(), group) for i in ids]


def _passing(agency_id, n):
    return [website(agency_id, "tin-tuc", "pass", "ok", posts=posts_in(n)),
            website(agency_id, "chi-dao", "pass", "ok", posts=posts_in(2)),
            website(agency_id, "thanh-tra", "pass", "ok", posts=posts_in(2))]


def test_ties_share_a_rank_within_a_group_and_groups_rank_apart(mini):
    agencies = _agencies("so-a", "so-b", "so-c") + _agencies("h-a", group="huyen")
    reports = [r for a in agencies for r in form(a.agency_id, **GOOD)]
    verdicts = _passing("so-a", 3) + _passing("so-b", 14) + _passing("so-c", 3) + _passing("h-a", 3)
    scores = {s.agency_id: s for s in score_agencies(mini, agencies, reports, verdicts)}
    assert scores["so-b"].score == 32.92 + 4 and scores["so-a"].score == scores["so-c"].score == 27.92 + 4
    assert {k: s.rank for k, s in scores.items()} == {"so-b": 1, "so-a": 2, "so-c": 2, "h-a": 1}
    assert [s.agency_id for s in ranking_order(s for s in scores.values() if s.group == "so")] == [
        "so-b", "so-a", "so-c"]


def test_a_late_form_and_a_missing_form_are_not_ranked_with_the_reason(mini):
    agencies = _agencies("so-a", "so-late", "so-none", "so-b")
    reports = form("so-a", **GOOD) + form("so-late", LATE, **GOOD) + form("so-b", **GOOD)
    verdicts = _passing("so-a", 3) + _passing("so-late", 14) + _passing("so-b", 1)
    scores = {s.agency_id: s for s in score_agencies(mini, agencies, reports, verdicts)}
    late, none = scores["so-late"], scores["so-none"]
    assert (late.ranked, late.late, late.not_ranked_reason) == (False, True, "late")
    assert "2018-11-27" in late.not_ranked_detail and "2018-11-26" in late.not_ranked_detail
    assert late.score is None and late.rank is None and late.level is None
    assert late.total == 36.92                   # its points are still shown, just not ranked
    assert (none.ranked, none.late, none.not_ranked_reason, none.not_ranked_detail) == (
        False, False, "no_form", "no form received")
    assert none.points == () and none.score is None
    # the best score is late, so the ranked agencies start at 1 without a gap
    assert scores["so-a"].rank == 1 and scores["so-b"].rank == 1
    assert [s.agency_id for s in ranking_order(scores.values())][-2:] == ["so-late", "so-none"]


def test_a_form_on_the_deadline_day_is_on_time(mini):
    [a] = score_agencies(mini, _agencies("so-a"), form("so-a", dt.date(2018, 11, 26), **GOOD), _passing("so-a", 1))
    assert a.ranked and not a.late


def test_missing_rows_are_blank_and_unchecked_links_are_pending(mini):
    reports = [Report("so-a", "tin-tuc", "https://a/tin", "", False, "", ON_TIME),
               Report("so-a", "lan", "", "50", False, "", ON_TIME)]
    [a] = score_agencies(mini, _agencies("so-a"), reports, [website("so-a", "tin-tuc", "pass", "ok",
                                                                    posts=posts_in(12))])
    by = {cp.criterion: cp for cp in a.points}
    assert (by["security"].status, by["security"].reason, by["security"].points) == ("fail", "blank", 0)
    assert (by["chi-dao"].status, by["chi-dao"].reason, by["chi-dao"].pending) == ("review", "not_checked", True)
    assert a.score == 12      # 10 + 50% × 4


def _override(agency, criterion, status, machine=("review", "undated")):
    o = Override(1, agency, criterion, status, "Đã kiểm tra trực tiếp", "Nguyễn Văn A",
                 dt.datetime(2018, 12, 2, tzinfo=UTC), 1, *machine)
    return OverrideView(o, *machine, (o,))


@pytest.mark.parametrize("status,points,pending", [("pass", 5, False), ("exempt", 5, False), ("fail", 0, False),
                                                   ("review", 0, True)])
def test_a_review_verdict_scores_once_a_reviewer_decides(mini, status, points, pending):
    verdicts = [v for v in _passing("so-a", 1) if v.criterion != "chi-dao"] + [
        website("so-a", "chi-dao", "review", "undated", posts=(Post("Lịch", "https://a/1"),), posts_in_year=0)]
    before = score_agencies(mini, _agencies("so-a"), form("so-a", **GOOD), verdicts)[0]
    after = score_agencies(mini, _agencies("so-a"), form("so-a", **GOOD), verdicts,
                           {("so-a", "chi-dao"): _override("so-a", "chi-dao", status)})[0]
    cp = next(cp for cp in after.points if cp.criterion == "chi-dao")
    assert points_of(before)["chi-dao"] == 0 and before.pending == 1
    assert (cp.points, cp.pending, cp.overridden, cp.status, cp.reason) == (points, pending, True, status, "undated")
    assert "Nguyễn Văn A" in cp.basis
    assert after.score == before.score + points


def test_a_reviewer_passing_a_logic_check_scores_by_the_formula_capped(mini):
    reports = form("so-a", **{**GOOD, "computers": "45"})          # 45 computers for 40 staff
    overrides = {("so-a", "computers"): _override("so-a", "computers", "pass", ("review", "logic_check"))}
    [a] = score_agencies(mini, _agencies("so-a"), reports, _passing("so-a", 1), overrides)
    assert points_of(a)["computers"] == 6                           # 45/40 × 6, capped at 6


def test_the_province_by_hand(tmp_path):
    """build_province over the real rulebook (150 points per group), criterion by criterion."""
    db_path, run_id = build_province(tmp_path, with_warc=False)
    scores = {s.agency_id: s for s in score_run(load_run(open_db(db_path), run_id))}
    # the reported block, identical figures for everyone (GOOD_FIGURES): shared items
    shared = (0 + 36 / 40 * 6 + 1.0 * 4 + 4            # staff, computers, LAN, special network
              + 0.9 * 8 + 0.75 * 6 + 40 / 40 * 3 + 30 / 40 * 5 + 4 + 4   # document system, e-mail, signatures, one-stop
              + 0 + 10 + 6                              # procedures (whole), 24 services (tier 20), 12.5% (tier 10)
              + 4 + 20 / 40 * 4                         # 2 IT staff (tier 2), training
              + 0.8 * 4 + 3 + 0 + 3)                    # antivirus, security rules, backups "Không", IT plan
    so_reported, huyen_reported = shared + 4, shared + 0.85 * 4        # sector database / commune Internet
    #        gioi tin chi pho chien van du  khoa lay thanh hoi dvc thong ngan
    tu_phap = [3, 6, 2, 6, 5, 5, 5, 3, 3, 0, 3, 5, 3, 3]     # 8 news (half), 2 direction (0.4), thanh-tra review
    tttt = [3, 12, 2, 6, 5, 5, 5, 3, 3, 3, 3, 5, 3, 0]       # science exempt (3), budget no posts in year (0)
    district = [3, 12, 2, 6, 5, 0, 5, 3, 3, 3, 3, 5, 3, 3]   # legal documents: wrong category
    assert scores["so-tu-phap"].score == pytest.approx(sum(tu_phap) + so_reported) == 127.05
    assert scores["so-tttt"].score == pytest.approx(sum(tttt) + so_reported) == 133.05
    assert scores["ubnd-hoa-an"].score == scores["ubnd-bao-lac"].score == pytest.approx(
        sum(district) + huyen_reported) == 130.45
    assert {k: (s.rank, s.level) for k, s in scores.items() if s.ranked} == {
        "so-tttt": (1, "Tốt"), "so-tu-phap": (2, "Khá"), "ubnd-hoa-an": (1, "Tốt"), "ubnd-bao-lac": (1, "Tốt")}
    assert scores["so-tu-phap"].pending == 1 and scores["so-tu-phap"].percent == 84.7
    assert scores["so-xay-dung"].not_ranked_reason == "late" and scores["so-y-te"].not_ranked_reason == "no_form"
    assert all(s.max_score == 150 for s in scores.values())
