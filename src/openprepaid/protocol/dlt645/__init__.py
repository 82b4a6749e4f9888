"""DL/T 645-2007 (with the 2013 prepaid additions), sans-IO.

Modules, by responsibility:

* :mod:`.frame` — :class:`Frame`, :func:`encode_frame`, one-shot :func:`decode_frame`;
* :mod:`.decoder` — the streaming :class:`Decoder` (``receive_data`` / ``next_event``);
* :mod:`.codes` — function codes, ERR/SERR flags, control commands, baud words;
* :mod:`.requests` / :mod:`.replies` — typed commands and replies, both directions;
* :mod:`.identifiers`, :mod:`.formats`, :mod:`.status` — the data-identifier table.
"""

from openprepaid.protocol.dlt645.codes import (
    BaudRate,
    ControlCommand,
    ErrorFlags,
    Function,
    SecurityErrorFlags,
)
from openprepaid.protocol.dlt645.decoder import NEED_DATA, Decoder, Garbage
from openprepaid.protocol.dlt645.fields import Password
from openprepaid.protocol.dlt645.frame import (
    BROADCAST_ADDRESS,
    WILDCARD_ADDRESS,
    Frame,
    decode_frame,
    encode_frame,
)
from openprepaid.protocol.dlt645.identifiers import DataIdentifier, lookup
from openprepaid.protocol.dlt645.replies import (
    AbnormalReply,
    Ack,
    ChangeBaudReply,
    ChangePasswordReply,
    MultiFunctionOutputReply,
    ReadAddressReply,
    ReadFollowUpReply,
    ReadReply,
    Reply,
    SecurityAbnormalReply,
    SecurityReply,
    encode_reply,
    parse_reply,
)
from openprepaid.protocol.dlt645.requests import (
    BroadcastTimeRequest,
    ChangeBaudRequest,
    ChangePasswordRequest,
    CipheredControlRequest,
    ClearDemandRequest,
    ClearEventsRequest,
    ClearMeterRequest,
    ControlRequest,
    FreezeRequest,
    MultiFunctionOutputRequest,
    ReadAddressRequest,
    ReadFollowUpRequest,
    ReadRequest,
    Request,
    SecurityRequest,
    WriteAddressRequest,
    WriteRequest,
    encode_request,
    parse_request,
)

__all__ = [
    "BROADCAST_ADDRESS",
    "NEED_DATA",
    "WILDCARD_ADDRESS",
    "AbnormalReply",
    "Ack",
    "BaudRate",
    "BroadcastTimeRequest",
    "ChangeBaudReply",
    "ChangeBaudRequest",
    "ChangePasswordReply",
    "ChangePasswordRequest",
    "CipheredControlRequest",
    "ClearDemandRequest",
    "ClearEventsRequest",
    "ClearMeterRequest",
    "ControlCommand",
    "ControlRequest",
    "DataIdentifier",
    "Decoder",
    "ErrorFlags",
    "Frame",
    "FreezeRequest",
    "Function",
    "Garbage",
    "MultiFunctionOutputReply",
    "MultiFunctionOutputRequest",
    "Password",
    "ReadAddressReply",
    "ReadAddressRequest",
    "ReadFollowUpReply",
    "ReadFollowUpRequest",
    "ReadReply",
    "ReadRequest",
    "Reply",
    "Request",
    "SecurityAbnormalReply",
    "SecurityErrorFlags",
    "SecurityReply",
    "SecurityRequest",
    "WriteAddressRequest",
    "WriteRequest",
    "decode_frame",
    "encode_frame",
    "encode_reply",
    "encode_request",
    "lookup",
    "parse_reply",
    "parse_request",
]
