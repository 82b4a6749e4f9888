"""Commands to meters: request one (``POST /api/v1/commands``) or a batch
(``POST /api/v1/command-batches``) and follow them by id. The headend carries them out; these
views only call ``openprepaid.domain.metering.services`` and read through its selectors."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from openprepaid.domain.metering import selectors as metering
from openprepaid.domain.metering import services
from openprepaid.web.api.serializers import (
    BatchRequestSerializer,
    BatchSerializer,
    BatchSummarySerializer,
    CommandFilterSerializer,
    CommandRequestSerializer,
    CommandSerializer,
)
from openprepaid.web.api.views.base import IDEMPOTENCY_PARAMETER, ApiView, errors


class CommandListView(ApiView):
    serializer_class = CommandSerializer

    @extend_schema(
        operation_id="commands_list",
        summary="List commands",
        description="Commands to the meters of the operator's sites, newest first; paginated.",
        parameters=[CommandFilterSerializer],
        responses={200: CommandSerializer(many=True), **errors(400, 401)},
    )
    def get(self, request):
        filters = CommandFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(metering.command_list(request.user, **filters.validated_data))
        return self.get_paginated_response(CommandSerializer(page, many=True).data)

    @extend_schema(
        operation_id="commands_create",
        summary="Request a command",
        description="Queue one command for one meter, as the console's buttons do: the operator"
        " needs the right to control meters on the meter's site; a relay command supersedes"
        " the meter's relay commands still queued. Money (open account, recharge) is refused:"
        " it reaches a meter only through a sale.",
        request=CommandRequestSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: CommandSerializer, **errors(400, 401, 403, 409)},
    )
    def post(self, request):
        def action():
            given = CommandRequestSerializer(data=request.data, context={"request": request})
            given.is_valid(raise_exception=True)
            command = services.request_command(
                acting_user=request.user,
                meter=given.validated_data["meter"],
                kind=given.validated_data["kind"],
                params=given.validated_data["params"],
            )
            command = metering.command_list(request.user).get(pk=command.pk)
            return status.HTTP_201_CREATED, CommandSerializer(command).data

        response = self.answer_once(action)
        if response.status_code == status.HTTP_201_CREATED:
            response["Location"] = reverse("api:command-detail", args=[response.data["id"]])
        return response


class CommandDetailView(ApiView):
    serializer_class = CommandSerializer

    @extend_schema(
        operation_id="commands_retrieve",
        summary="Follow a command",
        description="Its state (queued → sending → sent → confirmed / failed / superseded /"
        " expired), detail, attempts and times.",
        responses={200: CommandSerializer, **errors(401, 404)},
    )
    def get(self, request, pk: int):
        command = get_object_or_404(metering.command_list(request.user), pk=pk)
        return Response(CommandSerializer(command).data)


class BatchListView(ApiView):
    serializer_class = BatchSummarySerializer

    @extend_schema(
        operation_id="command_batches_list",
        summary="List command batches",
        description="Batches of the operator's sites, newest first; paginated.",
        responses={200: BatchSummarySerializer(many=True), **errors(401)},
    )
    def get(self, request):
        page = self.paginate_queryset(metering.batches_for(request.user))
        return self.get_paginated_response(BatchSummarySerializer(page, many=True).data)

    @extend_schema(
        operation_id="command_batches_create",
        summary="Request a batch command",
        description="Queue one command for each meter of a selection (a site, narrowed to a"
        " building, a floor or a board state) or of a list of meter ids, all on one site."
        " Nothing is queued unless every meter may receive it.",
        request=BatchRequestSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: BatchSerializer, **errors(400, 401, 403, 409)},
    )
    def post(self, request):
        def action():
            given = BatchRequestSerializer(data=request.data, context={"request": request})
            given.is_valid(raise_exception=True)
            batch = services.request_batch(
                acting_user=request.user,
                meters=given.validated_data["meter_rows"],
                kind=given.validated_data["kind"],
                params=given.validated_data["params"],
                description=given.validated_data["description"],
            )
            return status.HTTP_201_CREATED, batch_data(batch)

        response = self.answer_once(action)
        if response.status_code == status.HTTP_201_CREATED:
            response["Location"] = reverse("api:command-batch-detail", args=[response.data["id"]])
        return response


class BatchDetailView(ApiView):
    serializer_class = BatchSerializer

    @extend_schema(
        operation_id="command_batches_retrieve",
        summary="Follow a batch command",
        description="Counts of its commands by state and each meter's outcome.",
        responses={200: BatchSerializer, **errors(401, 404)},
    )
    def get(self, request, pk: int):
        batch = get_object_or_404(metering.batches_for(request.user), pk=pk)
        return Response(batch_data(batch))


def batch_data(batch) -> dict:
    batch.command_rows = metering.batch_commands(batch)
    batch.progress = metering.batch_progress(batch)
    batch.total = sum(batch.progress.values())
    batch.finished = all(c.is_final for c in batch.command_rows)
    return BatchSerializer(batch).data
