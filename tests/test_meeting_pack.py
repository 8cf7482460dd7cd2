"""The meeting pack, built from the weekly screen model: PDF pages render (pdftoppm), carry the week and department
names as text (pdftotext, so the CJK font is embedded with a ToUnicode map: no tofu) with the departments in the
agenda's order, the XLSX has one sheet per section, and every word comes from the ``pack`` catalog (Chinese by
default, English on request)."""

from __future__ import annotations

import io
import shutil
import subprocess
import time
from dataclasses import replace
from datetime import date, datetime

import openpyxl
import pandas as pd
import pytest

from core.i18n import translate
from data_access import action_items
from data_access.engine import make_engine
from data_access.migrate import upgrade
from reports import weekly
from tests.builders import add_case, make_reference
from ui import meeting_pack

WEEK = date(2026, 3, 2)
NOW = datetime(2026, 3, 20, 12, 0)
needs_poppler = pytest.mark.component(
    "poppler-utils", shutil.which("pdftoppm") and shutil.which("pdftotext"), "pdftoppm and pdftotext check the PDF"
)


@pytest.fixture(scope="module")
def pack_data(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('pack') / 'pack.db'}"
    writer = make_engine(url, read_only=False)
    upgrade(writer)
    make_reference(writer)
    add_case(
        writer,
        grid_id=11,
        reported_at=datetime(2026, 3, 2, 9),
        status="closed",
        lat=31.0,
        lon=121.2,
        disposed_at=datetime(2026, 3, 3, 9),
        deadline_at=datetime(2026, 3, 3, 12),
        closed_at=datetime(2026, 3, 3, 10),
        address="甲路1号",
    )
    add_case(writer, grid_id=11, reported_at=datetime(2026, 3, 6, 14), lat=31.0, lon=121.2, address="甲路1号")
    add_case(
        writer,
        grid_id=22,
        reported_at=datetime(2026, 2, 20, 9),
        department_id=2,
        deadline_at=datetime(2026, 2, 25, 9),
        address="丁路4号",
    )
    add_case(
        writer,
        grid_id=12,
        reported_at=datetime(2026, 3, 4, 10),
        department_id=3,
        address="乙路2号",
        events=[
            dict(
                at=datetime(2026, 3, 4, 11),
                action="return",
                from_status="in_disposal",
                to_status="pending_dispatch",
                department_id=3,
                note="非本单位职责",
            )
        ],
    )
    action_items.create_item(
        writer,
        department_id=2,
        text="绿化市容局本周内清理丁路堆物，并排查同类隐患" * 3,
        due_date=date(2026, 3, 13),
        week=WEEK,
        created_by="指挥中心",
        now=NOW,
    )
    data = weekly.build(writer, weekly.WeeklyParams(WEEK), now=NOW)
    writer.dispose()
    return data


def zh(key: str, **values) -> str:
    return translate("pack", key, "zh", **values)


def test_departments_on_the_agenda(pack_data):
    departments = pack_data.agenda.departments
    # the agenda's order: most overdue first, then open items, returns, repeats
    assert list(departments["name"]) == ["绿化市容局", "水务局", "城管执法局"]
    row = departments.set_index("name").loc["绿化市容局"]
    assert row["overdue"] == 1 and row["open_items"] == 1
    assert departments.set_index("name").loc["城管执法局", "repeats"] == 1


@needs_poppler
def test_pdf_renders_with_week_and_department_names(pack_data, tmp_path):
    t0 = time.monotonic()
    pdf = meeting_pack.build_pdf(pack_data)
    assert time.monotonic() - t0 < 30
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "pack.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "page")], check=True, timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    # overview, hotspots, one page per department (3), action items
    assert len(pages) >= 6 and all(p.stat().st_size > 1000 for p in pages)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, timeout=60
    ).stdout.decode()
    assert zh("week_label", start="2026-03-02", end="2026-03-08") in text
    for name in (
        "城管执法局",
        "水务局",
        "绿化市容局",
        zh("dept_heading", name="绿化市容局"),
        zh("s_overview"),
        zh("s_hotspots"),
        zh("s_items"),
    ):
        assert name in text, name
    assert "甲路1号" in text and "绿化市容局本周内清理丁路堆物" in text
    # one section per department, in the agenda's order (the page's: tests/test_reports_weekly.py)
    sections = [line.strip() for line in text.splitlines() if line.strip().startswith(zh("dept_heading", name=""))]
    assert sections == [zh("dept_heading", name=n) for n in pack_data.agenda.departments["name"]]


@needs_poppler
def test_english_pack(pack_data, tmp_path):
    path = tmp_path / "pack-en.pdf"
    path.write_bytes(meeting_pack.build_pdf(pack_data, "en"))
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, timeout=60
    ).stdout.decode()
    assert "2026-03-02 to 2026-03-08" in text and "1. The week at a glance" in text
    # department names in English where the database has them (the test world's name_en is the code)
    assert "Department: lh" in text and "Department: 绿化市容局" not in text
    book = openpyxl.load_workbook(io.BytesIO(meeting_pack.build_xlsx(pack_data, "en")))
    assert book.sheetnames[:2] == ["Overview", "Agenda"] and book["Agenda"]["A1"].value == "Department"


def test_xlsx_has_one_sheet_per_section(pack_data):
    book = openpyxl.load_workbook(io.BytesIO(meeting_pack.build_xlsx(pack_data)))
    assert book.sheetnames == [
        "概况",
        "部门议程",
        "超期案件",
        "回退返工区级",
        "重复发生",
        "高发点位",
        "高发时段",
        "新增预警",
        "督办事项",
    ]
    agenda = [row for row in book["部门议程"].iter_rows(values_only=True)]
    assert agenda[0][0] == "部门" and [r[0] for r in agenda[1:]] == ["绿化市容局", "水务局", "城管执法局"]
    # WEEK is older than the last complete week: flags are for the latest period only
    assert book["新增预警"]["A2"].value == zh("flags_other_week_short")
    assert "2026-03-02" in str(book["概况"]["G2"].value)
    assert book["督办事项"]["C2"].value.startswith("绿化市容局本周内清理丁路堆物")
    assert book["督办事项"]["E2"].value == zh("st_open") + zh("st_new_suffix")  # raised this week, due 13 Mar


def test_flags_sections(pack_data):
    flags = pd.DataFrame(
        {
            "unit_type": ["street"],
            "unit_id": [3],
            "family": ["A"],
            "level": ["red"],
            "persistent": [False],
            "q": [0.01],
            "family_p": [0.01],
            "p": [0.01],
        }
    )
    recent = weekly.WeeklyParams(date(2026, 3, 16))
    listed = replace(pack_data, flags=weekly.flags_section(recent, flags, now=NOW))
    sheet = meeting_pack.xlsx_sheets(listed)["新增预警"]
    assert sheet.iloc[0].tolist() == ["street:3", "隐瞒复杂案件", "疑似", "疑似隐瞒复杂案件"]
    pending = replace(pack_data, flags=weekly.flags_section(recent, None, now=NOW))
    assert meeting_pack.xlsx_sheets(pending)["新增预警"].iloc[0, 0] == zh("flags_pending_short")


def test_missing_font_is_a_clear_error(pack_data, monkeypatch):
    monkeypatch.setattr(meeting_pack, "FONT_CANDIDATES", ("/nonexistent/font.ttc",))
    monkeypatch.delenv("GRIDSCOPE_CJK_FONT", raising=False)
    with pytest.raises(meeting_pack.MissingCJKFont, match="fonts-noto-cjk"):
        meeting_pack.build_pdf(pack_data)
