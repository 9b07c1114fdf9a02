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
