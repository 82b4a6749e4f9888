"""The CJK TrueType font embedded in receipts.

WenQuanYi Zen Hei from the Debian package ``fonts-wqy-zenhei`` by default; the environment
variable ``OPENPREPAID_RECEIPT_FONT`` names another TrueType file (``.ttf``, or ``.ttc`` whose
first face is used). The font is embedded (subset) in every PDF, so a receipt prints the same
everywhere; reportlab's built-in CID fonts (STSong-Light) are deliberately not used because
they are not embedded. A font that is missing or has no Chinese glyphs is an error that says
what to install.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

FONT_ENV = "OPENPREPAID_RECEIPT_FONT"
DEFAULT_FONT_PATHS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),  # Debian, Ubuntu: fonts-wqy-zenhei
    Path("/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc"),  # Fedora: wqy-zenhei-fonts
)
# Characters every receipt prints; a font without them would print empty boxes.
REQUIRED_CHARACTERS = "存根客户财务壹佰元整¥"


class ReceiptFontError(RuntimeError):
    """No usable CJK font for receipts."""


def font_path() -> Path:
    """The font file receipts use: ``$OPENPREPAID_RECEIPT_FONT`` or the first installed
    default."""
    configured = os.environ.get(FONT_ENV, "").strip()
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise ReceiptFontError(f"{FONT_ENV}={configured}: no such font file")
        return path
    for path in DEFAULT_FONT_PATHS:
        if path.is_file():
            return path
    raise ReceiptFontError(
        "No CJK font for receipts: install the Debian package fonts-wqy-zenhei "
        f"(apt-get install fonts-wqy-zenhei) or set {FONT_ENV} to a TrueType font with "
        "Chinese glyphs"
    )


def receipt_font() -> str:
    """The reportlab name of the receipt font, registered on first use."""
    return _register(font_path())


@functools.cache
def _register(path: Path) -> str:
    name = "OpenPrepaidReceipt-" + hashlib.sha256(str(path).encode()).hexdigest()[:8]
    try:
        font = TTFont(name, str(path), subfontIndex=0)
    except (TTFError, OSError) as exc:
        raise ReceiptFontError(f"{path}: not a usable TrueType font ({exc})") from exc
    missing = [char for char in REQUIRED_CHARACTERS if ord(char) not in font.face.charToGlyph]
    if missing:
        raise ReceiptFontError(
            f"{path} has no glyphs for {''.join(missing)}: receipts need a CJK font "
            "such as WenQuanYi Zen Hei (fonts-wqy-zenhei)"
        )
    pdfmetrics.registerFont(font)
    return name
