"""What every API view shares: the language of the answer and answers that may be replayed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from openprepaid.domain.operators import idempotency
from openprepaid.web.api.errors import ErrorSerializer

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Optional. The same key sent again by the same operator within 24 hours gets the"
    " first answer again (with the header Idempotent-Replayed: true) instead of a second"
    " action; the same key with another body is refused (409, idempotency_key_reused).",
)


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """Error answers for ``extend_schema(responses=...)``."""
    return {code: OpenApiResponse(ErrorSerializer) for code in codes}


class ApiView(GenericAPIView):
    """Answers in the language of the language cookie, else of ``Accept-Language``, else the
    site's (the console follows only the cookie: a browser's language is not a choice, a
    program's header is)."""

    def initial(self, request, *args, **kwargs):
        language = translation.get_language_from_request(request._request)
        translation.activate(language)
        request._request.LANGUAGE_CODE = translation.get_language()
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Language"] = translation.get_language()
        return response

    def answer_once(self, action: Callable[[], tuple[int, Any]]) -> Response:
        """``action()`` (status code and body of the answer), at most once per idempotency key
        when the request carries one."""
        request = self.request
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            status_code, body = action()
            return Response(body, status=status_code)
        answer = idempotency.run_once(
            operator=request.user,
            key=key,
            fingerprint=idempotency.fingerprint(request.method, request.path, request.data),
            action=action,
        )
        response = Response(answer.body, status=answer.status_code)
        if answer.replayed:
            response[REPLAYED_HEADER] = "true"
        return response
