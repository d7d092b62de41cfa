"""``educonnect saml …``, attached by ``idp.cli``:

educonnect saml sp add --metadata FILE [--release ATTR…] [--first-party] [--name N] [--json]
educonnect saml sp list [--json]
educonnect saml sp remove ENTITY_ID
educonnect saml keys rotate [--json]
"""

from __future__ import annotations

import json

import click

from idp.db import transaction
from idp.saml import providers
from idp.saml.attributes import RELEASABLE


def _state():
    from idp.services import build_state
    from idp.settings import Settings

    obj = click.get_current_context().obj
    return build_state(obj if isinstance(obj, Settings) else Settings())


def _echo(value, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(value, ensure_ascii=False, indent=2))
    elif isinstance(value, dict):
        for key, item in value.items():
            click.echo(f"{key}: {item}")


@click.group("saml")
def saml_group() -> None:
    """SAML 2.0: service providers and the IdP's certificates."""


@saml_group.group("sp")
def sp_group() -> None:
    """SAML service providers, registered from their metadata."""


@sp_group.command("add")
@click.option("--metadata", "metadata_file", type=click.File("rb"), required=True)
@click.option(
    "--release",
    multiple=True,
    type=click.Choice(RELEASABLE),
    help="An attribute the SP receives (repeatable; default: identity and affiliation).",
)
@click.option("--first-party", is_flag=True, help="Trusted service: no consent screen.")
@click.option("--name", help="Name shown to people (default: from the metadata).")
@click.option("--json", "as_json", is_flag=True)
def sp_add(metadata_file, release, first_party, name, as_json) -> None:
    """Register an SP (or update it from new metadata)."""
    from idp.saml.federation import federation_check

    raw = metadata_file.read()
    try:
        xml = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise click.UsageError("the metadata file is not UTF-8") from None
    state = _state()
    try:
        with transaction(state.sessions) as db:
            sp, created = providers.add_provider(
                db,
                state.clock,
                xml,
                release=list(release) or None,
                first_party=first_party,
                name=name,
                federation_check=federation_check(state.settings),
            )
            state.audit.record(
                db,
                "saml.sp_registered" if created else "saml.sp_updated",
                detail={"sp": sp.entity_id, "release": list(sp.release)},
            )
            described = providers.describe(sp)
    except providers.MetadataError as exc:
        raise click.UsageError(f"metadata refused: {exc}") from None
    finally:
        state.engine.dispose()
    _echo(described, as_json)


@sp_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def sp_list(as_json: bool) -> None:
    """The registered SPs."""
    state = _state()
    try:
        with transaction(state.sessions, readonly=True) as db:
            found = [providers.describe(sp) for sp in providers.list_providers(db)]
    finally:
        state.engine.dispose()
    if as_json:
        _echo(found, True)
        return
    for sp in found:
        click.echo(f"{sp['entity_id']}  {sp['name']}  ({', '.join(sp['release'])})")


@sp_group.command("remove")
@click.argument("entity_id")
def sp_remove(entity_id: str) -> None:
    """Forget an SP (its consents go with it)."""
    state = _state()
    try:
        with transaction(state.sessions) as db:
            if not providers.remove_provider(db, entity_id):
                raise click.UsageError(f"no SAML service provider {entity_id}")
            state.audit.record(db, "saml.sp_removed", detail={"sp": entity_id})
    finally:
        state.engine.dispose()
    click.echo(f"removed {entity_id}")


@saml_group.group("keys")
def keys_group() -> None:
    """The IdP's SAML certificates."""


@keys_group.command("rotate")
@click.option("--json", "as_json", is_flag=True)
def keys_rotate(as_json: bool) -> None:
    """Sign with the certificate published as next; publish a new next one. The old certificate
    stays in the metadata for the key retention period."""
    from idp.saml.wiring import saml_of

    state = _state()
    try:
        result = saml_of(state).keys.rotate()
        with transaction(state.sessions) as db:
            state.audit.record(db, "saml.keys_rotated", detail=result)
    finally:
        state.engine.dispose()
    _echo(result, as_json)
