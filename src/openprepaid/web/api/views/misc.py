from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny

from openprepaid.web.api.views.base import ApiView


@extend_schema(exclude=True)
class NotFoundView(ApiView):
    """Any other path under the API: a JSON 404 like every other error."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise NotFound
