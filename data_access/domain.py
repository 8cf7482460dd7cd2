"""Domain vocabulary (DOMAIN.md §2): channels, lifecycle statuses and event actions, with Chinese labels.

Keys are short English words stored in the database; labels are what users read.
"""
from __future__ import annotations

# 案件来源 (channel) → Chinese label
CHANNELS: dict[str, str] = {
    "patrol": "监督员巡查",
    "hotline": "12345热线",
    "app": "市民APP",
    "video": "视频/AI识别",
    "sensor": "物联感知",
    "superior": "上级交办",
    "media": "媒体舆情",
}
# Channels the reporting unit does not control (the comparison base of the selective-reporting flags).
PUBLIC_CHANNELS = ("hotline", "app", "video")

# Lifecycle statuses (DOMAIN.md §2) → Chinese label
STATUSES: dict[str, str] = {
    "pending_verify": "待核实",
    "pending_register": "待立案",
    "pending_dispatch": "待派遣",
    "in_disposal": "处置中",
    "pending_check": "待核查",
    "closed": "结案",
    "self_handled": "自行处置",
    "parked": "挂账",
    "force_closed": "强制结案",
    "cancelled": "作废",
}
# Open = still in the workflow. 挂账 (parked) is deliberately not open: it leaves the on-time denominators.
OPEN_STATUSES = ("pending_verify", "pending_register", "pending_dispatch", "in_disposal", "pending_check")
# Statuses after the problem was dealt with (结案 in the broad sense).
CLOSED_STATUSES = ("closed", "self_handled", "force_closed")

# Event actions in case_events → Chinese label
ACTIONS: dict[str, str] = {
    "report": "上报",
    "accept": "受理",
    "verify": "核实",
    "register": "立案",
    "dispatch": "派遣",
    "return": "回退",
    "redispatch": "改派",
    "extend": "延期",
    "dispose": "处置反馈",
    "check_pass": "核查通过",
    "check_fail": "核查不通过(返工)",
    "close": "结案",
    "self_handle": "自行处置",
    "park": "挂账",
    "force_close": "强制结案",
    "cancel": "作废",
    "escalate": "上报区级(大循环)",
}

CATEGORY_KINDS = {"component": "部件", "event": "事件"}
DIFFICULTIES = {"simple": "简单", "complex": "复杂"}
SATISFACTION = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"}
DEPARTMENT_KINDS = {"bureau": "区级职能部门", "utility": "公用事业单位", "street": "街镇"}
STREET_KINDS = {"subdistrict": "街道", "town": "镇", "industrial": "工业区"}
COMMUNITY_KINDS = {"neighborhood": "居委", "village": "村委", "park": "园区"}
