"""The console keeps the scored reading of the run it shows while nothing that reading depends on changed,
and reads again after an override, a withdrawal or a newer finished run."""

import datetime as dt

from tests.console.conftest import make_console_db
from tests.verifier.builders import copy_run
from verifier import api
from verifier.console.actions import current_audit
from verifier.store import open_db

AT = dt.datetime(2018, 12, 5, 3, 0, tzinfo=dt.UTC)


def test_a_reading_is_kept_until_an_override_or_a_newer_run_changes_it(tmp_path):
    db = open_db(make_console_db(tmp_path))
    first = current_audit(db)
    assert current_audit(db) is first
    saved = api.apply_override(db, "so-tu-phap", "chi-dao-dieu-hanh", "fail", "Không có bài", "duyet", now=AT)
    overridden = current_audit(db)
    assert overridden is not first and overridden.override("so-tu-phap", "chi-dao-dieu-hanh").override.status == "fail"
    assert current_audit(db) is overridden
    api.withdraw_override(db, saved.override.id, "duyet", "Nhầm", now=AT)
    withdrawn = current_audit(db)
    assert withdrawn is not overridden and withdrawn.override("so-tu-phap", "chi-dao-dieu-hanh") is None
    run_id = copy_run(db, first.run_id)                      # a newer finished run
    assert run_id != first.run_id and current_audit(db).run_id == run_id
