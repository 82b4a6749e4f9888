"""Receipt PDFs read back with poppler: the Chinese text is in the file (pdftotext), the CJK font
is embedded (pdffonts), and the page renders real glyphs (pdftoppm), not empty boxes."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageChops
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from openprepaid.web.receipts import (
    FONT_ENV,
    ReceiptData,
    ReceiptFontError,
    parse_layout,
    render_receipt,
    render_receipts,
)
from openprepaid.web.receipts import fonts as receipt_fonts

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
A4_HEIGHT_PT = 841.89


def sale(**changes) -> ReceiptData:
    values = {
        "site_name": "星辰广场购物中心",
        "receipt_number": "S20261124-0007",
        "created_at": datetime(2026, 11, 24, 14, 5, 33, tzinfo=SHANGHAI),
        "kind": "售电",
        "tenant_name": "星辰名表",
        "tenant_code": "T-0012",
        "unit_code": "A-101",
        "account_number": "A00012",
        "meter_address": "000000000001",
        "amount": Decimal("1234.50"),
        "amount_in_words": "人民币壹仟贰佰叁拾肆元伍角整",
        "energy": Decimal("1481.45"),
        "unit_price": Decimal("0.8333"),
        "payment_method": "微信支付",
        "balance_after": Decimal("1356.20"),
        "purchase_count": 3,
        "cashier": "张晓梅",
    }
    values.update(changes)
    return ReceiptData(**values)


def poppler(tool: str, pdf: bytes, *args: str) -> str:
    return subprocess.run(
        [tool, *args, "-", "-"] if tool == "pdftotext" else [tool, *args, "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout.decode()


def text_of(pdf: bytes, *pages: str) -> str:
    """The text line by line as laid out, so a label and its value stay side by side."""
    return poppler("pdftotext", pdf, "-layout", *pages)


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def page_image(pdf: bytes, resolution: int, page: int = 1) -> Image.Image:
    png = subprocess.run(
        ["pdftoppm", "-r", str(resolution), "-png", "-f", str(page), "-l", str(page), "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout
    return Image.open(io.BytesIO(png)).convert("L")


def inked(image: Image.Image) -> int:
    """Pixels darker than light grey."""
    return sum(count for level, count in enumerate(image.histogram()) if level < 160)


def word_box(pdf: bytes, word: str) -> tuple[float, float, float, float]:
    """The first box pdftotext finds for ``word`` (points, y from the top of the page)."""
    html = poppler("pdftotext", pdf, "-bbox")
    pattern = (
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
        + re.escape(word)
        + "</word>"
    )
    match = re.search(pattern, html)
    assert match, f"{word} not found in {html[:2000]}"
    return tuple(float(value) for value in match.groups())  # type: ignore[return-value]


def character_cells(
    image: Image.Image, box: tuple[float, float, float, float], count: int, resolution: int
) -> list[Image.Image]:
    """The word in ``box`` cut into ``count`` equal cells, one per (full-width) character."""
    scale = resolution / 72
    x0, y0, x1, y1 = (value * scale for value in box)
    step = (x1 - x0) / count
    return [
        image.crop((round(x0 + index * step), round(y0), round(x0 + (index + 1) * step), round(y1)))
        for index in range(count)
    ]


def distinct_glyphs(cells: list[Image.Image]) -> bool:
    """Every cell is inked and no two cells look alike: real glyphs, not one repeated box."""
    if any(inked(cell) < 8 for cell in cells):
        return False
    for index, first in enumerate(cells):
        for second in cells[index + 1 :]:
            difference = ImageChops.difference(first, second.resize(first.size))
            if inked(Image.eval(difference, lambda level: 255 - level)) < 8:
                return False
    return True


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return render_receipt(sale(printed_at=datetime(2026, 11, 24, 14, 6, 2, tzinfo=SHANGHAI)))


def test_pdf_carries_the_chinese_text_of_every_part(pdf):
    assert pdf.startswith(b"%PDF-")
    text = squeezed(text_of(pdf))
    for part in ("第一联存根", "第二联客户", "第三联财务"):
        assert text.count(part) == 1
    for printed in (
        "星辰名表",
        "人民币壹仟贰佰叁拾肆元伍角整",
        "¥1,234.50",
        "电费收据",
        "收款单位：星辰广场购物中心",
        "No.S20261124-0007",
        "日期：2026-11-2414:05:33",
        "商户名称星辰名表",
        "单元A-101",
        "表地址000000000001",
        "业务类型售电",
        "支付方式微信支付",
        "购电次数3",
        "电量1,481.45kWh",
        "电价¥0.8333/kWh",
        "¥1,356.20",
        "张晓梅",
        "收款人签字",
        "客户签字",
        "请妥善保管",
        "打印时间：2026-11-2414:06:02",
    ):
        assert text.count(printed) == 3, printed


def test_the_cjk_font_is_embedded_and_the_only_font(pdf):
    lines = poppler("pdffonts", pdf).splitlines()[2:]
    assert len(lines) == 1, lines
    name, kind, *_ = lines[0].split()
    assert name.endswith("+WenQuanYiZenHei-0")  # a subset, embedded
    assert kind == "TrueType"
    assert lines[0].split()[-5:-2] == ["yes", "yes", "yes"]  # emb, sub, uni


def test_every_part_of_the_page_is_inked(pdf):
    image = page_image(pdf, 50)
    width, height = image.size
    for third in range(3):
        region = image.crop((0, third * height // 3, width, (third + 1) * height // 3))
        assert inked(region) > 2000, third


def test_chinese_text_renders_as_real_glyphs(pdf):
    resolution = 150
    image = page_image(pdf, resolution)
    for word in ("星辰名表", "微信支付"):
        cells = character_cells(image, word_box(pdf, word), len(word), resolution)
        assert distinct_glyphs(cells), word


def test_the_glyph_check_sees_boxes_from_a_font_without_chinese(tmp_path):
    """Control: the same check on text drawn with a Latin-only font (empty .notdef boxes)
    fails, so a pass above means real glyphs."""
    pdfmetrics.registerFont(TTFont("ReceiptTestDejaVu", str(DEJAVU)))
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(300, 100), initialFontName="ReceiptTestDejaVu")
    canvas.setFont("ReceiptTestDejaVu", 20)
    canvas.drawString(20, 50, "星辰名表")
    width = pdfmetrics.stringWidth("星辰名表", "ReceiptTestDejaVu", 20)
    canvas.save()
    boxes = buffer.getvalue()
    image = page_image(boxes, 150)
    cells = character_cells(image, (20, 100 - 50 - 16, 20 + width, 100 - 50 + 2), 4, 150)
    assert all(inked(cell) > 8 for cell in cells)  # something is drawn …
    assert not distinct_glyphs(cells)  # … but four times the same box


def test_two_parts_leave_the_bottom_third_blank():
    pdf = render_receipt(sale(), parse_layout({"parts": ["customer", "finance"]}))
    text = squeezed(text_of(pdf))
    assert "存根" not in text
    assert text.count("第二联客户") == 1
    assert text.count("第三联财务") == 1
    assert text.count("星辰名表") == 2
    image = page_image(pdf, 50)
    width, height = image.size
    assert inked(image.crop((0, 0, width, height // 3))) > 2000
    assert inked(image.crop((0, height * 2 // 3 + 2, width, height))) == 0


def test_continuous_form_paper_has_one_part_per_page():
    pdf = render_receipt(sale(), parse_layout({"paper": "241x93"}))
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout
    assert b"Pages:           3" in info
    assert b"683.15 x 263.622 pts" in info
    for page, part in enumerate(("第一联存根", "第二联客户", "第三联财务"), start=1):
        text = squeezed(text_of(pdf, "-f", str(page), "-l", str(page)))
        assert part in text
        assert "人民币壹仟贰佰叁拾肆元伍角整" in text
        assert inked(page_image(pdf, 50, page)) > 2000


def test_hidden_fields_are_absent():
    layout = parse_layout(
        {"fields": ["tenant_name", "unit_code", "kind", "amount_in_words", "amount"]}
    )
    text = squeezed(text_of(render_receipt(sale(), layout)))
    assert text.count("星辰名表") == 3
    assert text.count("人民币壹仟贰佰叁拾肆元伍角整") == 3
    for hidden in ("000000000001", "表地址", "张晓梅", "微信支付", "1,481.45", "¥1,356.20"):
        assert hidden not in text


def test_fields_print_in_the_layout_order():
    layout = parse_layout({"parts": ["stub"], "fields": ["meter_address", "tenant_name"]})
    text = squeezed(text_of(render_receipt(sale(), layout)))
    assert text.index("000000000001") < text.index("星辰名表")


def test_energy_and_price_only_when_present():
    text = squeezed(text_of(render_receipt(sale(energy=None, unit_price=None))))
    assert "kWh" not in text
    assert "电量" not in text
    assert "电价" not in text


def test_a_correction_prints_its_negative_amount_and_the_receipt_it_reverses():
    correction = sale(
        kind="冲正",
        amount=Decimal("-1234.50"),
        amount_in_words="负壹仟贰佰叁拾肆元伍角整",
        energy=None,
        unit_price=None,
        corrects_receipt="S20261124-0006",
        note="金额录入错误",
    )
    text = squeezed(text_of(render_receipt(correction)))
    assert text.count("-¥1,234.50") == 3
    assert text.count("负壹仟贰佰叁拾肆元伍角整") == 3
    assert text.count("冲正原收据号S20261124-0006") == 3
    assert text.count("备注金额录入错误") == 3


def test_layout_overrides_words_and_leaves_out_signatures_and_footer():
    layout = parse_layout(
        {
            "title": "星辰广场售电单",
            "captions": {"stub": "第一联 存根（白）"},
            "labels": {"tenant_name": "商铺名称"},
            "footer": "",
            "signatures": False,
        }
    )
    text = squeezed(text_of(render_receipt(sale(), layout)))
    assert text.count("星辰广场售电单") == 3
    assert "第一联存根（白）" in text
    assert text.count("商铺名称星辰名表") == 3
    for absent in ("电费收据", "商户名称", "签字", "请妥善保管"):
        assert absent not in text


def test_english_labels_still_print_chinese_names():
    text = text_of(render_receipt(sale(), language="en"))
    assert text.count("Electricity receipt") == 3
    for part in ("Part 1: stub", "Part 2: customer", "Part 3: finance"):
        assert part in text
    assert "Tenant" in text
    assert text.count("星辰名表") == 3


def test_long_values_shrink_to_stay_inside_the_page():
    long_name = "星辰名表（深圳）国际贸易有限公司华南区第一旗舰店暨售后服务中心" * 3
    pdf = render_receipt(sale(tenant_name=long_name, site_name="星辰广场" * 12))
    html = poppler("pdftotext", pdf, "-bbox")
    right_edges = [float(value) for value in re.findall(r'xMax="([\d.]+)"', html)]
    assert max(right_edges) < 595.28 - 14 * 72 / 25.4 + 1


def test_several_receipts_in_one_pdf():
    receipts = [sale(), sale(receipt_number="S20261124-0008", tenant_name="云裳服饰")]
    pdf = render_receipts(receipts)
    pages = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout
    assert b"Pages:           2" in pages
    second = squeezed(text_of(pdf, "-f", "2", "-l", "2"))
    assert second.count("云裳服饰") == 3
    assert "S20261124-0007" not in second
    continuous = render_receipts(receipts, parse_layout({"paper": "241x93", "parts": ["stub"]}))
    pages = subprocess.run(
        ["pdfinfo", "-"], input=continuous, capture_output=True, check=True
    ).stdout
    assert b"Pages:           2" in pages
    with pytest.raises(ValueError, match="no receipts"):
        render_receipts([])


def test_the_same_receipt_gives_the_same_bytes():
    assert render_receipt(sale()) == render_receipt(sale())


def test_a_missing_font_says_what_to_install(monkeypatch):
    monkeypatch.delenv(FONT_ENV, raising=False)
    monkeypatch.setattr(receipt_fonts, "DEFAULT_FONT_PATHS", (Path("/nonexistent/wqy.ttc"),))
    with pytest.raises(ReceiptFontError, match="fonts-wqy-zenhei"):
        render_receipt(sale())


def test_the_font_can_be_chosen_but_must_have_chinese_glyphs(monkeypatch, tmp_path):
    monkeypatch.setenv(FONT_ENV, str(tmp_path / "missing.ttf"))
    with pytest.raises(ReceiptFontError, match="no such font file"):
        render_receipt(sale())
    monkeypatch.setenv(FONT_ENV, str(DEJAVU))
    with pytest.raises(ReceiptFontError, match="no glyphs for 存根"):
        render_receipt(sale())
    not_a_font = tmp_path / "font.ttf"
    not_a_font.write_bytes(b"not a font")
    monkeypatch.setenv(FONT_ENV, str(not_a_font))
    with pytest.raises(ReceiptFontError, match="not a usable TrueType font"):
        render_receipt(sale())
    monkeypatch.setenv(FONT_ENV, "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
    assert render_receipt(sale()).startswith(b"%PDF-")
