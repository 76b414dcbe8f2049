"""gettext for user-facing text: English is the source language; catalogs live in locale/.

The language is chosen once, at import: ``WSMS_LANGUAGE`` (``zh_CN``, ``en``; a colon-separated list is
tried in order) wins over gettext's own ``LANGUAGE`` / ``LC_ALL`` / ``LC_MESSAGES`` / ``LANG``, because over
SSH the server's locale is often not the user's. A language without a catalog (``en``) is English.
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path

LOCALE_DIR = Path(__file__).with_name("locale")
#: names people type for a catalog we ship under another name
_ALIASES = {"zh": "zh_CN", "zh_hans": "zh_CN", "zh_hans_cn": "zh_CN", "cn": "zh_CN"}


def chosen_languages(value: str | None = None) -> list[str] | None:
    """The languages ``WSMS_LANGUAGE`` asks for, in order; None when it is unset (gettext reads the locale)."""
    value = os.environ.get("WSMS_LANGUAGE", "") if value is None else value
    out: list[str] = []
    for part in value.replace(",", ":").split(":"):
        lang = part.strip().replace("-", "_")
        if lang:
            out.append(_ALIASES.get(lang.lower(), lang))
    return out or None


_translation = gettext.translation("wsms", localedir=LOCALE_DIR, languages=chosen_languages(), fallback=True)


def _(message: str) -> str:
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)
