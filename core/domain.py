"""Domain vocabulary (docs/domain.md): channels, lifecycle statuses and event actions, as codes.

Codes are short English words stored in the database. What users read comes from the message catalog
(``locale/<lang>/LC_MESSAGES/domain.po``, keys ``channels.<code>``, ``statuses.<code>``, ``actions.<code>`` …).
"""

from __future__ import annotations

# 案件来源 (channel)
CHANNELS: tuple[str, ...] = ("patrol", "hotline", "app", "video", "sensor", "superior", "media")
# Channels the reporting unit does not control (the comparison base of the selective-reporting flags).
PUBLIC_CHANNELS = ("hotline", "app", "video")

# Lifecycle statuses (docs/domain.md)
STATUSES: tuple[str, ...] = (
    "pending_verify",
    "pending_register",
    "pending_dispatch",
    "in_disposal",
    "pending_check",
    "closed",
    "self_handled",
    "parked",
    "force_closed",
    "cancelled",
)
# Open = still in the workflow. 挂账 (parked) is deliberately not open: it leaves the on-time denominators.
OPEN_STATUSES = ("pending_verify", "pending_register", "pending_dispatch", "in_disposal", "pending_check")
# Statuses after the problem was dealt with (结案 in the broad sense).
CLOSED_STATUSES = ("closed", "self_handled", "force_closed")

# Event actions in case_events
ACTIONS: tuple[str, ...] = (
    "report",
    "accept",
    "verify",
    "register",
    "dispatch",
    "return",
    "redispatch",
    "extend",
    "dispose",
    "check_pass",
    "check_fail",
    "close",
    "self_handle",
    "park",
    "force_close",
    "cancel",
    "escalate",
)

CATEGORY_KINDS = ("component", "event")  # 部件 / 事件
DIFFICULTIES = ("simple", "complex")
SATISFACTION = ("satisfied", "basic", "unsatisfied")
DEPARTMENT_KINDS = ("bureau", "utility", "street")
STREET_KINDS = ("subdistrict", "town", "industrial")
COMMUNITY_KINDS = ("neighborhood", "village", "park")

# The vocabularies whose labels live in the catalog, by the prefix of their catalog keys.
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "channels": CHANNELS,
    "statuses": STATUSES,
    "actions": ACTIONS,
    "category_kinds": CATEGORY_KINDS,
    "difficulties": DIFFICULTIES,
    "satisfaction": SATISFACTION,
    "department_kinds": DEPARTMENT_KINDS,
    "street_kinds": STREET_KINDS,
    "community_kinds": COMMUNITY_KINDS,
}
