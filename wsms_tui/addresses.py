"""Ship-to address checks per country: required fields, postcode and phone shapes.

Covers China, the United States, the United Kingdom and every EU country; other countries get
the required-field and a loose phone check only. Returns a list of problems (empty = fine), each
``(field, reason)`` for a person to read; nothing here touches the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wsms_tui.i18n import _

EU = frozenset(["AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
                "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"])

#: postcode patterns (after upper-casing and trimming)
POSTCODES: dict[str, str] = {
    "CN": r"\d{6}",
    "US": r"\d{5}(-\d{4})?",
    "GB": r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}",
    "AT": r"\d{4}", "BE": r"\d{4}", "BG": r"\d{4}", "CY": r"\d{4}", "CZ": r"\d{3} ?\d{2}", "DE": r"\d{5}",
    "DK": r"\d{4}", "EE": r"\d{5}", "ES": r"\d{5}", "FI": r"\d{5}", "FR": r"\d{5}", "GR": r"\d{3} ?\d{2}",
    "HR": r"\d{5}", "HU": r"\d{4}", "IE": r"[A-Z]\d[\dW] ?[A-Z\d]{4}", "IT": r"\d{5}", "LT": r"(LT-)?\d{5}",
    "LU": r"(L-)?\d{4}", "LV": r"(LV-)?\d{4}", "MT": r"[A-Z]{3} ?\d{4}", "NL": r"\d{4} ?[A-Z]{2}",
    "PL": r"\d{2}-\d{3}", "PT": r"\d{4}-\d{3}", "RO": r"\d{6}", "SE": r"\d{3} ?\d{2}", "SI": r"\d{4}",
    "SK": r"\d{3} ?\d{2}",
}
#: countries where a postcode may be missing (Ireland's Eircode is optional on many labels)
POSTCODE_OPTIONAL = frozenset({"IE"})

#: international calling codes, to accept +CC numbers
CALLING: dict[str, str] = {
    "CN": "86", "US": "1", "GB": "44", "AT": "43", "BE": "32", "BG": "359", "CY": "357", "CZ": "420", "DE": "49",
    "DK": "45", "EE": "372", "ES": "34", "FI": "358", "FR": "33", "GR": "30", "HR": "385", "HU": "36",
    "IE": "353", "IT": "39", "LT": "370", "LU": "352", "LV": "371", "MT": "356", "NL": "31", "PL": "48",
    "PT": "351", "RO": "40", "SE": "46", "SI": "386", "SK": "421",
}

#: common country names in exports, mapped to ISO 3166 alpha-2
COUNTRY_NAMES: dict[str, str] = {
    "CHINA": "CN", "中国": "CN", "PRC": "CN", "PEOPLE'S REPUBLIC OF CHINA": "CN",
    "UNITED STATES": "US", "UNITED STATES OF AMERICA": "US", "USA": "US", "美国": "US",
    "UNITED KINGDOM": "GB", "UK": "GB", "GREAT BRITAIN": "GB",
    "GERMANY": "DE", "DEUTSCHLAND": "DE", "FRANCE": "FR", "ITALY": "IT", "ITALIA": "IT", "SPAIN": "ES",
    "ESPAÑA": "ES", "NETHERLANDS": "NL", "THE NETHERLANDS": "NL", "BELGIUM": "BE", "AUSTRIA": "AT",
    "POLAND": "PL", "SWEDEN": "SE", "DENMARK": "DK", "FINLAND": "FI", "IRELAND": "IE", "PORTUGAL": "PT",
    "GREECE": "GR", "CZECHIA": "CZ", "CZECH REPUBLIC": "CZ",
}

KNOWN = frozenset(POSTCODES) | frozenset(
    ["AU", "CA", "CH", "HK", "JP", "KR", "MX", "NO", "NZ", "SG", "TW", "AE", "BR", "IN", "IL", "TR", "UA",
     "ZA", "MY", "TH", "VN", "ID", "PH", "IS", "LI", "MC"])

_PHONE_CHARS = re.compile(r"[\s\-().]")
_POSTCODE_RES = {c: re.compile(p) for c, p in POSTCODES.items()}
_DIGITS = re.compile(r"\+?\d+")
_CN_MOBILE = re.compile(r"1[3-9]\d{9}")
_CN_LANDLINE = re.compile(r"0?[1-9]\d{1,2}\d{7,8}")
_US_NUMBER = re.compile(r"[2-9]\d{2}[2-9]\d{6}")


@dataclass(frozen=True)
class Address:
    customer: str
    address: str
    city: str
    postcode: str
    country: str
    phone: str = ""
    state: str = ""


def country_code(value: str) -> str:
    """'China', 'cn', '中国' → 'CN'; unknown text comes back upper-cased for the check to refuse."""
    v = value.strip().upper()
    return COUNTRY_NAMES.get(v, v)


def normalise_postcode(country: str, postcode: str) -> str:
    return " ".join(postcode.strip().upper().split())


def phone_problem(country: str, phone: str) -> str | None:
    """None if ``phone`` has a plausible shape for ``country``, else the reason."""
    raw = _PHONE_CHARS.sub("", phone.strip())
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    if not _DIGITS.fullmatch(raw or "x"):
        return _("{p!r} is not a phone number (digits, spaces, +, -)").format(p=phone)
    cc = CALLING.get(country)
    local = raw
    if raw.startswith("+"):
        if cc and not raw[1:].startswith(cc):
            return _("{p} does not start with +{cc}, the calling code of {c}").format(p=phone, cc=cc, c=country)
        local = raw[1 + len(cc):] if cc else raw[1:]
    if country == "CN":
        if cc and local.startswith(cc) and len(local) == 13:
            local = local[2:]
        if _CN_MOBILE.fullmatch(local) or _CN_LANDLINE.fullmatch(local):
            return None
        return _("{p} is neither a Chinese mobile (1xx xxxx xxxx) nor a landline with area code").format(p=phone)
    if country == "US":
        if len(local) == 11 and local.startswith("1"):
            local = local[1:]
        if _US_NUMBER.fullmatch(local):
            return None
        return _("{p} is not a 10-digit US number").format(p=phone)
    if country in EU or country == "GB":
        n = len(local.lstrip("0")) if raw.startswith("+") else len(local)
        if 6 <= n <= 13:
            return None
        return _("{p} has {n} digits; a phone number in {c} has 6 to 13").format(p=phone, n=n, c=country)
    if 6 <= len(local) <= 15:
        return None
    return _("{p} has the wrong number of digits").format(p=phone)


def check_address(a: Address) -> list[tuple[str, str]]:
    """Every problem of a ship-to address as ``(field, reason)``; empty when it can be shipped to."""
    problems: list[tuple[str, str]] = []
    for field_, value in (("customer", a.customer), ("address", a.address), ("city", a.city),
                          ("country", a.country)):
        if not value.strip():
            problems.append((field_, _("required for shipping")))
    country = a.country.strip().upper()
    if country and (len(country) != 2 or country not in KNOWN):
        problems.append(("country", _("{c!r} is not a country code we ship to (ISO 3166, e.g. CN, US, DE)").format(
            c=a.country)))
        return problems
    pattern = _POSTCODE_RES.get(country)
    pc = normalise_postcode(country, a.postcode)
    if pattern:
        if not pc:
            if country not in POSTCODE_OPTIONAL:
                problems.append(("postcode", _("required for {c}").format(c=country)))
        elif not pattern.fullmatch(pc):
            problems.append(("postcode", _("{p!r} is not a postcode of {c}").format(p=a.postcode, c=country)))
    if a.phone.strip():
        reason = phone_problem(country, a.phone)
        if reason:
            problems.append(("phone", reason))
    elif country == "CN":
        problems.append(("phone", _("required for deliveries in China")))
    return problems
