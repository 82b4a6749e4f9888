"""``openprepaid check-ledger``: re-add every account's ledger and compare.

    openprepaid check-ledger [--site CODE]   prints each difference; exit 0 only with none

The sums of the entries are compared with the cached balances, each entry's balance-after with
the running sum, and, for locally controlled meters, the ledger's wallet of the meter with the
balance the meter last reported (``openprepaid.domain.billing.check``).
"""

from __future__ import annotations

import argparse
import sys

from openprepaid.cli.common import PROG, setup_django


def add_parsers(sub: argparse._SubParsersAction) -> None:
    check = sub.add_parser(
        "check-ledger",
        help="re-add every account's ledger, compare with the cached balances and the meters;"
        " exit 0 only with zero differences",
    )
    check.add_argument("--site", metavar="CODE", help="only this site's accounts")
    check.set_defaults(handler=_cmd_check_ledger)


def _cmd_check_ledger(args: argparse.Namespace) -> int:
    setup_django()
    from openprepaid.domain.billing.check import check_ledger
    from openprepaid.domain.sites.models import Site

    site = None
    if args.site:
        site = Site.objects.filter(code=args.site).first()
        if site is None:
            print(f"{PROG} check-ledger: no site {args.site!r}", file=sys.stderr)
            return 2
    result = check_ledger(site)
    for difference in result.differences:
        print(difference)
    waiting = (
        f", {result.meters_waiting} local meters not compared (a sale on its way)"
        if result.meters_waiting
        else ""
    )
    print(
        f"{result.accounts} accounts, {result.entries} entries, {result.meters} local meters"
        f" checked{waiting}: {len(result.differences)} differences"
    )
    return 0 if result.ok else 1
