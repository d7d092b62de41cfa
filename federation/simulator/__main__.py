"""Run the simulator on its own: ``python -m federation.simulator --port 8001 --client-id X ...``.

Its issuer is then ``http://<public host>:<port>/api/v2``; point the relying party's discovery
URL at ``<issuer>/.well-known/openid-configuration``.
"""

from __future__ import annotations

import argparse

import uvicorn

from federation.simulator import SimulatorClient, create_simulator_app


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m federation.simulator",
        description="FranceConnect v2 simulator (development only).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument(
        "--public-host",
        default="localhost",
        help="host name browsers and relying parties use (goes into the issuer)",
    )
    parser.add_argument("--issuer", help="full issuer URL (overrides --public-host)")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--redirect-uri", action="append", required=True, dest="redirect_uris")
    parser.add_argument(
        "--post-logout-redirect-uri",
        action="append",
        default=[],
        dest="post_logout_redirect_uris",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    issuer = args.issuer or f"http://{args.public_host}:{args.port}/api/v2"
    client = SimulatorClient(
        client_id=args.client_id,
        client_secret=args.client_secret,
        redirect_uris=tuple(args.redirect_uris),
        post_logout_redirect_uris=tuple(args.post_logout_redirect_uris),
    )
    print(f"Simulateur FranceConnect : {issuer}/.well-known/openid-configuration")
    uvicorn.run(create_simulator_app(issuer, [client]), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
