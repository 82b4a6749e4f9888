from __future__ import annotations

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english():
    """Domain tests read messages in English, so the texts they expect do not depend on the
    translation catalog (a test of Chinese output switches language itself)."""
    with translation.override("en"):
        yield
