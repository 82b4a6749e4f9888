"""``openprepaid api-token``: create, list and revoke operators' REST API tokens.

    openprepaid api-token create --user U --name N   prints the token (shown this once)
    openprepaid api-token list [--user U]            one JSON line per token (never the token)
    openprepaid api-token revoke ID                  requests with it are refused from now on

The command line acts as the system (no operator); each create and revoke writes the system log.
"""

from __future__ import annotations

import argparse
import json
import sys

from openprepaid.cli.common import PROG, setup_django


def add_parsers(sub: argparse._SubParsersAction) -> None:
    token = sub.add_parser(
        "api-token",
        help="create, list or revoke an operator's REST API token",
        description="REST API tokens: a program sends 'Authorization: Bearer <token>' and acts"
        " as the token's operator (same role, sites and system log as the console).",
    )
    token.set_defaults(handler=lambda args: _usage(token))
    actions = token.add_subparsers(title="actions", metavar="ACTION")

    create = actions.add_parser("create", help="create a token and print it (shown once)")
    create.add_argument("--user", required=True, help="the operator the token acts as")
    create.add_argument("--name", required=True, help="what the token is for, e.g. 'BMS link'")
    create.set_defaults(handler=_cmd_create)

    listing = actions.add_parser("list", help="list tokens (not the tokens themselves)")
    listing.add_argument("--user", help="only this operator's tokens")
    listing.set_defaults(handler=_cmd_list)

    revoke = actions.add_parser("revoke", help="revoke a token by its id (from list)")
    revoke.add_argument("token_id", type=int, metavar="ID")
    revoke.set_defaults(handler=_cmd_revoke)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _operator(username: str):
    from openprepaid.domain.operators.models import Operator

    operator = Operator.objects.filter(username=username).first()
    if operator is None:
        print(f"{PROG} api-token: no operator {username!r}", file=sys.stderr)
    return operator


def _describe(token) -> dict:
    return {
        "id": token.pk,
        "operator": token.operator.get_username(),
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at.isoformat(),
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
    }


def _cmd_create(args: argparse.Namespace) -> int:
    setup_django()
    from openprepaid.domain.errors import ServiceError
    from openprepaid.domain.operators.services import create_api_token

    operator = _operator(args.user)
    if operator is None:
        return 2
    try:
        row, token = create_api_token(acting_user=None, operator=operator, name=args.name)
    except ServiceError as exc:
        print(f"{PROG} api-token: {exc.message}", file=sys.stderr)
        return 2
    print(json.dumps({**_describe(row), "token": token}, ensure_ascii=False))
    print(
        "Keep the token now: it is stored only as a hash and cannot be shown again.",
        file=sys.stderr,
    )
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    setup_django()
    from openprepaid.domain.operators.selectors import api_tokens_for

    owner = None
    if args.user:
        owner = _operator(args.user)
        if owner is None:
            return 2
    for token in api_tokens_for(None, owner=owner):
        print(json.dumps(_describe(token), ensure_ascii=False))
    return 0


def _cmd_revoke(args: argparse.Namespace) -> int:
    setup_django()
    from openprepaid.domain.errors import ServiceError
    from openprepaid.domain.operators.selectors import api_tokens_for
    from openprepaid.domain.operators.services import revoke_api_token

    token = api_tokens_for(None).filter(pk=args.token_id).first()
    if token is None:
        print(f"{PROG} api-token: no token {args.token_id}", file=sys.stderr)
        return 2
    try:
        token = revoke_api_token(token, acting_user=None)
    except ServiceError as exc:
        print(f"{PROG} api-token: {exc.message}", file=sys.stderr)
        return 2
    print(json.dumps(_describe(token), ensure_ascii=False))
    return 0
