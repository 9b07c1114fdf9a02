"""What to verify: every (agency, criterion) of the agency's group, reported or left blank."""

from __future__ import annotations

from dataclasses import dataclass

from verifier.intake import Agency, Report
from verifier.rulebook import Criterion, Rulebook


@dataclass(frozen=True)
class Task:
    agency: Agency
    criterion: Criterion
    report: Report | None        # None: no row for this criterion (counts as left blank)

    @property
    def url(self) -> str:
        return self.report.url if self.report else ""

    @property
    def key(self) -> tuple[str, str]:
        return self.agency.agency_id, self.criterion.id


def plan_tasks(registry: dict[str, Agency], reports: list[Report], rulebook: Rulebook) -> list[Task]:
    """One task per agency and website criterion of its group, in registry and rulebook order."""
    by_key = {(r.agency_id, r.criterion): r for r in reports}
    tasks = []
    for agency in registry.values():
        for criterion in rulebook.criteria_for(agency.group):
            if criterion.kind != "website":
                continue
            tasks.append(Task(agency, criterion, by_key.get((agency.agency_id, criterion.id))))
    return tasks
