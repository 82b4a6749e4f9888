"""The two languages of the format: Chinese names are fixed text, English labels translate."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise


def is_chinese() -> bool:
    """Whether the active language is Chinese (headers and values then use the Chinese names)."""
    return (translation.get_language() or settings.LANGUAGE_CODE).lower().startswith("zh")


def in_language(language: str, text: str | Promise) -> str:
    """A (lazily) translated string in ``language``, whatever the active language."""
    with translation.override(language):
        return str(text)


def spellings(*texts: str | Promise) -> list[str]:
    """The texts as given, and each translated one in English and in Chinese."""
    out: list[str] = []
    for text in texts:
        if isinstance(text, Promise):
            out += [in_language("en", text), in_language("zh-hans", text), str(text)]
        else:
            out.append(str(text))
    return out
