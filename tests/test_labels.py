"""Every generated label is rendered by an independent ZPL renderer (zplkit) and its barcodes are
decoded (zxing-cpp) back to the intended data: GS1-128 and GS1 DataMatrix with FNC1/GS, SSCC,
location codes with their check character; at 203 and 300 dpi; Chinese names drawn.

zplkit does not implement ``^PQ`` (print quantity): ``rendered()`` removes it after checking it.
The Chinese font a real printer holds (``E:ANMDS.TTF``) is stood in for by a small TrueType
subset downloaded with ``~DY`` (tests/data/README.md).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

zplkit = pytest.importorskip("zplkit")
zxingcpp = pytest.importorskip("zxingcpp")

from wsms_tui import labels as L  # noqa: E402
from wsms_tui.barcodes import GS, interpret, location_check_digit, make_sscc  # noqa: E402

FONT = (Path(__file__).parent / "data" / "cjk-subset.ttf").read_bytes()
FONT_DOWNLOAD = f"~DY{L.DEFAULT_CJK_FONT},A,T,{len(FONT)},,{FONT.hex().upper()}"


def rendered(label: L.Label) -> object:
    zpl = label.zpl
    assert len(re.findall(r"\^PQ\d+", zpl)) == 1
    zpl = re.sub(r"\^PQ\d+", "", zpl)
    doc = zplkit.render(FONT_DOWNLOAD + zpl, zplkit.Options(dpi=label.dpi, width=4 * label.dpi,
                                                            height=6 * label.dpi))
    assert len(doc.labels) == 1
    return doc.labels[0]


def decoded(label: L.Label) -> list[tuple[str, bytes]]:
    raster = rendered(label).rasterize()  # type: ignore[attr-defined]
    view = memoryview(raster.pixels).cast("B", (raster.height, raster.width))
    return sorted((b.symbology_identifier, b.bytes) for b in zxingcpp.read_barcodes(view))


def expected(label: L.Label) -> list[tuple[str, bytes]]:
    aim = {"gs1-128": "]C1", "gs1-datamatrix": "]d2", "code128": "]C0"}
    return sorted((aim[b.kind], b.data.encode()) for b in label.barcodes)


def ink(label: L.Label, box: tuple[int, int, int, int]) -> int:
    raster = rendered(label).rasterize()  # type: ignore[attr-defined]
    x0, y0, x1, y1 = box
    px = raster.pixels
    return sum(1 for y in range(y0, y1) for x in range(x0, x1) if px[y * raster.width + x] < 128)


DPIS = [203, 300]


@pytest.mark.parametrize("dpi", DPIS)
def test_product_label_gs1_128_and_datamatrix_decode_back(dpi: int) -> None:
    label = L.product_label(sku="SKU-1", name="苹果汁 1L", gtin="4006381333931", lot="L0T-7>A",
                            expiry=date(2027, 3, 31), count=12, dpi=dpi)
    got = decoded(label)
    want = b"0104006381333931" + b"17270331" + b"10L0T-7>A" + b"\x1d" + b"3712"
    assert got == [("]C1", want), ("]d2", want)] == expected(label)
    for _, data in got:  # and our own interpretation of what a scanner would send
        r = interpret(data.decode(), "]C1")
        assert (r.kind, r.gtin, r.lot, r.expiry, r.count) == ("gs1", "04006381333931", "L0T-7>A",
                                                               date(2027, 3, 31), 12)


@pytest.mark.parametrize("dpi", DPIS)
def test_serial_label_with_lot_and_serial_needs_two_separators(dpi: int) -> None:
    label = L.product_label(sku="S", name="Scanner", gtin="09506000134352", lot="A1", serial="SN0001",
                            dpi=dpi)
    want = b"0109506000134352" + b"10A1\x1d" + b"21SN0001"
    assert decoded(label) == [("]C1", want), ("]d2", want)]
    assert label.serialized


@pytest.mark.parametrize("dpi", DPIS)
def test_lpn_label_sscc(dpi: int) -> None:
    sscc = make_sscc("0614141", 123456789, extension=3)
    label = L.lpn_label(sscc, contents="绿茶 x 40", reference="PO-1", dpi=dpi)
    assert decoded(label) == [("]C1", b"00" + sscc.encode())]
    assert label.serialized
    assert interpret("00" + sscc, "]C1").sscc == sscc


@pytest.mark.parametrize("dpi", DPIS)
@pytest.mark.parametrize("code", ["A-01-02", "Z9.99.1", "RECV>1", "B12"])
def test_location_label_carries_the_check_character(dpi: int, code: str) -> None:
    label = L.location_label(code, dpi=dpi)
    data = f"%LOC:{code}:{location_check_digit(code)}"
    assert decoded(label) == [("]C0", data.encode())]
    r = interpret(data)
    assert (r.kind, r.location) == ("location", code)


@pytest.mark.parametrize("dpi", DPIS)
def test_shipping_and_test_labels(dpi: int) -> None:
    sscc = make_sscc("0614141", 5)
    ship = L.shipping_label(sscc=sscc, ship_from="上海仓库", ship_to="北京 收件人", address="北京市 1 号路",
                            carrier="SF", tracking="SF1234567890", dpi=dpi)
    assert decoded(ship) == expected(ship)
    test = L.test_label("socket://10.0.0.5:9100", dpi=dpi)
    assert decoded(test) == [("]C1", b"0109506000134352" + b"10TEST")]


def test_dimensions_scale_with_dpi() -> None:
    a = L.product_label(sku="S", name="n", gtin="4006381333931", dpi=203)
    b = L.product_label(sku="S", name="n", gtin="4006381333931", dpi=300)
    assert "^PW812" in a.zpl and "^PW1200" in b.zpl
    assert "^BY2" in a.zpl and "^BY3" in b.zpl
    ra, rb = rendered(a), rendered(b)
    assert (ra.width, rb.width) == (812, 1200)  # type: ignore[attr-defined]
    with pytest.raises(L.LabelError, match="203 or 300"):
        L.product_label(sku="S", name="n", gtin="4006381333931", dpi=600)


def test_chinese_name_is_utf8_and_drawn() -> None:
    label = L.product_label(sku="S", name="苹果汁", gtin="4006381333931", dpi=203)
    assert label.zpl.startswith("^XA^CI28")
    assert "^FD苹果汁^FS" in label.zpl
    blank = L.product_label(sku="S", name="", gtin="4006381333931", dpi=203)
    name_box = (30, 20, 600, 62)
    assert ink(label, name_box) > 300 and ink(blank, name_box) == 0


def test_caret_and_tilde_in_data_are_escaped() -> None:
    label = L.product_label(sku="^XZ~JA", name="a_b^c~d", gtin="4006381333931", dpi=203)
    assert "^FDa_5Fb_5Ec_7Ed^FS" in label.zpl and "^FDSKU _5EXZ_7EJA^FS" in label.zpl
    assert label.zpl.count("^XZ") == 1 and "~JA" not in label.zpl
    assert "a_b^c~d" in label.preview() and "SKU ^XZ~JA" in label.preview()
    assert len(decoded(label)) == 2  # the label still renders whole


def test_values_that_cannot_go_in_a_gs1_barcode_are_refused() -> None:
    with pytest.raises(L.LabelError, match="GTIN"):
        L.product_label(sku="S", name="n", gtin="4006381333932")
    with pytest.raises(L.LabelError, match="lot"):
        L.product_label(sku="S", name="n", gtin="4006381333931", lot="批次1")
    with pytest.raises(L.LabelError, match="SSCC"):
        L.lpn_label("123")
    with pytest.raises(L.LabelError, match="location code"):
        L.location_label("A 1^")


def test_preview_says_what_the_label_says() -> None:
    label = L.product_label(sku="SKU-1", name="苹果汁 1L", gtin="4006381333931", lot="L1",
                            expiry=date(2027, 3, 31), dpi=300)
    lines = label.preview().splitlines()
    assert "苹果汁 1L" in lines and "SKU SKU-1" in lines
    assert "[GS1-128] (01)04006381333931(17)270331(10)L1" in lines
    assert "[GS1 DataMatrix] (01)04006381333931(17)270331(10)L1" in lines
    loc = L.location_label("A-01-02").preview().splitlines()
    assert loc[0] == "A-01-02" and f"[Code 128] %LOC:A-01-02:{location_check_digit('A-01-02')}" in loc


def test_user_template_overrides_the_built_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WSMS_LABELS_DIR", str(tmp_path))
    (tmp_path / "location.zpl").write_text(
        "^XA^CI28^PW{d:400}^FO{d:10},{d:10}^A0N,{d:40},{d:40}^FH^FDBIN {code}^FS"
        "^FO{d:10},{d:60}^BY{d:2}^BCN,{d:80},N,N,N^FD{barcode}^FS^PQ{copies}^XZ", encoding="utf-8")
    label = L.location_label("C-3", dpi=300)
    assert label.template == str(tmp_path / "location.zpl")
    assert "^PW591" in label.zpl and label.preview().splitlines()[0] == "BIN C-3"
    assert decoded(label) == expected(label)
    assert "barcode" in L.template_fields("location") and "d" not in L.template_fields("location")
    (tmp_path / "location.zpl").write_text("^XA^FD{nope}^FS^XZ", encoding="utf-8")
    with pytest.raises(L.LabelError, match="unknown field 'nope'"):
        L.location_label("C-3")
    (tmp_path / "product.zpl").write_text("no format here {name}", encoding="utf-8")
    with pytest.raises(L.LabelError, match=r"\^XA"):
        L.product_label(sku="S", name="n", gtin="4006381333931")
    with pytest.raises(L.LabelError, match="no label template"):
        L.template_text("missing")


def test_code128_data_uses_subset_c_for_digit_runs() -> None:
    assert L.code128_data("0104006381333931", gs1=True) == ">;>80104006381333931"
    assert L.code128_data("10AB" + GS + "3712", gs1=True) == ">;>810>6AB>8>53712"
    assert L.code128_data("A>^~", gs1=False) == ">:A>0><>="
