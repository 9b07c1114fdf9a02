"""Every page of the bench's page sets reads as the stored reading (tests/core_readings.py).

A change to the core that is meant to read a page differently stores the new readings with
`python -m tests.core_readings --write` and says why in its commit; a change for speed keeps them all.
"""

from __future__ import annotations

from tests import core_readings


def test_every_page_of_every_set_reads_as_the_stored_reading():
    assert core_readings.differences(limit=20) == []


def test_the_stored_readings_cover_every_set():
    sets = {line.split('"set": "', 1)[1].split('"', 1)[0] for line in core_readings.stored()}
    assert sets == {"farm", "fixtures", "demo", "lab"}
