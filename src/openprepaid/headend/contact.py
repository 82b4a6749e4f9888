"""Lost contact (失联): when a meter or a gateway is lost and when it comes back. Pure: the
caller passes the times; each change comes out exactly once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from openprepaid.headend.model import ContactChange


class ContactTracker:
    """Per meter, consecutive failed polls (lost after ``lost_after``, regained on the first
    good poll); per gateway, the connection (lost on a failed connect after a good state,
    regained on connect). Starts from what the database holds as lost, so a restart raises
    nothing twice."""

    def __init__(
        self,
        lost_after: int = 3,
        lost_meters: Iterable[int] = (),
        lost_gateways: Iterable[int] = (),
    ) -> None:
        if lost_after < 1:
            raise ValueError("lost_after must be at least 1")
        self.lost_after = lost_after
        self.lost_meters = set(lost_meters)
        self.lost_gateways = set(lost_gateways)
        self.failures: dict[int, int] = {}

    def is_lost(self, meter_id: int) -> bool:
        return meter_id in self.lost_meters

    def meter_polled(
        self, meter_id: int, ok: bool, at: dt.datetime, reason: str = ""
    ) -> ContactChange | None:
        if ok:
            self.failures.pop(meter_id, None)
            if meter_id in self.lost_meters:
                self.lost_meters.discard(meter_id)
                return ContactChange(at=at, lost=False, meter_id=meter_id)
            return None
        count = self.failures.get(meter_id, 0) + 1
        self.failures[meter_id] = count
        if count >= self.lost_after and meter_id not in self.lost_meters:
            self.lost_meters.add(meter_id)
            return ContactChange(at=at, lost=True, meter_id=meter_id, reason=reason)
        return None

    def gateway_connect(
        self, gateway_id: int, ok: bool, at: dt.datetime, reason: str = ""
    ) -> ContactChange | None:
        if ok:
            if gateway_id in self.lost_gateways:
                self.lost_gateways.discard(gateway_id)
                return ContactChange(at=at, lost=False, gateway_id=gateway_id)
            return None
        if gateway_id not in self.lost_gateways:
            self.lost_gateways.add(gateway_id)
            return ContactChange(at=at, lost=True, gateway_id=gateway_id, reason=reason)
        return None
