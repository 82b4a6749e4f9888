"""``GET /api/v1/meters`` and ``GET /api/v1/meters/{id}``: meters of the operator's sites with
their live state (the meter board's), and one meter with its latest values."""

from __future__ import annotations

from dataclasses import dataclass

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from openprepaid.domain.metering import selectors as metering
from openprepaid.domain.sites import selectors as site_selectors
from openprepaid.domain.sites.models import Lifecycle
from openprepaid.web.api.serializers import (
    MeterDetailSerializer,
    MeterFilterSerializer,
    MeterSerializer,
)
from openprepaid.web.api.views.base import ApiView, errors


@dataclass(frozen=True, slots=True)
class _MeterRef:
    pk: int


class MeterListView(ApiView):
    serializer_class = MeterSerializer

    @extend_schema(
        operation_id="meters_list",
        summary="List meters",
        description="Meters of the operator's sites, filtered like the meter board, with their"
        " live state; paginated.",
        parameters=[MeterFilterSerializer],
        responses={200: MeterSerializer(many=True), **errors(400, 401)},
    )
    def get(self, request):
        filters = MeterFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        given = filters.validated_data
        state = given.pop("state", "")
        meters = site_selectors.meter_list(request.user, **given)
        if not given.get("lifecycle"):
            meters = meters.exclude(lifecycle=Lifecycle.RETIRED)
        if state:
            # The board state is computed, not stored: page the ids of the meters in that state.
            ids = list(meters.values_list("pk", flat=True))
            states = metering.meter_states([_MeterRef(pk) for pk in ids])
            page_ids = self.paginate_queryset([pk for pk in ids if states[pk].state == state])
            rows = {m.pk: m for m in meters.filter(pk__in=page_ids)}
            page = [rows[pk] for pk in page_ids]
        else:
            page = self.paginate_queryset(meters)
        states = metering.meter_states(page)
        for meter in page:
            meter.board_state = states.get(meter.pk)
        return self.get_paginated_response(MeterSerializer(page, many=True).data)


class MeterDetailView(ApiView):
    serializer_class = MeterDetailSerializer

    @extend_schema(
        operation_id="meters_retrieve",
        summary="One meter",
        description="The meter with its live state, its status row (reported and desired relay,"
        " freshness, lost contact) and its latest full reading.",
        responses={200: MeterDetailSerializer, **errors(401, 404)},
    )
    def get(self, request, pk: int):
        meter = get_object_or_404(site_selectors.meters_for(request.user), pk=pk)
        meter.board_state = metering.meter_states([meter]).get(meter.pk)
        meter.status_row = metering.meter_status(meter)
        meter.latest_reading_row = metering.latest_reading(meter)
        return Response(MeterDetailSerializer(meter).data)
