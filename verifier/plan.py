"""What to verify: every (agency, criterion) of the agency's group, reported or left blank.

An agency that sent no form at all is not verified: it is not scored or ranked (docs/verdicts.md, the
Department's rule), and crawling fourteen blank links of it would only spend the portal's patience."""

from __future__ import annotations

from dataclasses import dataclass

from crawler.records import Item
from verifier.intake import Agency, ListedItem, Report
from verifier.rulebook import Criterion, Rulebook


@dataclass(frozen=True)
class Task:
    agency: Agency
    criterion: Criterion
    report: Report | None        # None: no row for this criterion (counts as left blank)
    items: tuple[Item, ...] = ()  # a listed criterion: the agency's items of that list

    @property
    def url(self) -> str:
        return self.report.url if self.report else ""

    @property
    def key(self) -> tuple[str, str]:
        return self.agency.agency_id, self.criterion.id


def plan_tasks(registry: dict[str, Agency], reports: list[Report], rulebook: Rulebook,
               kind: str = "website", items: list[ListedItem] = ()) -> list[Task]:
    """One task per agency with a form and criterion of `kind` of its group (a listed one: of the agencies it
    names), in registry and rulebook order; a listed task carries the agency's items of that list."""
    by_key = {(r.agency_id, r.criterion): r for r in reports}
    items_of: dict[tuple[str, str], list[Item]] = {}
    for row in items:
        items_of.setdefault((row.agency_id, row.criterion), []).append(row.item)
    with_form = {r.agency_id for r in reports}
    tasks = []
    for agency in registry.values():
        if agency.agency_id not in with_form:
            continue
        for criterion in rulebook.criteria_for(agency.group, agency.agency_id):
            if criterion.kind != kind:
                continue
            key = (agency.agency_id, criterion.id)
            tasks.append(Task(agency, criterion, by_key.get(key), tuple(items_of.get(key, ()))))
    return tasks


def agencies_without_form(registry: dict[str, Agency], reports: list[Report]) -> list[Agency]:
    with_form = {r.agency_id for r in reports}
    return [a for a in registry.values() if a.agency_id not in with_form]
