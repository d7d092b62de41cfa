"""Subject identifiers (OpenID Connect Core §8): public, or pairwise per sector identifier.

A pairwise subject is HMAC-SHA256(server secret, sector || local id): stable for a sector,
different across sectors, and not reversible without the server secret.
https://openid.net/specs/openid-connect-core-1_0.html#PairwiseAlg
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def pairwise_subject(secret: str, sector: str, local_id: str) -> str:
    mac = hmac.new(secret.encode(), f"{sector}\x00{local_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def subject_for(client, local_id: str, secret: str) -> str:
    """The ``sub`` a client sees for a local id (an account or a pupil id)."""
    if client.subject_type == "public":
        return local_id
    return pairwise_subject(secret, client.sector_identifier, local_id)
