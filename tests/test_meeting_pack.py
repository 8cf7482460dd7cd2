"""The meeting pack: PDF pages render (pdftoppm), carry the week and department names as text (pdftotext, so the
CJK font is embedded with a ToUnicode map: no tofu), and the XLSX has one sheet per section."""
from __future__ import annotations

import io
import shutil
import subprocess
import time
from datetime import date, datetime

import openpyxl
import pytest

from data_access import action_items
from data_access.engine import make_engine
from data_access.migrate import upgrade
from tests.builders import add_case, make_reference
from ui import meeting_pack

WEEK = date(2026, 3, 2)
NOW = datetime(2026, 3, 20, 12, 0)
needs_poppler = pytest.mark.skipif(not shutil.which("pdftoppm") or not shutil.which("pdftotext"),
                                   reason="poppler-utils not installed")


@pytest.fixture(scope="module")
def pack_data(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('pack') / 'pack.db'}"
    writer = make_engine(url, read_only=False)
    upgrade(writer)
    make_reference(writer)
    add_case(writer, grid_id=11, reported_at=datetime(2026, 3, 2, 9), status="closed", lat=31.0, lon=121.2,
             disposed_at=datetime(2026, 3, 3, 9), deadline_at=datetime(2026, 3, 3, 12),
             closed_at=datetime(2026, 3, 3, 10), address="甲路1号")
    add_case(writer, grid_id=11, reported_at=datetime(2026, 3, 6, 14), lat=31.0, lon=121.2, address="甲路1号")
    add_case(writer, grid_id=22, reported_at=datetime(2026, 2, 20, 9), department_id=2,
             deadline_at=datetime(2026, 2, 25, 9), address="丁路4号")
    add_case(writer, grid_id=12, reported_at=datetime(2026, 3, 4, 10), department_id=3, address="乙路2号",
             events=[dict(at=datetime(2026, 3, 4, 11), action="return", from_status="in_disposal",
                          to_status="pending_dispatch", department_id=3, note="非本单位职责")])
    action_items.create_item(writer, department_id=2, text="绿化市容局本周内清理丁路堆物，并排查同类隐患" * 3,
                             due_date=date(2026, 3, 13), week=WEEK, created_by="指挥中心", now=NOW)
    data = meeting_pack.collect(writer, WEEK, now=NOW)
    writer.dispose()
    return data


def test_departments_on_the_agenda(pack_data):
    assert set(pack_data.departments["name"]) == {"城管执法局", "水务局", "绿化市容局"}
    row = pack_data.departments.set_index("name").loc["绿化市容局"]
    assert row["overdue"] == 1 and row["open_items"] == 1
    assert pack_data.departments.set_index("name").loc["城管执法局", "repeats"] == 1


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
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          timeout=60).stdout.decode()
    assert "2026-03-02 至 2026-03-08" in text
    for name in ("城管执法局", "水务局", "绿化市容局", "部门：绿化市容局", "本周概况", "高发点位", "督办事项"):
        assert name in text, name
    assert "甲路1号" in text and "绿化市容局本周内清理丁路堆物" in text


def test_xlsx_has_one_sheet_per_section(pack_data):
    book = openpyxl.load_workbook(io.BytesIO(meeting_pack.build_xlsx(pack_data)))
    assert book.sheetnames == ["概况", "部门议程", "超期案件", "回退返工区级", "重复发生", "高发点位", "高发时段",
                               "新增预警", "督办事项"]
    agenda = [row for row in book["部门议程"].iter_rows(values_only=True)]
    assert agenda[0][0] == "部门" and {r[0] for r in agenda[1:]} == {"城管执法局", "水务局", "绿化市容局"}
    assert book["新增预警"]["A2"].value == "数据不足/计算中"
    assert "2026-03-02" in str(book["概况"]["G2"].value)


def test_missing_font_is_a_clear_error(pack_data, monkeypatch):
    monkeypatch.setattr(meeting_pack, "FONT_CANDIDATES", ("/nonexistent/font.ttc",))
    monkeypatch.delenv("GRIDSCOPE_CJK_FONT", raising=False)
    with pytest.raises(meeting_pack.MissingCJKFont, match="fonts-noto-cjk"):
        meeting_pack.build_pdf(pack_data)
