import pytest

from verifier.errors import RulebookError, UnknownCriterion
from verifier.rulebook import WEBSITE_CRITERIA, load_rulebook


def test_default_rulebook_has_every_website_criterion(rulebook):
    assert rulebook.year == 2018 and str(rulebook.deadline) == "2018-11-26"
    assert {c.id for c in rulebook.website_criteria()} == set(WEBSITE_CRITERIA)
    assert set(rulebook.groups) >= {"so", "huyen"}
    assert all(c.points > 0 and c.aliases for c in rulebook.website_criteria())


def test_unknown_criterion_names_the_known_ones(rulebook):
    with pytest.raises(UnknownCriterion) as exc:
        rulebook.criterion("chi-dao")
    assert "chi-dao-dieu-hanh" in str(exc.value)


def _write(tmp_path, text):
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_broken_yaml_names_the_file(tmp_path):
    path = _write(tmp_path, "year: [2018\n")
    with pytest.raises(RulebookError) as exc:
        load_rulebook(path)
    assert str(path) in str(exc.value) and "YAML" in str(exc.value)


def test_bad_key_is_named_with_the_criterion_id(tmp_path):
    good = load_rulebook().source
    text = open(good, encoding="utf-8").read().replace("    points: 5\n", "    points: lots\n", 1)
    path = _write(tmp_path, text)
    with pytest.raises(RulebookError) as exc:
        load_rulebook(path)
    assert "criteria[" in str(exc.value) and "points" in str(exc.value)


def test_unknown_group_in_a_criterion_is_refused(tmp_path):
    text = open(load_rulebook().source, encoding="utf-8").read().replace("groups: [so, huyen]", "groups: [so, xa]", 1)
    with pytest.raises(RulebookError) as exc:
        load_rulebook(_write(tmp_path, text))
    assert "xa" in str(exc.value)


def test_missing_file(tmp_path):
    with pytest.raises(RulebookError) as exc:
        load_rulebook(tmp_path / "nope.yaml")
    assert "not found" in str(exc.value)


BAD_CONTENT = {   # an edit of gioi-thieu's content rule -> the words the error must carry
    "unknown detector": (("        detector: phone\n", "        detector: fax\n"), "requires[dien-thoai].detector"),
    "unknown field": (("        detector: phone\n", "        detector: phone\n        weight: 2\n"),
                      "requires[dien-thoai].weight"),
    "empty phrases": (("detector: {phrases: [cơ cấu tổ chức, tổ chức bộ máy, sơ đồ tổ chức, các phòng chuyên môn]}",
                       "detector: {phrases: []}"), "requires[co-cau-to-chuc].detector"),
    "too many required": (("    min_required: 5\n", "    min_required: 7\n"), "min_required 7 is more than the 6"),
    "unknown freshness": (("    freshness: not_required\n", "    freshness: sometimes\n"), "freshness"),
    "requires without not_required": (("    freshness: not_required\n", ""), "only used with freshness"),
    "duplicate check id": (("      - id: thu-dien-tu\n", "      - id: dien-thoai\n"), "its own id"),
}


@pytest.mark.parametrize("edit,want", BAD_CONTENT.values(), ids=BAD_CONTENT)
def test_a_bad_content_rule_is_named(tmp_path, edit, want):
    text = open(load_rulebook().source, encoding="utf-8").read()
    assert edit[0] in text
    with pytest.raises(RulebookError) as exc:
        load_rulebook(_write(tmp_path, text.replace(edit[0], edit[1], 1)))
    assert want in str(exc.value) and "criteria[gioi-thieu]" in str(exc.value)


def test_not_required_freshness_needs_its_checks(tmp_path):
    text = open(load_rulebook().source, encoding="utf-8").read()
    start = text.index("    requires:\n")
    end = text.index("    min_required: 5\n") + len("    min_required: 5\n")
    with pytest.raises(RulebookError) as exc:
        load_rulebook(_write(tmp_path, text[:start] + text[end:]))
    assert "needs `requires`" in str(exc.value)


def test_the_introduction_is_judged_by_its_legal_content(rulebook):
    rule = rulebook.criterion("gioi-thieu").content_rule
    assert [(c.id, c.detector) for c in rule.checks] == [
        ("chuc-nang-nhiem-vu", "phrases"), ("co-cau-to-chuc", "phrases"), ("lanh-dao", "person_with_title"),
        ("dia-chi", "address"), ("dien-thoai", "phone"), ("thu-dien-tu", "email")]
    assert rule.min_required == 5
    assert all(c.content_rule is None for c in rulebook.website_criteria() if c.id != "gioi-thieu")
