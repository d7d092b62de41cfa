"""Letters waiting to be printed: credentials just issued, sealed for two hours so that the PDF
and the CSV can be downloaded after the page (or API answer) that announced them, by their
author only."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, timedelta

from sqlalchemy.orm import Session

from idp.admin.models import LetterBatch
from idp.admin.roles import Staff
from idp.admin.schools.letters import Letter
from idp.state import AppState

#: How long issued letters stay downloadable.
BATCH_TTL = timedelta(hours=2)
_PURPOSE = "letters-at-rest"


def store_letters(
    state: AppState, db: Session, staff: Staff, uai: str, letters: list[Letter]
) -> str:
    now = state.clock.now()
    batch = LetterBatch(
        account_id=staff.account_id,
        school_uai=uai,
        count=len(letters),
        payload="",
        created_at=now,
        expires_at=now + BATCH_TTL,
    )
    db.add(batch)
    db.flush()
    raw = json.dumps([asdict(x) for x in letters], default=str).encode()
    batch.payload = state.seals.at_rest(_PURPOSE).seal(raw, batch.id)
    return batch.id


def load_letters(
    state: AppState, db: Session, staff: Staff, batch_id: str
) -> tuple[LetterBatch, list[Letter]] | None:
    """The batch and its letters; ``None`` unless ``staff`` issued it less than two hours ago."""
    batch = db.get(LetterBatch, batch_id)
    if (
        batch is None
        or batch.account_id != staff.account_id
        or batch.expires_at <= state.clock.now()
    ):
        return None
    items = json.loads(state.seals.at_rest(_PURPOSE).open(batch.payload, batch.id))
    letters = [Letter(**{**x, "valid_until": date.fromisoformat(x["valid_until"])}) for x in items]
    return batch, letters
