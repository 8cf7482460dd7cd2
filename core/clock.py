"""The one clock: the district's local time, naive (as case timestamps are stored)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from core import settings


def local_now() -> datetime:
    """Current wall-clock time in the district's zone, naive, to the second."""
    return datetime.now(ZoneInfo(settings.get("timezone"))).replace(tzinfo=None, microsecond=0)
