"""Where the current action comes from, for the system log.

The web middleware sets the client's address for the length of a request; the command line and
the headend leave the default. Services do not take the address as an argument: it is a fact of
the channel, not of the business verb.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

_origin: ContextVar[str] = ContextVar("openprepaid_audit_origin", default="system")


def current_origin() -> str:
    return _origin.get()


@contextlib.contextmanager
def origin(value: str) -> Iterator[None]:
    token = _origin.set(value[:64])
    try:
        yield
    finally:
        _origin.reset(token)
