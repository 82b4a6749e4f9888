"""Protocol errors, split by whose fault they are (as h11 does).

* :class:`LocalProtocolError` — we were asked to build something the protocol cannot express
  (a bad address, a value out of range, a payload too long). A bug or bad input on our side.
* :class:`RemoteProtocolError` — the peer sent something that is not a valid frame or reply
  (bad checksum, wrong length, unknown control code). The line or the meter is at fault.
* A meter's *abnormal reply* is not an error of either protocol: it is a valid frame that says
  "no". Codecs decode it to a typed reply carrying the error flags; the caller turns it into
  :class:`MeterRefused` when it wants an exception.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Base of every error the protocol core raises."""


class LocalProtocolError(ProtocolError, ValueError):
    """We cannot build this request or reply: the fault is ours (or our caller's)."""


class RemoteProtocolError(ProtocolError):
    """The bytes received are not a valid frame or reply: the fault is the peer's or the line's."""


class MeterRefused(ProtocolError):
    """A well-formed abnormal reply: the meter understood the request and refused it.

    ``flags`` is the reply's typed error word (an ``enum.Flag``) and ``reply`` the decoded reply.
    """

    def __init__(self, flags, reply=None) -> None:
        self.flags = flags
        self.reply = reply
        super().__init__(f"meter refused: {flags!r}")
