"""From the services' values to the API's response bodies."""

from __future__ import annotations

from idp.accounts.models import AccountKind
from idp.admin.api import models as m
from idp.admin.people.records import Person
from idp.admin.stats.figures import STATES, Counts, Row

KIND = {m.PeopleKind.pupils: AccountKind.pupil, m.PeopleKind.guardians: AccountKind.guardian}
NOT_FOUND = {404: {"description": "Unknown, or outside your schools."}}


def person_out(p: Person) -> m.PersonSummary:
    return m.PersonSummary(
        kind=p.kind.value,
        id=p.id,
        given_name=p.given_name,
        family_name=p.family_name,
        school_uai=p.school_uai,
        level=p.level,
        class_name=p.class_name,
        state=m.StateFilter(p.state),
        email=p.email,
        activation_route=m.RouteFilter(p.route) if p.route else None,
        has_account=p.account_id is not None,
        children=p.children,
    )


def counts_out(c: Counts) -> m.Counts:
    return m.Counts(**{s: c[s] for s in STATES}, total=c.total, activation_rate=round(c.rate, 4))


def row_out(r: Row) -> m.StatsRow:
    return m.StatsRow(
        uai=r.uai,
        label=r.label,
        level=r.level,
        pupils=counts_out(r.pupils),
        guardians=counts_out(r.guardians),
    )
