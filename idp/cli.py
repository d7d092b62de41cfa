"""The ``educonnect`` command (DESIGN.md §5). Every command that prints data accepts ``--json``."""

from __future__ import annotations

import json
import sys

import click

from idp.db import transaction
from idp.settings import Settings


def _settings() -> Settings:
    return Settings()


def _echo_json(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


@click.group()
def main() -> None:
    """EduConnect IdP: OpenID Connect provider for the French education system."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the IdP (uvicorn). The database must be migrated (``educonnect db upgrade``).
    Background work (SMS, e-mails, back-channel logouts, periodic jobs) is done by
    ``educonnect worker``; in development the server runs the worker in-process too."""
    import uvicorn

    settings = _settings()
    settings.check_production()
    uvicorn.run(
        "idp.main:app",
        host=host,
        port=port,
        workers=workers,
        # The app reads forwarding headers itself (idp.observability.net, with
        # EDUCONNECT_TRUSTED_PROXIES) and writes its own access line (uvicorn's would print
        # codes and tokens in query strings).
        proxy_headers=False,
        access_log=False,
        log_level=settings.log_level.lower(),
    )


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the Alembic migrations (the only way the schema changes)."""
    from idp.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}", err=True)


@main.group()
def keys() -> None:
    """Signing keys."""


@keys.command("rotate")
@click.option("--json", "as_json", is_flag=True)
def keys_rotate(as_json: bool) -> None:
    """Publish a next signing key per algorithm; it signs once cached key sets have expired,
    and the keys it replaces stay published until what they signed has expired."""
    from idp.services import build_state

    state = build_state(_settings())
    state.keys.ensure_keys()
    kids = state.keys.rotate()
    signing_from = state.keys.activation_time()
    with transaction(state.sessions) as db:
        state.audit.record(db, "keys.rotated", detail={"kids": kids})
    if as_json:
        _echo_json({"next": kids, "signing_from": signing_from})
    else:
        click.echo(f"next signing keys, published now: {', '.join(kids)}")
        click.echo(f"they sign from {signing_from:%Y-%m-%d %H:%M:%S} UTC (after the JWKS cache)")


@main.group()
def clients() -> None:
    """Relying parties."""


@clients.command("create")
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True)
@click.option("--post-logout-redirect-uri", "post_logout_redirect_uris", multiple=True)
@click.option("--backchannel-logout-uri")
@click.option("--public", is_flag=True, help="A public client (no secret; PKCE required).")
@click.option("--grant-type", "grant_types", multiple=True)
@click.option("--scope", "scopes", multiple=True)
@click.option(
    "--auth-method",
    "auth_method",
    help="client_secret_basic (default), client_secret_post, private_key_jwt, none",
)
@click.option("--jwks-uri")
@click.option("--jwks-file", type=click.File("r"), help="A JWKS file for private_key_jwt.")
@click.option(
    "--subject-type",
    type=click.Choice(["pairwise", "public"]),
    default="pairwise",
    show_default=True,
)
@click.option("--sector-identifier")
@click.option(
    "--id-token-alg", type=click.Choice(["ES256", "RS256"]), default="ES256", show_default=True
)
@click.option("--first-party", is_flag=True, help="Trusted service: no consent screen.")
@click.option("--allow-ine", is_flag=True, help="May receive pupils' INE.")
@click.option("--client-id", help="Choose the client_id (default: random).")
@click.option("--json", "as_json", is_flag=True)
def clients_create(**options) -> None:
    """Register a relying party; prints client_id and (confidential clients) client_secret."""
    from idp.oidc.clients import ClientError, ClientSpec, create_client
    from idp.services import build_state

    as_json = options.pop("as_json")
    jwks_file = options.pop("jwks_file")
    spec = ClientSpec(
        name=options["name"],
        redirect_uris=list(options["redirect_uris"]),
        post_logout_redirect_uris=list(options["post_logout_redirect_uris"]),
        backchannel_logout_uri=options["backchannel_logout_uri"],
        public=options["public"],
        grant_types=list(options["grant_types"]) or None,
        scopes=list(options["scopes"]) or None,
        token_endpoint_auth_method=options["auth_method"],
        jwks=json.load(jwks_file) if jwks_file else None,
        jwks_uri=options["jwks_uri"],
        subject_type=options["subject_type"],
        sector_identifier=options["sector_identifier"],
        id_token_signed_response_alg=options["id_token_alg"],
        first_party=options["first_party"],
        allow_ine=options["allow_ine"],
        client_id=options["client_id"],
    )
    state = build_state(_settings())
    try:
        with transaction(state.sessions) as session:
            client, secret = create_client(
                session, spec, state.clock, state.settings.secrets["secret_key"]
            )
            state.audit.record(
                session, "client.created", client_id=client.client_id, detail={"name": client.name}
            )
    except ClientError as exc:
        raise click.ClickException(str(exc)) from exc
    result = {"client_id": client.client_id}
    if secret:
        result["client_secret"] = secret
    if as_json:
        _echo_json(result)
    else:
        for key, value in result.items():
            click.echo(f"{key}: {value}")


@main.command()
@click.option("--json", "as_json", is_flag=True)
def demo(as_json: bool) -> None:
    """Seed the demo data set (idempotent) and print the demo logins."""
    from idp.demo.seed import seed

    logins = seed(_settings())
    if as_json:
        _echo_json(logins)
        return
    click.echo("Demo logins:")
    for login in logins:
        note = f"  ({login['note']})" if login.get("note") else ""
        password = login["password"] or "-"
        click.echo(
            f"  {login['kind']:<9} {login['username']:<14} {password:<24} {login['state']}{note}"
        )


def _attach_groups() -> None:
    """Command groups owned by their packages (registry import, accounts, outbox, staff...)."""
    from idp.accounts.cli import force_password_change_command
    from idp.admin.cli import staff_group
    from idp.janitor import janitor_command
    from idp.outbox.cli import outbox_command
    from idp.registry.cli import accounts_group, import_group
    from idp.saml.cli import saml_group
    from idp.worker.cli import worker_command

    accounts_group.add_command(force_password_change_command, "force-password-change")
    main.add_command(import_group, "import")
    main.add_command(accounts_group, "accounts")
    main.add_command(outbox_command, "outbox")
    main.add_command(staff_group, "staff")
    main.add_command(janitor_command, "janitor")
    main.add_command(worker_command, "worker")
    main.add_command(saml_group, "saml")


_attach_groups()


if __name__ == "__main__":
    sys.exit(main())
