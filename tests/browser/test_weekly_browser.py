"""Real browser: the 周例会 page opens with no outside requests and no exception; both downloads (PDF, XLSX) work."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_weekly_page_and_pdf_download(open_page, tmp_path):
    opened = open_page("/weekly", "1920x1080")
    page = opened.page
    assert opened.exceptions() == 0
    assert page.get_by_text("周例会").first.is_visible()
    page.get_by_role("tab", name="导出材料").click()
    button = page.get_by_role("button", name="下载会议材料 PDF")
    button.wait_for(timeout=30_000)
    with page.expect_download(timeout=120_000) as info:
        button.click()
    path = tmp_path / "pack.pdf"
    info.value.save_as(path)
    assert path.read_bytes()[:4] == b"%PDF"
    assert info.value.suggested_filename.endswith(".pdf")
    # and the Excel pack: an XLSX (a zip) with one sheet per section
    xlsx_button = page.get_by_role("button", name="下载会议材料 Excel")
    with page.expect_download(timeout=120_000) as xinfo:
        xlsx_button.click()
    xpath = tmp_path / "pack.xlsx"
    xinfo.value.save_as(xpath)
    from openpyxl import load_workbook

    assert xpath.read_bytes()[:2] == b"PK" and len(load_workbook(xpath).sheetnames) >= 3
    opened.shot("weekly")
    assert opened.outside_requests == [], opened.outside_requests
