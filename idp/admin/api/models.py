"""Request and response bodies of the administration API (``/api/admin``)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from idp.admin.people.records import Child  # a plain dataclass: pydantic documents it as is


class PeopleKind(enum.StrEnum):
    pupils = "pupils"
    guardians = "guardians"


class StateFilter(enum.StrEnum):
    not_created = "not_created"
    notified = "notified"
    active = "active"
    locked = "locked"
    disabled = "disabled"
    expired = "expired"


class RouteFilter(enum.StrEnum):
    letter = "letter"
    sms = "sms"
    franceconnect = "franceconnect"


class Assignment(BaseModel):
    role: str
    scope: list[str]


class Me(BaseModel):
    username: str
    name: str
    roles: list[Assignment]


class PersonSummary(BaseModel):
    kind: Literal["pupil", "guardian"]
    id: str
    given_name: str
    family_name: str
    school_uai: str | None = Field(description="The pupil's school (pupils only).")
    level: str | None = None
    class_name: str | None = None
    state: StateFilter = Field(description="Account state; `not_created` when there is no account.")
    email: str | None
    activation_route: RouteFilter | None
    has_account: bool
    children: list[Child] = Field(
        default_factory=list, description="Guardians: their children in your schools."
    )


class PeoplePage(BaseModel):
    items: list[PersonSummary]
    total: int
    page: int
    pages: int


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    state: str
    activation_route: str | None
    email: str | None
    email_verified: bool
    notified_at: datetime | None
    notification_expires_at: datetime | None
    activated_at: datetime | None
    last_login_at: datetime | None
    locked_until: datetime | None


class Event(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    event: str
    actor_role: str | None
    target_type: str | None
    target_id: str | None
    school_uai: str | None
    detail: dict | None


class PersonDetail(BaseModel):
    person: PersonSummary
    account: AccountOut | None
    history: list[Event]


class LettersBatch(BaseModel):
    id: str
    count: int
    pdf_url: str
    csv_url: str
    expires_at: datetime


class Credential(BaseModel):
    kind: Literal["pupil", "guardian"]
    given_name: str
    family_name: str
    username: str
    temporary_password: str
    valid_until: date


class Issued(BaseModel):
    credentials: list[Credential]
    letters: LettersBatch


class NotifySchool(BaseModel):
    """Notify everyone of the school without an account, or of one class: all or nothing."""

    model_config = ConfigDict(extra="forbid")

    class_name: str | None = Field(
        None, min_length=1, max_length=60, description="Only this class."
    )


class Identifier(BaseModel):
    username: str


class Done(BaseModel):
    state: str


class Counts(BaseModel):
    not_created: int
    notified: int
    active: int
    expired: int
    locked: int
    disabled: int
    total: int
    activation_rate: float


class StatsRow(BaseModel):
    uai: str
    label: str
    level: str | None
    pupils: Counts
    guardians: Counts


class WeekPoint(BaseModel):
    week: date
    pupils: int
    guardians: int


class Statistics(BaseModel):
    title: str
    rows_are: Literal["class", "school"]
    rows: list[StatsRow]
    total: StatsRow
    routes: dict[str, dict[str, int]]
    timeline: list[WeekPoint]


class Report(BaseModel):
    id: str
    school_uai: str
    pupil_id: str
    guardian_id: str
    status: str
    created_at: datetime
    resolved_at: datetime | None


class ReportDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["confirmed", "dismissed"] = Field(
        description="`confirmed`: the link was wrong and is being corrected in ONDE/SIECLE; "
        "`dismissed`: the link is right."
    )
