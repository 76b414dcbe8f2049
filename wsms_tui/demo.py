"""The demo warehouse: two warehouses, a believable catalogue and twelve months of ledger history.

``build_demo`` fills an empty database (refusing one that already holds products) with:

* warehouses ``SH1`` (上海仓) and ``LA1`` (Los Angeles DC), each a view root location over bins laid
  out in aisles × bays × levels with x/y coordinates (aisle spacing, bay width), zones and capacity;
* products with Chinese + English names, valid GTIN-13 codes (some GTIN-14 case codes with a pack
  quantity), categories, costs, weight and volume; food is lot-tracked with a shelf life,
  electronics are serial-tracked, a few bulk goods are sold by the kilogram;
* a year of history up to ``today``: receipts from ``VIRT/SUPPLIER`` on an (s, Q) reorder policy with
  lead times, pick-face replenishment transfers, sales to ``VIRT/CUSTOMER`` with seasonality, weekly
  patterns, warehouse events (Double 11, 618, Chinese New Year, Black Friday) and intermittent demand,
  FEFO picking, expiry write-offs, damage and count adjustments against ``VIRT/LOSS``, and a few
  reversed mistakes. Sales never exceed stock; a serial is in stock at most once;
* quants computed from those moves (so ``stock.verify_ledger`` is clean), one user per role with a
  known PIN (``Meta demo_logins``), ``Meta demo = scale`` and one ``demo.build`` audit event.

Everything is deterministic: a fixed seed and a fixed reference date; no wall clock in the data.
Rows go in with SQLAlchemy Core ``insert()`` executemany in chunks; on PostgreSQL the ledger is
streamed with ``COPY``. Quantities and money are written already scaled (see ``db.types``).
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, MetaData, Table, bindparam, func, insert, select, text
from sqlmodel import Session

from wsms_tui import audit
from wsms_tui.authz import require
from wsms_tui.barcodes import gs1_check_digit
from wsms_tui.database import Database
from wsms_tui.db.models import (
    LedgerEntry,
    Location,
    LocationUsage,
    Lot,
    Meta,
    Product,
    ProductBarcode,
    Quant,
    User,
    Warehouse,
)
from wsms_tui.db.types import MONEY_SCALE, QTY_SCALE, ScaledDecimal
from wsms_tui.errors import BadInput
from wsms_tui.i18n import _
from wsms_tui.ledger import CUSTOMER, LOSS, SUPPLIER
from wsms_tui.security import Actor
from wsms_tui.users import add_user

Progress = Callable[[str, int, int], None]

SEED = 20261101
DEFAULT_TODAY = date(2026, 11, 1)
HISTORY_DAYS = 365
TERMINAL = "demo"
U = 10**QTY_SCALE  # one unit, scaled
M = 10**MONEY_SCALE  # one currency unit, scaled
DAY_US = 86_400 * 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CHUNK = 20_000

DEMO_LOGINS: tuple[tuple[str, str, str, str], ...] = (
    ("admin", "admin", "1111", "Demo admin 管理员"),
    ("supervisor", "supervisor", "2222", "Demo supervisor 主管"),
    ("clerk", "clerk", "3333", "Demo clerk 仓管员"),
    ("finance", "finance", "4444", "Demo finance 财务"),
)


# --------------------------------------------------------------------------------------------
# scales and the fixed world
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    layouts: tuple[tuple[int, int, int], tuple[int, int, int]]  # (aisles, bays, levels) per warehouse
    products: int
    days: int
    rate: float  # mean sales events per stocked product per day


SCALES: dict[str, Scale] = {
    "tiny": Scale(((2, 4, 3), (2, 4, 3)), 30, 120, 0.35),
    "small": Scale(((8, 10, 3), (8, 10, 3)), 300, HISTORY_DAYS, 0.19),
    "large": Scale(((22, 25, 5), (24, 30, 4)), 2000, HISTORY_DAYS, 0.77),
}


@dataclass(frozen=True)
class _WhSpec:
    code: str
    name: str
    root_name: str
    address: str
    utc_offset_h: int
    lead_days: tuple[int, int]
    weekday: tuple[float, ...]  # Monday..Sunday demand factors
    events: tuple[tuple[int, int, int, int, float], ...]  # (month, day, month, day, factor), inclusive
    home_share: float  # share of products stocked here


WAREHOUSES: tuple[_WhSpec, _WhSpec] = (
    _WhSpec("SH1", "上海仓 Shanghai DC", "SH1 上海仓", "上海市嘉定区马陆镇宝安公路 2999 号", 8, (2, 6),
            (1.18, 1.06, 1.0, 1.0, 0.98, 0.9, 0.86),
            ((1, 20, 2, 13, 1.45), (2, 14, 2, 22, 0.35), (5, 28, 6, 18, 1.5), (11, 1, 11, 11, 2.1),
             (12, 10, 12, 12, 1.3)),
            0.72),
    _WhSpec("LA1", "Los Angeles DC", "LA1 Los Angeles DC", "1200 E Dominguez St, Carson, CA 90746", -8, (8, 21),
            (1.22, 1.1, 1.05, 1.0, 0.95, 0.42, 0.3),
            ((11, 24, 12, 1, 2.0), (12, 2, 12, 20, 1.4), (12, 24, 12, 26, 0.3), (8, 1, 8, 25, 1.2)),
            0.62),
)

MONTHLY: dict[str, tuple[float, ...]] = {  # Jan..Dec
    "summer": (0.7, 0.72, 0.85, 0.95, 1.1, 1.3, 1.45, 1.4, 1.1, 0.9, 0.8, 0.75),
    "festive": (1.45, 1.3, 0.9, 0.88, 0.9, 0.92, 0.9, 0.9, 0.98, 1.05, 1.35, 1.4),
    "pantry": (1.25, 1.2, 0.95, 0.95, 0.95, 0.95, 0.9, 0.9, 1.0, 1.05, 1.05, 1.15),
    "flat": (1.0,) * 12,
    "school": (0.8, 1.15, 1.2, 0.9, 0.85, 0.8, 0.9, 1.55, 1.45, 0.95, 0.8, 0.7),
    "winter": (1.4, 1.2, 0.9, 0.7, 0.6, 0.55, 0.55, 0.65, 0.9, 1.2, 1.5, 1.6),
    "gifts": (0.9, 0.85, 0.8, 0.8, 0.85, 1.0, 0.85, 0.9, 0.95, 1.0, 1.9, 1.8),
}

# An item: (Chinese, English, sizes). A family: its items, variants and how it behaves.
Item = tuple[str, str, tuple[str, ...]]


@dataclass(frozen=True)
class _Family:
    category: str
    prefix: str
    tracking: str
    share: float
    shelf_life: tuple[int, int] | None
    cost: tuple[float, float]
    season: str
    case_qty: int
    items: tuple[Item, ...]
    variants: tuple[tuple[str, str], ...] = (("", ""),)
    uom: str = "unit"
    intermittent: float = 0.25  # share of its products with intermittent demand
    mean_qty: tuple[float, float] = (1.0, 3.0)


_DRINK = ("330ml", "500ml", "1L", "1.5L")
FAMILIES: tuple[_Family, ...] = (
    _Family("饮料 Beverages", "BEV", "lot", 0.14, (240, 540), (1.5, 4.0), "summer", 24, (
        ("绿茶", "Green tea", ("500ml", "1L")), ("乌龙茶", "Oolong tea", ("500ml", "1L")),
        ("茉莉花茶", "Jasmine tea", ("500ml",)), ("矿泉水", "Mineral water", ("550ml", "1.5L", "5L")),
        ("苏打水", "Soda water", ("330ml", "500ml")), ("橙汁", "Orange juice", ("300ml", "1L")),
        ("苹果汁", "Apple juice", ("300ml", "1L")), ("椰子水", "Coconut water", ("330ml", "1L")),
        ("豆奶", "Soy milk", ("250ml", "1L")), ("柠檬茶", "Lemon tea", _DRINK[:2]),
        ("冰咖啡", "Iced coffee", ("280ml",)), ("酸梅汤", "Sour plum drink", ("330ml", "1.5L")),
        ("可乐", "Cola", _DRINK), ("运动饮料", "Sports drink", ("500ml", "1L")),
    ), (("", ""), ("无糖", "unsweetened"), ("低糖", "less sugar")), intermittent=0.1, mean_qty=(1.5, 6.0)),
    _Family("零食 Snacks", "SNK", "lot", 0.17, (150, 300), (0.8, 3.5), "festive", 12, (
        ("薯片", "Potato chips", ("70g", "150g")), ("苏打饼干", "Soda crackers", ("200g", "400g")),
        ("海苔", "Seaweed snack", ("20g", "50g")), ("混合坚果", "Mixed nuts", ("150g", "500g")),
        ("牛肉干", "Beef jerky", ("100g", "250g")), ("黑巧克力", "Dark chocolate", ("100g",)),
        ("果冻", "Fruit jelly", ("300g", "600g")), ("瓜子", "Sunflower seeds", ("200g", "500g")),
        ("锅巴", "Rice crisps", ("100g", "200g")), ("麻花", "Fried dough twists", ("250g",)),
        ("凤梨酥", "Pineapple cake", ("300g", "600g")), ("辣条", "Spicy gluten strips", ("100g", "300g")),
        ("蛋卷", "Egg rolls", ("200g",)), ("肉松饼", "Pork floss pastry", ("300g",)),
    ), (("原味", "original"), ("麻辣", "spicy"), ("番茄味", "tomato"), ("海盐", "sea salt"), ("烧烤味", "BBQ")),
        intermittent=0.15, mean_qty=(1.5, 5.0)),
    _Family("粮油调味 Pantry", "PAN", "lot", 0.13, (360, 720), (1.2, 9.0), "pantry", 12, (
        ("泰国香米", "Jasmine rice", ("2.5kg", "5kg")), ("挂面", "Dried noodles", ("500g", "1kg")),
        ("生抽", "Light soy sauce", ("500ml", "1.9L")), ("老抽", "Dark soy sauce", ("500ml",)),
        ("米醋", "Rice vinegar", ("500ml",)), ("花生油", "Peanut oil", ("900ml", "5L")),
        ("蚝油", "Oyster sauce", ("510g",)), ("辣椒酱", "Chili sauce", ("210g", "500g")),
        ("方便面", "Instant noodles", ("5-pack", "12-pack")), ("火锅底料", "Hot pot base", ("150g", "400g")),
        ("芝麻油", "Sesame oil", ("220ml", "450ml")), ("红枣", "Red dates", ("500g",)),
    ), (("", ""), ("有机", "organic"), ("家庭装", "family pack")), intermittent=0.2, mean_qty=(1.2, 4.0)),
    _Family("乳制品 Dairy", "DRY", "lot", 0.05, (21, 60), (0.9, 4.5), "flat", 24, (
        ("纯牛奶", "Whole milk", ("250ml", "1L")), ("脱脂牛奶", "Skim milk", ("1L",)),
        ("酸奶", "Yogurt", ("100g", "450g")), ("奶酪棒", "Cheese sticks", ("90g",)),
        ("黄油", "Butter", ("200g",)), ("豆浆", "Fresh soy milk", ("1L",)),
    ), (("", ""), ("原味", "plain"), ("草莓", "strawberry")), intermittent=0.05, mean_qty=(2.0, 6.0)),
    _Family("散装 Bulk goods", "BLK", "lot", 0.01, (180, 360), (0.6, 3.0), "pantry", 0, (
        ("散装大米", "Bulk jasmine rice", ("per kg",)), ("散装绿豆", "Bulk mung beans", ("per kg",)),
        ("散装红枣", "Bulk red dates", ("per kg",)), ("散装核桃", "Bulk walnuts", ("per kg",)),
        ("散装花生", "Bulk peanuts", ("per kg",)),
    ), uom="kg", intermittent=0.0, mean_qty=(1.0, 4.0)),
    _Family("家居清洁 Household", "HOM", "none", 0.14, None, (1.0, 12.0), "flat", 12, (
        ("抽纸", "Facial tissues", ("3-pack", "6-pack")), ("卷纸", "Toilet paper", ("10 rolls", "27 rolls")),
        ("洗洁精", "Dish soap", ("500ml", "1.5L")), ("洗衣液", "Laundry detergent", ("1L", "3kg")),
        ("垃圾袋", "Trash bags", ("30 bags", "100 bags")), ("保鲜膜", "Cling film", ("30m", "100m")),
        ("百洁布", "Scrub sponges", ("5-pack",)), ("消毒湿巾", "Disinfecting wipes", ("80 wipes",)),
        ("地板清洁剂", "Floor cleaner", ("1L", "2L")), ("衣架", "Clothes hangers", ("10-pack",)),
    ), (("", ""), ("柠檬香", "lemon"), ("无香", "unscented"), ("加厚", "extra thick")), mean_qty=(1.0, 3.0)),
    _Family("个人护理 Personal care", "PCR", "none", 0.1, None, (1.5, 15.0), "summer", 24, (
        ("牙膏", "Toothpaste", ("120g", "180g")), ("牙刷", "Toothbrush", ("2-pack",)),
        ("洗发水", "Shampoo", ("400ml", "750ml")), ("护发素", "Conditioner", ("400ml",)),
        ("沐浴露", "Body wash", ("400ml", "1L")), ("护手霜", "Hand cream", ("50ml",)),
        ("防晒霜", "Sunscreen SPF50", ("60ml",)), ("洗面奶", "Facial cleanser", ("100ml",)),
    ), (("", ""), ("薄荷", "mint"), ("清爽", "fresh"), ("滋润", "moisturising")), mean_qty=(1.0, 2.5)),
    _Family("文具 Stationery", "STA", "none", 0.08, None, (0.5, 25.0), "school", 24, (
        ("笔记本", "Notebook", ("A5", "B5")), ("中性笔", "Gel pen 0.5mm", ("1pc", "12-pack")),
        ("便利贴", "Sticky notes", ("76x76mm",)), ("透明胶带", "Clear tape", ("18mm", "48mm")),
        ("文件夹", "File folder", ("A4",)), ("订书机", "Stapler", ("No.10",)),
        ("荧光笔", "Highlighter", ("6-pack",)), ("计算器", "Calculator", ("12-digit",)),
    ), (("黑色", "black"), ("蓝色", "blue"), ("红色", "red"), ("彩色", "assorted")), intermittent=0.35),
    _Family("服装 Apparel", "APP", "none", 0.06, None, (4.0, 40.0), "winter", 0, (
        ("纯棉T恤", "Cotton T-shirt", ("S", "M", "L", "XL")), ("运动袜", "Sports socks", ("M", "L")),
        ("连帽卫衣", "Hoodie", ("M", "L", "XL")), ("羽绒背心", "Down vest", ("M", "L", "XL")),
        ("棒球帽", "Baseball cap", ("one size",)),
    ), (("黑", "black"), ("白", "white"), ("灰", "grey"), ("藏青", "navy")), intermittent=0.45),
    _Family("数码配件 Accessories", "ACC", "none", 0.07, None, (2.0, 30.0), "gifts", 0, (
        ("USB-C 数据线", "USB-C cable", ("1m", "2m")), ("快充充电器", "Fast charger", ("20W", "65W")),
        ("手机壳", "Phone case", ("6.1in", "6.7in")), ("钢化膜", "Screen protector", ("6.1in", "6.7in")),
        ("无线鼠标", "Wireless mouse", ("1pc",)), ("存储卡", "microSD card", ("64GB", "256GB")),
    ), (("", ""), ("白色", "white"), ("黑色", "black")), intermittent=0.3),
    _Family("电子产品 Electronics", "ELE", "serial", 0.05, None, (25.0, 420.0), "gifts", 0, (
        ("蓝牙耳机", "Bluetooth earbuds", ("ANC", "Lite")), ("充电宝", "Power bank", ("10000mAh", "20000mAh")),
        ("智能手表", "Smart watch", ("41mm", "45mm")), ("智能手机", "Smartphone", ("128GB", "256GB")),
        ("平板电脑", "Tablet 11in", ("128GB", "256GB")), ("蓝牙音箱", "Bluetooth speaker", ("mini", "XL")),
        ("无线路由器", "Wi-Fi 6 router", ("AX1800", "AX3000")), ("机械键盘", "Mechanical keyboard", ("87-key",)),
        ("电子阅读器", "E-reader", ("6in", "7in")), ("运动相机", "Action camera", ("4K",)),
    ), (("", ""), ("Pro", "Pro"), ("青春版", "Lite")), intermittent=0.4, mean_qty=(1.0, 1.2)),
)

BRANDS_CN = (("青山", "Qingshan"), ("福满", "Fuman"), ("金禾", "Jinhe"), ("海川", "Haichuan"), ("悦享", "Yuexiang"),
             ("优品", "Youpin"), ("春田", "Chuntian"), ("嘉年", "Jianian"))
BRANDS_US = (("太平洋", "Pacific Crest"), ("北湾", "Northbay"), ("金州", "Golden State"), ("红杉", "Redwood"))
ZONES = ("FOOD", "HOME", "ELEC")

ADJ_REASONS = ("expired", "damage", "count", "count", "lost", "found", "undo")
K_RECEIVE, K_TRANSFER, K_SHIP, K_ADJ_IN, K_ADJ_OUT, K_REVERSE, K_WRONG = range(7)
KIND_NAMES = ("receive", "transfer", "ship", "adjust", "adjust", "reverse", "transfer")
R_NONE, R_EXPIRED, R_DAMAGE, R_COUNT, R_LOST, R_FOUND, R_UNDO = range(7)
REASON_NAMES = ("", "expired", "damage", "count", "lost", "found", "undo")
DOC_PREFIX = ("PO", "RPL", "SO", "ADJ", "ADJ", "", "RPL")
# virtual locations in the plan are negative indices
V_SUPPLIER, V_CUSTOMER, V_LOSS = -1, -2, -3


@dataclass
class DemoSummary:
    warehouses: int = 0
    locations: int = 0
    products: int = 0
    lots: int = 0
    ledger_entries: int = 0
    users: int = 0
    seconds: float = 0.0
    barcodes: int = 0
    quants: int = 0
    scale: str = ""


# --------------------------------------------------------------------------------------------
# the plan: everything generated in Python, deterministically, before a single row is written
# --------------------------------------------------------------------------------------------


@dataclass
class _Bin:
    wh: int
    code: str
    zone: str
    aisle: int
    bay: int
    level: int
    x: float
    y: float
    capacity: int


@dataclass
class _Prod:
    idx: int
    sku: str
    name: str
    family: _Family
    uom: str
    tracking: str
    shelf_life: int | None
    weight_g: int
    volume_ml: int
    cost: int  # scaled money
    gtin13: str | None
    case_gtin: str | None
    case_qty: int
    us_brand: bool


@dataclass
class _Plan:
    bins: list[_Bin] = field(default_factory=list)
    products: list[_Prod] = field(default_factory=list)
    lots: list[tuple[int, str, date | None, bool]] = field(default_factory=list)  # (product idx, no, expiry, serial)
    rows: list[tuple[Any, ...]] = field(default_factory=list)


def _gtin(body: str) -> str:
    return body + str(gs1_check_digit(body))


def _size_measure(size: str, rng: random.Random) -> tuple[int, int, float]:
    """(weight g, volume ml, size factor for cost) from a size text like 500ml, 1.5L, 200g, 5kg."""
    s = size.lower()
    for suffix, ml in (("ml", 1.0), ("l", 1000.0)):
        if s.endswith(suffix) and s[: -len(suffix)].replace(".", "", 1).isdigit():
            v = float(s[: -len(suffix)]) * ml
            return int(v * 1.04 + 30), int(v * 1.08), max(0.6, (v / 500) ** 0.7)
    for suffix, g in (("kg", 1000.0), ("g", 1.0)):
        if s.endswith(suffix) and s[: -len(suffix)].replace(".", "", 1).isdigit():
            w = float(s[: -len(suffix)]) * g
            return int(w * 1.05 + 10), int(w * 1.9 + 20), max(0.5, (w / 300) ** 0.7)
    w = rng.randint(60, 900)
    return w, int(w * rng.uniform(1.5, 4.0)), 1.0 + 0.25 * ("pack" in s or "rolls" in s or "256" in s)


def _plan_products(rng: random.Random, n: int) -> list[_Prod]:
    total_share = sum(f.share for f in FAMILIES)
    counts = [max(1, round(n * f.share / total_share)) for f in FAMILIES]
    while sum(counts) > n:
        counts[counts.index(max(counts))] -= 1
    while sum(counts) < n:
        counts[counts.index(max(counts))] += 1
    prefixes: list[str] = []
    for i in range(len(BRANDS_CN) + len(BRANDS_US)):
        while True:  # 7-digit GS1 company prefixes: 690–695 China, 00–09 US (UPC in EAN-13 form)
            if i < len(BRANDS_CN):
                p = f"69{rng.randint(0, 5)}{rng.randint(0, 9999):04d}"
            else:
                p = f"0{rng.randint(1, 9)}{rng.randint(0, 99999):05d}"
            if p not in prefixes:
                prefixes.append(p)
                break
    item_ref = [0] * len(prefixes)
    out: list[_Prod] = []
    for fam, count in zip(FAMILIES, counts, strict=True):
        combos = [(b, it, v, sz) for b in range(len(BRANDS_CN) + len(BRANDS_US)) for it in range(len(fam.items))
                  for v in range(len(fam.variants)) for sz in range(len(fam.items[it][2]))]
        rng.shuffle(combos)
        for k in range(count):
            b, it, v, sz = combos[k % len(combos)]
            cn, en, sizes = fam.items[it]
            vcn, ven = fam.variants[v]
            size = sizes[sz]
            us = b >= len(BRANDS_CN)
            bcn, ben = (BRANDS_US[b - len(BRANDS_CN)] if us else BRANDS_CN[b])
            name = f"{bcn}{cn}" + (f"（{vcn}）" if vcn else "") + f" {ben} {en}" + (f", {ven}" if ven else "")
            name += f" {size}" if fam.uom == "unit" else ""
            if k >= len(combos):
                name += f" #{k // len(combos) + 1}"
            idx = len(out)
            weight, volume, factor = _size_measure(size, rng)
            if fam.uom == "kg":
                weight, volume, factor = 1000, 1600, 1.0
            cost = rng.uniform(*fam.cost) * factor * (1.15 if us else 1.0)
            gtin = case = None
            case_qty = 0
            if fam.uom == "unit":
                item_ref[b] += 1
                body = prefixes[b] + f"{item_ref[b]:05d}"
                gtin = _gtin(body)
                if fam.case_qty and rng.random() < 0.6:
                    case_qty = fam.case_qty if rng.random() < 0.7 else fam.case_qty // 2 or 12
                    case = _gtin(str(1 if case_qty <= 12 else 2) + body)
            shelf = rng.randint(*fam.shelf_life) if fam.shelf_life else None
            out.append(_Prod(idx, f"{fam.prefix}-{idx + 1:05d}", name, fam, fam.uom, fam.tracking, shelf,
                             weight, volume, max(1, round(cost * 100)) * (M // 100), gtin, case, case_qty, us))
    return out


def _plan_bins(scale: Scale) -> list[_Bin]:
    bins: list[_Bin] = []
    for w, (spec, (aisles, bays, levels)) in enumerate(zip(WAREHOUSES, scale.layouts, strict=True)):
        for a in range(aisles):
            zone = ZONES[0] if a < math.ceil(aisles * 0.5) else ZONES[1] if a < math.ceil(aisles * 0.85) else ZONES[2]
            for b in range(bays):
                for lv in range(levels):
                    code = f"{spec.code}-A{a + 1:02d}-{b + 1:02d}-{lv + 1}"
                    bins.append(_Bin(w, code, zone, a + 1, b + 1, lv + 1, round(2.0 + a * 3.2, 2),
                                     round(4.0 + (b + 0.5) * 1.3, 2), 600 if lv < 2 else 1500))
    return bins


def _day_factors(spec: _WhSpec, start: date, days: int) -> list[float]:
    out = []
    for d in range(days):
        day = start + timedelta(days=d)
        f = spec.weekday[day.weekday()]
        md = (day.month, day.day)
        for m1, d1, m2, d2, factor in spec.events:
            if (m1, d1) <= md <= (m2, d2):
                f *= factor
        out.append(f)
    return out


def _season_factors(start: date, days: int) -> dict[str, list[float]]:
    months = [(start + timedelta(days=d)).month - 1 for d in range(days)]
    out = {}
    for name, table in MONTHLY.items():
        out[name] = [table[m] for m in months]
    return out


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit = math.exp(-lam)
    k = 0
    p = rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _take(stock: list[list[int]], qty: int) -> list[tuple[int, int]]:
    """Consume ``qty`` from a FEFO list of [lot, qty]; returns the (lot, qty) portions taken."""
    out = []
    while qty > 0 and stock:
        head = stock[0]
        q = head[1] if head[1] <= qty else qty
        out.append((head[0], q))
        head[1] -= q
        qty -= q
        if head[1] == 0:
            stock.pop(0)
    return out


def _total(stock: list[list[int]]) -> int:
    return sum(e[1] for e in stock)


class _Sim:
    """Simulates one product stocked in one warehouse, day by day, appending ledger rows."""

    def __init__(self, plan: _Plan, rng: random.Random, start: date, start_us: int, days: int,
                 seasons: dict[str, list[float]], day_factor: list[list[float]]) -> None:
        self.plan = plan
        self.rng = rng
        self.start = start
        self.start_us = start_us
        self.days = days
        self.seasons = seasons
        self.day_factor = day_factor
        self.lot_seq: dict[int, int] = {}

    def new_lot(self, p: _Prod, wh: str, d: int) -> tuple[int, int | None]:
        n = self.lot_seq.get(p.idx, 0) + 1
        self.lot_seq[p.idx] = n
        day = self.start + timedelta(days=d)
        if p.tracking == "serial":
            lot_no = f"{p.sku[4:]}{wh[:1]}{day:%y%m}{n:05d}"
            self.plan.lots.append((p.idx, f"SN{lot_no}", None, True))
            return len(self.plan.lots), None
        assert p.shelf_life is not None
        exp_day = d + p.shelf_life - self.rng.randint(0, min(20, p.shelf_life // 4))
        lot_no = f"{day:%y%m%d}{wh[:1]}{n:03d}"
        self.plan.lots.append((p.idx, lot_no, self.start + timedelta(days=exp_day), False))
        return len(self.plan.lots), exp_day

    def run(self, p: _Prod, w: int, pick: int, reserve: int, others: list[int], lam: float) -> None:
        rng, rows = self.rng, self.plan.rows
        spec = WAREHOUSES[w]
        off_us = -spec.utc_offset_h * 3_600_000_000
        season = self.seasons[p.family.season]
        dayf = self.day_factor[w]
        days = self.days
        serial = p.tracking == "serial"
        lotted = p.tracking == "lot"
        kg = p.uom == "kg"
        fam = p.family
        intermittent = rng.random() < fam.intermittent
        mean_q = rng.uniform(*fam.mean_qty)
        if intermittent:
            occur = min(0.6, lam * rng.uniform(0.25, 0.5))
            size_mean = max(1.0, lam * mean_q / occur)
        else:
            occur = 0.0
            size_mean = mean_q
        growth = rng.uniform(-0.35, 0.5)
        launch = rng.randint(days // 6, days * 5 // 6) if rng.random() < 0.07 else 0
        stop = rng.randint(days // 3, days - 10) if rng.random() < 0.05 else days
        unit = 1000 if kg else U  # kg products move in grams
        daily_units = max(lam * mean_q, 0.05)  # events × mean size, intermittent or not
        lead_lo, lead_hi = spec.lead_days
        lead = (lead_lo + lead_hi) / 2
        cover = rng.uniform(18, 40) if not serial else rng.uniform(10, 20)
        pack = p.case_qty or (25 if kg else 1)
        q_order = max(pack, math.ceil(daily_units * cover / pack) * pack)
        rop = math.ceil(daily_units * (lead + 4) * 1.4) + 1
        if serial:
            q_order = min(q_order, 40)
        pick_min = max(1, math.ceil(daily_units * 1.5))
        pick_max = max(pick_min + 1, math.ceil(daily_units * 6), 6 if not serial else 3)
        if kg:
            q_order, rop, pick_min, pick_max = q_order * 1000, rop * 1000, pick_min * 1000, pick_max * 1000
        stock_pick: list[list[int]] = []
        stock_res: list[list[int]] = []
        orders: list[tuple[int, int]] = []  # (arrival day, qty in units-of-`unit`)
        on_order = 0
        lot_exp: dict[int, int] = {}
        first = max(0, launch - 1)
        orders.append((first, rop + q_order))
        on_order = rop + q_order
        cost = p.cost
        sku_idx = p.idx

        def emit(at_s: float, kind: int, qty: int, src: int, dst: int, lot: int, extra: Any = 0) -> tuple[Any, ...]:
            row = (base_us + int(at_s * 1_000_000), kind, sku_idx, qty * unit, src, dst, lot, extra)
            rows.append(row)
            return row

        for d in range(first, days):
            base_us = self.start_us + d * DAY_US + off_us
            # 1. expiry write-offs at 06:xx (FEFO lists: the head expires first)
            if lotted:
                for stock, b in ((stock_pick, pick), (stock_res, reserve)):
                    while stock and lot_exp[stock[0][0]] <= d:
                        lot, q = stock.pop(0)
                        emit(6 * 3600 + rng.random() * 1800, K_ADJ_OUT, q, b, V_LOSS, lot, R_EXPIRED)
            # 2. deliveries at 06:30–08:00
            while orders and orders[0][0] == d:
                _, q = orders.pop(0)
                on_order -= q
                t = 6.5 * 3600 + rng.random() * 5400
                dest, dstock = (reserve, stock_res) if q > pick_max or stock_pick else (pick, stock_pick)
                c = max(1, round(cost * rng.uniform(0.96, 1.04)))
                if serial:
                    for _ in range(q):
                        lot, _e = self.new_lot(p, spec.code, d)
                        dstock.append([lot, 1])
                        emit(t, K_RECEIVE, 1, V_SUPPLIER, dest, lot, c)
                        t += 2 + rng.random() * 6
                elif lotted:
                    lot, exp = self.new_lot(p, spec.code, d)
                    assert exp is not None
                    lot_exp[lot] = exp
                    dstock.append([lot, q])
                    dstock.sort(key=lambda e: lot_exp[e[0]])
                    emit(t, K_RECEIVE, q, V_SUPPLIER, dest, lot, c)
                else:
                    if dstock:
                        dstock[0][1] += q
                    else:
                        dstock.append([0, q])
                    emit(t, K_RECEIVE, q, V_SUPPLIER, dest, 0, c)
            # 3. pick-face replenishment at 08:00–09:00
            have = _total(stock_pick)
            if have < pick_min and stock_res:
                t = 8 * 3600 + rng.random() * 3000
                if rng.random() < 0.004:  # a mistake: the wrong bin, reversed a few minutes later
                    wrong = others[rng.randrange(len(others))]
                    if wrong not in (pick, reserve):
                        portion = stock_res[0]
                        q = portion[1] if serial else min(portion[1], pick_max - have)
                        orig = emit(t, K_WRONG, q, reserve, wrong, portion[0])
                        emit(t + 120 + rng.random() * 600, K_REVERSE, q, wrong, reserve, portion[0], orig)
                        t += 900
                for lot, q in _take(stock_res, pick_max - have):
                    if lot == 0 and stock_pick:
                        stock_pick[0][1] += q
                    else:
                        stock_pick.append([lot, q])
                    emit(t, K_TRANSFER, q, reserve, pick, lot)
                    t += 1 + rng.random() * 20
                if lotted:
                    stock_pick.sort(key=lambda e: lot_exp[e[0]])
            # 4. sales 09:00–21:00
            if d >= launch:
                f = season[d] * dayf[d] * (1 + growth * (d / days - 0.5))
                n = (1 if rng.random() < occur * f else 0) if intermittent else _poisson(rng, lam * f)
                if n:
                    times = sorted(9 * 3600 + rng.random() * 43200 for _ in range(n))
                    for t in times:
                        if serial:
                            q = 1 if rng.random() < 0.9 else 2
                        elif kg:
                            q = max(100, round(rng.expovariate(1 / (size_mean * 1000)) / 50) * 50)
                        elif intermittent:
                            q = 1 + int(rng.expovariate(1 / max(size_mean - 1, 0.01)))
                        else:
                            q = 1 + int(rng.expovariate(1 / max(size_mean - 1, 0.01))) if size_mean > 1 else 1
                            if p.case_qty and rng.random() < 0.015:
                                q = p.case_qty * rng.randint(1, 3)  # a B2B case order
                        for stock, b in ((stock_pick, pick), (stock_res, reserve)):
                            if q <= 0:
                                break
                            for lot, taken in _take(stock, q):
                                emit(t, K_SHIP, taken, b, V_CUSTOMER, lot)
                                q -= taken
                                t += 0.5
            # 5. adjustments 21:00–22:00: damage, count differences, found stock
            r = rng.random()
            if r < 0.0035:
                t = 21 * 3600 + rng.random() * 3600
                stock, b = (stock_pick, pick) if stock_pick else (stock_res, reserve)
                if r < 0.0015 and stock:
                    for lot, q in _take(stock, min(stock[0][1], (1 if not kg else 500) * rng.randint(1, 2))):
                        emit(t, K_ADJ_OUT, q, b, V_LOSS, lot, R_DAMAGE)
                elif r < 0.0025 and stock:
                    for lot, q in _take(stock, 1 if not kg else 200):
                        emit(t, K_ADJ_OUT, q, b, V_LOSS, lot, R_COUNT if rng.random() < 0.7 else R_LOST)
                elif stock and not serial:
                    q = (1 if not kg else 150) * rng.randint(1, 2)
                    stock[0][1] += q
                    emit(t, K_ADJ_IN, q, V_LOSS, b, stock[0][0], R_COUNT if rng.random() < 0.6 else R_FOUND)
            # 6. reorder review at the end of the day
            if d < stop:
                position = _total(stock_pick) + _total(stock_res) + on_order
                if position <= rop:
                    arrive = d + rng.randint(lead_lo, lead_hi)
                    orders.append((arrive, q_order))
                    orders.sort()
                    on_order += q_order


def _plan(scale: Scale, today: date, progress: Progress | None) -> _Plan:
    rng = random.Random(SEED)
    plan = _Plan()
    plan.bins = _plan_bins(scale)
    plan.products = _plan_products(rng, scale.products)
    start = today - timedelta(days=scale.days)
    start_us = (datetime(start.year, start.month, start.day, tzinfo=UTC) - EPOCH) // timedelta(microseconds=1)
    seasons = _season_factors(start, scale.days)
    day_factor = [_day_factors(spec, start, scale.days) for spec in WAREHOUSES]
    by_zone: list[dict[str, list[int]]] = []
    for w in range(len(WAREHOUSES)):
        zones: dict[str, list[int]] = {z: [] for z in ZONES}
        zones["pick"] = []
        zones["reserve"] = []
        for i, b in enumerate(plan.bins):
            if b.wh == w:
                zones[b.zone].append(i)
        by_zone.append(zones)
    # which warehouses stock which product, and how popular it is there
    stockings: list[tuple[_Prod, int, float]] = []
    pops = [rng.lognormvariate(0, 1.05) for _ in plan.products]
    slow = [rng.random() < 0.08 for _ in plan.products]
    for p, pop, is_slow in zip(plan.products, pops, slow, strict=True):
        homes = [w for w, spec in enumerate(WAREHOUSES) if rng.random() < spec.home_share]
        if p.us_brand and 1 not in homes:
            homes.append(1)
        if not homes:
            homes = [0 if not p.us_brand else 1]
        for w in homes:
            stockings.append((p, w, 0.04 if is_slow else pop))
    mean_pop = sum(s[2] for s in stockings) / len(stockings)
    sim = _Sim(plan, rng, start, start_us, scale.days, seasons, day_factor)
    for i, (p, w, pop) in enumerate(stockings):
        zone = "ELEC" if p.tracking == "serial" or p.family.prefix == "ACC" else "FOOD" if p.family.tracking == "lot" \
            else "HOME"
        cands = by_zone[w][zone] or [j for j, b in enumerate(plan.bins) if b.wh == w]
        pick_c = [j for j in cands if plan.bins[j].level <= 2] or cands
        res_c = [j for j in cands if plan.bins[j].level > 2] or cands
        pick = pick_c[rng.randrange(len(pick_c))]
        reserve = res_c[rng.randrange(len(res_c))]
        if reserve == pick:
            reserve = cands[(cands.index(pick) + 1) % len(cands)]
        sim.run(p, w, pick, reserve, cands, scale.rate * pop / mean_pop)
        if progress is not None and i % 50 == 0:
            progress("plan", i, len(stockings))
    if progress is not None:
        progress("plan", len(stockings), len(stockings))
    plan.rows.sort(key=lambda r: r[0])  # stable: same-time rows keep their causal order
    return plan


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------


def _raw_table(model: Any) -> Table:
    """The model's table with scaled-decimal columns as plain BIGINT: values go in already scaled."""
    table: Table = model.__table__
    cols = [Column(c.name, BigInteger() if isinstance(c.type, ScaledDecimal) else c.type, primary_key=c.primary_key)
            for c in table.columns]
    return Table(table.name, MetaData(), *cols)


def _bump_sequences(conn: Connection, tables: Iterable[str]) -> None:
    if conn.dialect.name != "postgresql":
        return
    for t in tables:
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
                          f"coalesce((SELECT max(id) FROM {t}), 0) + 1, false)"))


LEDGER_COLS = ("id", "op_id", "at", "kind", "actor_id", "terminal", "product_id", "qty", "from_location_id",
               "to_location_id", "lot_id", "package_id", "doc_ref", "reason", "unit_cost", "raw_scan", "reverses_id")


def _ledger_tuples(plan: _Plan, loc_id: list[int], virt: dict[int, int], wh_of: list[int], actor_id: int,
                   quants: dict[tuple[int, int, int], int], sqlite: bool) -> Iterator[tuple[Any, ...]]:
    """Ledger rows in time order, as tuples in LEDGER_COLS order; also sums the quants."""
    counters: dict[tuple[int, int], int] = {}
    ids_of: dict[int, int] = {}
    docs: dict[int, str] = {}
    td = timedelta
    naive = EPOCH.replace(tzinfo=None)
    for i, (at_us, kind, p, qty, src, dst, lot, extra) in enumerate(plan.rows, start=1):
        s_id = virt[src] if src < 0 else loc_id[src]
        d_id = virt[dst] if dst < 0 else loc_id[dst]
        pid = p + 1
        k_lot = lot or 0
        quants[(pid, s_id, k_lot)] = quants.get((pid, s_id, k_lot), 0) - qty
        quants[(pid, d_id, k_lot)] = quants.get((pid, d_id, k_lot), 0) + qty
        reverses = None
        cost = None
        reason = ""
        if kind == K_REVERSE:
            reverses = ids_of[id(extra)]
            doc = docs[reverses]
            reason = "undo"
        else:
            w = wh_of[dst if dst >= 0 else src]
            key = (kind if kind not in (K_ADJ_OUT, K_WRONG) else (K_ADJ_IN if kind == K_ADJ_OUT else K_TRANSFER), w)
            n = counters.get(key, 0) + 1
            counters[key] = n
            doc = f"{DOC_PREFIX[kind]}-{WAREHOUSES[w].code}-{n:06d}"
            if kind == K_RECEIVE:
                cost = extra
            elif kind in (K_ADJ_IN, K_ADJ_OUT):
                reason = REASON_NAMES[extra]
            elif kind == K_WRONG:
                ids_of[id(plan.rows[i - 1])] = i
                docs[i] = doc
        # SQLite keeps DateTime as text in UTC (SQLAlchemy's storage format); PostgreSQL gets timestamptz
        at = (naive + td(microseconds=at_us)).isoformat(" ", "microseconds") if sqlite \
            else EPOCH + td(microseconds=at_us)
        yield (i, f"demo-{i:07d}", at, KIND_NAMES[kind], actor_id, TERMINAL, pid, qty,
               s_id, d_id, lot or None, None, doc, reason, cost, None, reverses)


def _bulk(conn: Connection, model: Any, cols: tuple[str, ...], rows: Iterable[tuple[Any, ...]], total: int,
          stage: str, progress: Progress | None) -> None:
    """Insert many rows given as tuples in ``cols`` order, values already in storage form.

    SQLite: the Core ``insert()`` compiled once and run with the driver's executemany in chunks (the
    per-row parameter processing of a Core executemany would double the time of a million rows).
    PostgreSQL: ``COPY … FROM STDIN`` on the same connection and transaction.
    """
    done = 0
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy(f"COPY {model.__tablename__} ({', '.join(cols)}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
                done += 1
                if progress is not None and done % CHUNK == 0:
                    progress(stage, done, total)
    else:
        stmt = insert(_raw_table(model)).values({c: bindparam(c) for c in cols}).compile(dialect=conn.dialect)
        assert tuple(stmt.positiontup or ()) == cols
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= CHUNK:
                conn.exec_driver_sql(str(stmt), batch)  # type: ignore[arg-type]
                done += len(batch)
                batch = []
                if progress is not None:
                    progress(stage, done, total)
        if batch:
            conn.exec_driver_sql(str(stmt), batch)  # type: ignore[arg-type]
    if progress is not None:
        progress(stage, total, total)


@contextmanager
def _indexes_deferred(conn: Connection, table: str) -> Iterator[None]:
    """Drop the table's plain secondary indexes and recreate them (same DDL) after a bulk load.

    Only used on an empty table inside the load's transaction; building an index over sorted data
    once is much cheaper than updating five B-trees per row. Constraint indexes stay.
    """
    if conn.dialect.name == "sqlite":
        idx = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
            (table,)).all()
    else:
        idx = conn.execute(text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename = :t AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"),
            {"t": table}).all()
    for name, _sql in idx:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    for _name, sql in idx:
        conn.exec_driver_sql(sql)


def _precheck(s: Session) -> None:
    n = s.execute(select(func.count()).select_from(Product)).scalar_one()
    if n:
        raise BadInput(_("this database already holds {n} products; a demo is built into an empty database only "
                         "(use a new database, e.g. `wsms --db sqlite:///demo.db demo`)").format(n=n))
    codes = [w.code for w in WAREHOUSES]
    taken = s.execute(select(Warehouse.code).where(Warehouse.code.in_(codes))).scalars().all()  # type: ignore[attr-defined]
    taken += s.execute(select(Location.code).where(Location.code.in_(codes))).scalars().all()  # type: ignore[attr-defined]
    if taken:
        raise BadInput(_("warehouse or location {codes} exists already; build the demo into an empty database")
                       .format(codes=", ".join(sorted(set(taken)))))
    users = s.execute(select(User.name).where(User.name.in_([d[0] for d in DEMO_LOGINS]))).scalars().all()  # type: ignore[attr-defined]
    if users:
        raise BadInput(_("user(s) {names} exist already; build the demo into an empty database")
                       .format(names=", ".join(sorted(users))))
    if s.execute(select(Meta.value).where(Meta.key == "demo")).scalar() is not None:
        raise BadInput(_("this database already holds a demo"))


def is_demo(db: Database) -> bool:
    """True when this database was built by ``build_demo``."""
    return db.read(lambda s: s.execute(select(Meta.value).where(Meta.key == "demo")).scalar()) is not None


def build_demo(db: Database, actor: Actor, *, scale: str = "small", progress: Progress | None = None,
               today: date | None = None) -> DemoSummary:
    """Build the demo warehouse into an empty database; see the module docstring."""
    require(db, actor, "demo.build")
    if scale not in SCALES:
        raise BadInput(_("demo scale must be one of: {scales}").format(scales=", ".join(SCALES)))
    t0 = time.perf_counter()
    sc = SCALES[scale]
    today = today or DEFAULT_TODAY
    db.read(_precheck)
    system_id = db.system_actor().user_id
    plan = _plan(sc, today, progress)
    summary = DemoSummary(scale=scale, warehouses=len(WAREHOUSES), products=len(plan.products), lots=len(plan.lots),
                          ledger_entries=len(plan.rows))
    with db.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
        loc_id = _write_catalog(conn, plan, summary, progress)
        virt = dict(conn.execute(select(Location.code, Location.id)
                                 .where(Location.code.in_([SUPPLIER, CUSTOMER, LOSS]))).all())  # type: ignore[attr-defined]
        virt_idx = {V_SUPPLIER: virt[SUPPLIER], V_CUSTOMER: virt[CUSTOMER], V_LOSS: virt[LOSS]}
        wh_of = [b.wh for b in plan.bins]
        quants: dict[tuple[int, int, int], int] = {}
        sqlite = conn.dialect.name == "sqlite"
        with _indexes_deferred(conn, "ledger_entry"):
            _bulk(conn, LedgerEntry, LEDGER_COLS,
                  _ledger_tuples(plan, loc_id, virt_idx, wh_of, system_id, quants, sqlite), len(plan.rows),
                  "ledger", progress)
        qrows = [(p, loc, lot or None, None, q, 0) for (p, loc, lot), q in sorted(quants.items()) if q != 0]
        _bulk(conn, Quant, ("product_id", "location_id", "lot_id", "package_id", "on_hand", "reserved"), qrows,
              len(qrows), "quants", progress)
        summary.quants = len(qrows)
        _bump_sequences(conn, ("product", "lot", "ledger_entry"))
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA cache_size=-2000")
    del plan, quants, qrows
    if db.is_sqlite:
        with db.engine.connect() as conn:  # fresh planner statistics for the big tables
            conn.exec_driver_sql("PRAGMA optimize")
    else:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    logins = []
    for i, (name, role, pin, full) in enumerate(DEMO_LOGINS):
        add_user(db, actor, name, role, pin, full_name=full)
        logins.append({"name": name, "role": role, "pin": pin})
        if progress is not None:
            progress("users", i + 1, len(DEMO_LOGINS))
    summary.users = len(logins)
    summary.seconds = round(time.perf_counter() - t0, 2)

    def finish(s: Session) -> None:
        s.add(Meta(key="demo", value=scale))
        s.add(Meta(key="demo_logins", value=json.dumps(logins)))
        s.flush()
        payload = asdict(summary)
        payload.pop("seconds")
        payload["today"] = today.isoformat()
        payload["seed"] = SEED
        audit.record(s, actor, "demo.build", f"demo:{scale}", payload)

    db.write(finish)
    from wsms_tui.layout import install_demo_layouts

    install_demo_layouts(db, actor)  # routing layouts of SH1 and LA1 (wsms_tui.layout.demo_layout)
    return summary


def _write_catalog(conn: Connection, plan: _Plan, summary: DemoSummary, progress: Progress | None) -> list[int]:
    """Warehouses, locations, products, barcodes, lots; returns the database id of each planned bin."""
    total = len(WAREHOUSES) + len(plan.bins) + len(plan.products) + len(plan.lots)
    roots: list[int] = []
    wids: list[int] = []
    for spec in WAREHOUSES:
        wid = conn.execute(insert(Warehouse).values(code=spec.code, name=spec.name, address=spec.address)
                           .returning(Warehouse.id)).scalar_one()
        rid = conn.execute(insert(Location).values(
            code=spec.code, name=spec.root_name, warehouse_id=wid, parent_id=None, usage=LocationUsage.VIEW.value,
            barcode=None, zone="", aisle="", bay="", level="", x=None, y=None, capacity=None,
            count_frequency_days=None, allow_negative=False, active=True).returning(Location.id)).scalar_one()
        roots.append(rid)
        wids.append(wid)
    loc_rows = [{
        "code": b.code, "name": f"Aisle A{b.aisle:02d}, bay {b.bay:02d}, level {b.level}", "warehouse_id": wids[b.wh],
        "parent_id": roots[b.wh], "usage": LocationUsage.INTERNAL.value, "barcode": None, "zone": b.zone,
        "aisle": f"A{b.aisle:02d}", "bay": f"{b.bay:02d}", "level": str(b.level), "x": b.x, "y": b.y,
        "capacity": Decimal(b.capacity), "count_frequency_days": 14 if b.zone == "ELEC" else 30 if b.level <= 2 else 90,
        "allow_negative": False, "active": True} for b in plan.bins]
    for i in range(0, len(loc_rows), CHUNK):
        conn.execute(insert(Location), loc_rows[i:i + CHUNK])
    summary.locations = len(loc_rows) + len(roots)
    if progress is not None:
        progress("catalog", len(WAREHOUSES) + len(plan.bins), total)
    prod_rows = [{
        "id": p.idx + 1, "sku": p.sku, "name": p.name, "uom": p.uom, "tracking": p.tracking,
        "shelf_life_days": p.shelf_life, "weight_kg": Decimal(p.weight_g).scaleb(-3),
        "volume_l": Decimal(p.volume_ml).scaleb(-3), "unit_cost": Decimal(p.cost).scaleb(-MONEY_SCALE),
        "category": p.family.category, "active": True} for p in plan.products]
    conn.execute(insert(Product), prod_rows)
    codes = []
    for p in plan.products:
        if p.gtin13:
            codes.append({"product_id": p.idx + 1, "code": p.gtin13.zfill(14), "kind": "gtin", "pack_qty": Decimal(1)})
        if p.case_gtin:
            codes.append({"product_id": p.idx + 1, "code": p.case_gtin, "kind": "gtin",
                          "pack_qty": Decimal(p.case_qty)})
    if codes:
        conn.execute(insert(ProductBarcode), codes)
    summary.barcodes = len(codes)
    if progress is not None:
        progress("catalog", len(WAREHOUSES) + len(plan.bins) + len(plan.products), total)
    sqlite = conn.dialect.name == "sqlite"
    _bulk(conn, Lot, ("id", "product_id", "lot_no", "expiry", "is_serial"),
          ((i, p + 1, no, (exp.isoformat() if exp and sqlite else exp), (int(ser) if sqlite else ser))
           for i, (p, no, exp, ser) in enumerate(plan.lots, start=1)), len(plan.lots), "lots", None)
    if progress is not None:
        progress("catalog", total, total)
    ids = dict(conn.execute(select(Location.code, Location.id)
                            .where(Location.warehouse_id.in_(wids))).all())  # type: ignore[union-attr]
    return [ids[b.code] for b in plan.bins]
