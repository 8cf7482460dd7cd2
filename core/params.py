"""The one parser for values that come from a URL or a form: it never raises.

Only ASCII digits make a number (``str.isdigit`` also accepts '²', '١' and full-width digits, and ``int()``
accepts some of them); anything else — junk, huge numbers, out-of-range values — is "not a value", and the caller
falls back to its default and tells the viewer the parameter was ignored.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Iterable, TypeVar

_DIGITS = re.compile(r"[0-9]{1,12}")
T = TypeVar("T")


def parse_int(raw: object, lo: int, hi: int) -> int | None:
    """``raw`` as a whole number in [lo, hi], else None."""
    if not isinstance(raw, str) or not _DIGITS.fullmatch(raw.strip()):
        return None
    value = int(raw.strip())
    return value if lo <= value <= hi else None


def parse_choice(raw: object, choices: Iterable[T]) -> T | None:
    """``raw`` when it is one of ``choices`` (compared as text), else None."""
    if not isinstance(raw, str):
        return None
    return next((c for c in choices if str(c) == raw), None)


def parse_date(raw: object, lo: date | None = None, hi: date | None = None) -> date | None:
    """An ISO date (YYYY-MM-DD, ASCII digits) within [lo, hi], else None."""
    if not isinstance(raw, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw.strip()):
        return None
    try:
        value = date.fromisoformat(raw.strip())
    except ValueError:
        return None
    if (lo and value < lo) or (hi and value > hi):
        return None
    return value


def shown(raw: object, limit: int = 40) -> str:
    """A rejected value, cut short for the "ignored parameter" notice (which shows it as plain text)."""
    return str(raw)[:limit]
