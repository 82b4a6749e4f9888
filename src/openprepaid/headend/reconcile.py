"""Control by reconciliation: the command that brings a meter's reported state to its desired
state, or none. Pure: no I/O, no clock."""

from __future__ import annotations

from openprepaid.headend.model import CommandKind, DesiredRelay, MeterControl


def decide(control: MeterControl, has_pending: bool) -> CommandKind | None:
    """What to issue for ``control``.

    Nothing while a relay command is pending for the meter, while it is lost, or while its
    reported state is unknown. Keep power first (it decides whether a trip can act at all),
    then the relay: desired open and reported closed → trip; desired closed and reported open
    → close. ``AUTO`` leaves the relay to the meter's own rule (only keep power matters).
    """
    if has_pending or control.lost_contact:
        return None
    if control.reported_keep_power is None:
        return None
    if control.desired_keep_power != control.reported_keep_power:
        return (
            CommandKind.KEEP_POWER_ON if control.desired_keep_power else CommandKind.KEEP_POWER_OFF
        )
    if control.desired_relay is DesiredRelay.AUTO or control.reported_relay_open is None:
        return None
    if control.desired_relay is DesiredRelay.OPEN and not control.reported_relay_open:
        if control.reported_keep_power:
            return None  # a trip cannot act under keep power
        return CommandKind.TRIP
    if control.desired_relay is DesiredRelay.CLOSED and control.reported_relay_open:
        return CommandKind.CLOSE
    return None
