"""The importer on both dialects: messy exports (made here) in every encoding, every row accounted for, idempotent
re-imports, atomic failures, grid placement, coordinate systems, time zones and the CLI."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from sqlalchemy import func, select, text

from data_access import importer as im
from data_access.schema import Case, CaseEvent, ImportQuarantine, ImportRun
from tests.builders import make_reference

SH_HEADER = [
    "TASKID",
    "INFOSOURCENAME",
    "INFOTYPENAME",
    "INFOBCNAME",
    "INFOSCNAME",
    "DISCOVERTIME",
    "DISPATCHTIME",
    "SOLVINGTIME",
    "ENDTIME",
    "STATUSNAME",
    "STREETNAME",
    "COMMUNITYNAME",
    "ADDRESS",
    "COORDX",
    "COORDY",
    "GRIDCODE",
    "KEEPERSN",
    "EXECUTEDEPTNAME",
    "DESCRIPTION",
]


def grid_centre(grid_id: int) -> tuple[float, float]:
    """WGS84 (lon, lat) of the centre of a tests/builders.py grid."""
    cid, g = grid_id // 10, grid_id % 10 - 1
    s, c = (cid - 1) // 2, (cid - 1) % 2
    return 121.2 + 0.02 * s + 0.01 * c + 0.0025, 31.0 + 0.005 * g + 0.0025


def gcj(grid_id: int) -> tuple[str, str]:
    lon, lat = im.wgs84_to_gcj02(*grid_centre(grid_id))
    return f"{lon:.7f}", f"{lat:.7f}"


def sh_row(
    task,
    *,
    source="监督员上报",
    kind="事件",
    major="市容环境",
    minor="暴露垃圾",
    discover="2024-03-04 09:00:00",
    dispatch="",
    solving="",
    end="",
    status="处置中",
    point=None,
    grid="",
    dept="城管执法局",
    desc="路边有垃圾",
    address="测试路1号",
):
    x, y = point if point is not None else ("", "")
    return [
        task,
        source,
        kind,
        major,
        minor,
        discover,
        dispatch,
        solving,
        end,
        status,
        "测试街道1",
        "测试社区1",
        address,
        x,
        y,
        grid,
        "J001",
        dept,
        desc,
    ]


# Row number (header = 1) → expected outcome of the messy Shanghai sample: a reason code, or "ok".
def messy_shanghai_rows() -> tuple[list[list], dict[int, str]]:
    rows = [
        sh_row(
            "SJ0001",
            dispatch="2024-03-04 09:00:00",
            solving="2024-03-04 11:00:00",
            end="2024-03-04 15:00:00",
            status="已结案",
            point=gcj(11),
        ),  # 2 ok
        sh_row("SJ0002", grid="310117001020002", status="处置中", dispatch="2024-03-04 10:00:00"),  # 3 ok, by code
        sh_row(
            "SJ0003",
            source="12345市民服务热线",
            major="宣传广告",
            minor="非法小广告",
            point=gcj(12),
            dept="某某物业公司",
        ),  # 4 ok + warning
        sh_row("SJ0004", discover="2024-13-45 99:00:00", point=gcj(11)),  # 5 bad date
        sh_row("SJ0005", discover="昨天下午", point=gcj(11)),  # 6 bad date
        sh_row("SJ0001", point=gcj(21)),  # 7 duplicate
        sh_row("SJ0007", major="外星事务", minor="外星人入侵", point=gcj(11)),  # 8 unknown cat
        sh_row("SJ0008", point=("121.9000000", "31.9000000")),  # 9 outside
        sh_row("", point=gcj(11)),  # 10 missing no
        sh_row("SJ0010", discover="", point=gcj(11)),  # 11 missing time
        sh_row("SJ0011", end="2024-03-01 08:00:00", status="已结案", point=gcj(11)),  # 12 end < start
        sh_row("SJ0012", source="飞鸽传书", point=gcj(11)),  # 13 unknown chan
        ["", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""],  # 14 blank
        sh_row("SJ0014", desc="'; DROP TABLE cases; --", point=gcj(21)),  # 15 ok (hostile)
        sh_row("SJ0015", major='=HYPERLINK("http://x")', minor="=1+1", point=gcj(11)),  # 16 unknown cat
        sh_row("SJ0016", kind="部件", major="公用设施", minor="井盖", point=gcj(22), dept="水务局"),  # 17 ok
        sh_row("SJ0017", status="自行处置", end="2024-03-04 09:20:00", point=gcj(11)),  # 18 ok
        sh_row("SJ0018", point=gcj(11)) + ["多余", "列"],  # 19 malformed
        sh_row("SJ0019", point=("121.2025", "北纬31")),  # 20 bad value
    ]
    expected = {
        2: "ok",
        3: "ok",
        4: "ok",
        5: "bad_date",
        6: "bad_date",
        7: "duplicate",
        8: "unknown_category",
        9: "outside_district",
        10: "missing_field",
        11: "missing_field",
        12: "bad_date",
        13: "unknown_value",
        15: "ok",
        16: "unknown_category",
        17: "ok",
        18: "ok",
        19: "malformed_row",
        20: "bad_value",
    }
    return rows, expected


def write_file(path: Path, header: list[str], rows: list[list], encoding: str) -> Path:
    if path.suffix == ".xlsx":
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(header)
        for row in rows:
            sheet.append([None if v == "" else v for v in row])
        for cells in sheet.iter_rows():
            for cell in cells:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # text that looks like a formula, as exports write it
        book.save(path)
        return path
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([header, *rows])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def snapshot(engine) -> dict:
    """Every row of the tables an import may change (import_runs apart), for before/after comparisons."""
    out = {}
    with engine.connect() as conn:
        for table in ("cases", "case_events", "import_quarantine"):
            out[table] = sorted(tuple(str(v) for v in r) for r in conn.execute(text(f"SELECT * FROM {table}")))
    return out


@pytest.fixture
def world(writer):
    return make_reference(writer)


@pytest.mark.parametrize(
    "encoding,suffix", [("utf-8", ".csv"), ("utf-8-sig", ".csv"), ("gbk", ".csv"), ("gb18030", ".csv"), (None, ".xlsx")]
)
def test_messy_shanghai_export_accounts_for_every_row(writer, world, tmp_path, encoding, suffix):
    rows, expected = messy_shanghai_rows()
    path = write_file(tmp_path / f"messy{suffix}", SH_HEADER, rows, encoding)
    summary = im.import_file(writer, "shanghai_grid", path)
    print(summary.text())
    want = {}
    for outcome in expected.values():
        want[outcome] = want.get(outcome, 0) + 1
    assert summary.rows_total == len(expected) == len(rows) - 1
    assert summary.blank == 1
    assert summary.accounted
    assert summary.inserted == want.pop("ok") and summary.updated == 0 and summary.unchanged == 0
    assert dict(summary.reasons) == want
    assert summary.warnings["unknown_department"] == 1
    assert (
        summary.encoding
        == {"utf-8": "utf-8", "utf-8-sig": "utf-8-bom", "gbk": "gb18030", "gb18030": "gb18030", None: "xlsx"}[encoding]
    )
    # Quarantine: table and CSV hold the same rows, with row numbers and reasons.
    with writer.connect() as conn:
        stored = {r.row_number: r.reason_code for r in conn.execute(select(ImportQuarantine))}
        landed = {r.case_no: r for r in conn.execute(select(Case))}
        run = conn.execute(select(ImportRun)).one()
    assert stored == {n: code for n, code in expected.items() if code != "ok"}
    with open(summary.quarantine_csv, encoding="utf-8-sig", newline="") as fh:
        quarantined = list(csv.DictReader(fh))
    assert {int(r["row"]): r["reason_code"] for r in quarantined} == stored
    formula = next(r for r in quarantined if r["row"] == "16")
    assert formula["INFOBCNAME"].startswith("'=")  # neutralised for Excel
    assert json.loads(next(r for r in quarantined if r["row"] == "19")["_extra"]) == ["多余", "列"]
    # What landed, and where.
    assert set(landed) == {"SJ0001", "SJ0002", "SJ0003", "SJ0014", "SJ0016", "SJ0017"}
    assert landed["SJ0001"].grid_id == 11 and landed["SJ0001"].status == "closed"
    assert abs(landed["SJ0001"].lon - grid_centre(11)[0]) < 1e-6  # GCJ-02 converted back to WGS84
    assert landed["SJ0002"].grid_id == 22 and landed["SJ0002"].lat == pytest.approx(31.0075)  # by code: centroid
    assert landed["SJ0003"].channel == "hotline" and landed["SJ0003"].department_id is None
    assert landed["SJ0014"].description == "'; DROP TABLE cases; --"
    assert landed["SJ0016"].category_id == world["categories"]["manhole"] and landed["SJ0016"].department_id == 3
    assert landed["SJ0017"].status == "self_handled" and landed["SJ0017"].deadline_at is None
    assert all(c.source == "shanghai_grid" for c in landed.values())
    assert run.rows_total == summary.rows_total and run.rows_quarantined == summary.quarantined
    assert json.loads(run.reasons_json) == want


def test_deadlines_events_and_durations(writer, world, tmp_path):
    rows, _ = messy_shanghai_rows()
    im.import_file(writer, "shanghai_grid", write_file(tmp_path / "a.csv", SH_HEADER, rows, "utf-8"))
    with writer.connect() as conn:
        case = conn.execute(select(Case).where(Case.case_no == "SJ0001")).one()
        events = conn.execute(
            select(CaseEvent.action, CaseEvent.at, CaseEvent.from_status, CaseEvent.to_status)
            .where(CaseEvent.case_id == case.id)
            .order_by(CaseEvent.at, CaseEvent.id)
        ).all()
    # 暴露垃圾 has 4 working hours; dispatched Monday 09:00 → 12:00 is 3 h, lunch, 13:00 + 1 h.
    assert case.deadline_at == datetime(2024, 3, 4, 14, 0)
    assert case.disposal_work_hours == pytest.approx(2.0)
    assert case.updated_at == datetime(2024, 3, 4, 15, 0)
    assert [e.action for e in events] == ["report", "register", "dispatch", "dispose", "close"]
    assert events[0].from_status is None and events[-1].to_status == "closed"
    assert all(a.to_status == b.from_status for a, b in zip(events, events[1:]))


def test_reimport_changes_nothing_and_updates_are_diffed(writer, world, tmp_path):
    rows, expected = messy_shanghai_rows()
    path = write_file(tmp_path / "a.csv", SH_HEADER, rows, "gbk")
    first = im.import_file(writer, "shanghai_grid", path)
    before = snapshot(writer)
    again = im.import_file(writer, "shanghai_grid", path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, first.inserted)
    assert again.reasons == first.reasons
    assert snapshot(writer) == before
    with writer.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ImportRun)).scalar_one() == 2  # the audit log grows
    # A later export: case SJ0002 got disposed and closed. One update, its events extended, nothing duplicated.
    rows[1] = sh_row(
        "SJ0002",
        grid="310117001020002",
        status="已结案",
        dispatch="2024-03-04 10:00:00",
        solving="2024-03-05 10:00:00",
        end="2024-03-05 11:00:00",
    )
    later = im.import_file(writer, "shanghai_grid", write_file(tmp_path / "b.csv", SH_HEADER, rows, "utf-8"))
    assert (later.inserted, later.updated, later.unchanged) == (0, 1, first.inserted - 1)
    with writer.connect() as conn:
        cid = conn.execute(select(Case.id, Case.status).where(Case.case_no == "SJ0002")).one()
        actions = (
            conn.execute(select(CaseEvent.action).where(CaseEvent.case_id == cid.id).order_by(CaseEvent.at))
            .scalars()
            .all()
        )
        n_events = conn.execute(select(func.count()).select_from(CaseEvent)).scalar_one()
    assert cid.status == "closed" and actions == ["report", "register", "dispatch", "dispose", "close"]
    im.import_file(writer, "shanghai_grid", tmp_path / "b.csv")
    with writer.connect() as conn:
        assert conn.execute(select(func.count()).select_from(CaseEvent)).scalar_one() == n_events


def test_failure_mid_file_keeps_committed_batches_and_a_rerun_completes_it(writer, world, tmp_path, monkeypatch):
    """Batches are committed one by one (so other writers get in): a failure rolls back its own batch, writes no run
    row, and importing the same file again completes it to exactly what one clean import gives."""
    rows, _ = messy_shanghai_rows()
    path = write_file(tmp_path / "b.csv", SH_HEADER, rows, "utf-8")
    calls = {"n": 0}
    real = im._write_chunk

    def failing(conn, chunk, summary):
        calls["n"] += 1
        if calls["n"] == 3:  # after two batches were committed
            raise RuntimeError("disk on fire")
        return real(conn, chunk, summary)

    monkeypatch.setattr(im, "_write_chunk", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        im.import_file(writer, "shanghai_grid", path, chunk_rows=2)
    assert calls["n"] == 3
    with writer.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ImportRun)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(ImportQuarantine)).scalar_one() == 0
        partial = conn.execute(select(func.count()).select_from(Case)).scalar_one()
    assert 0 < partial < 6  # the first two batches, not the failed one
    monkeypatch.setattr(im, "_write_chunk", real)
    resumed = im.import_file(writer, "shanghai_grid", path, chunk_rows=2)
    assert resumed.accounted and resumed.unchanged == partial and resumed.inserted == 6 - partial
    assert resumed.quarantined == 12
    after = snapshot(writer)
    again = im.import_file(writer, "shanghai_grid", path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 6) and snapshot(writer) == after


def test_dry_run_writes_nothing_but_counts_everything(writer, world, tmp_path):
    rows, expected = messy_shanghai_rows()
    path = write_file(tmp_path / "a.xlsx", SH_HEADER, rows, None)
    before = snapshot(writer)
    summary = im.import_file(writer, "shanghai_grid", path, dry_run=True, quarantine_csv=tmp_path / "q.csv")
    assert summary.accounted and summary.inserted == 6 and summary.quarantined == 12
    assert snapshot(writer) == before
    assert (tmp_path / "q.csv").exists()
    with writer.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ImportRun)).scalar_one() == 0


def test_quarantine_rows_that_later_land_are_removed(writer, world, tmp_path):
    """A re-import after a category was added: the row lands and leaves the quarantine table."""
    rows, _ = messy_shanghai_rows()
    path = write_file(tmp_path / "a.csv", SH_HEADER, rows, "utf-8")
    im.import_file(writer, "shanghai_grid", path)
    with writer.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO categories (id, code, kind, major_code, major_name, minor_name, difficulty, "
                "multi_department, time_limit_work_hours) VALUES (9, '1899', 'event', '18', :major, "
                ":minor, 'simple', :f, 8)"
            ),
            {"major": "外星事务", "minor": "外星人入侵", "f": False},
        )
    second = im.import_file(writer, "shanghai_grid", path)
    assert second.inserted == 1 and second.reasons["unknown_category"] == 1
    with writer.connect() as conn:
        rows_q = (
            conn.execute(select(ImportQuarantine.row_number).where(ImportQuarantine.reason_code == "unknown_category"))
            .scalars()
            .all()
        )
    assert rows_q == [16]


# --- the 311 profile: general mapping, due dates, time zones ----------------------------------------------------------
NYC_HEADER = [
    "Unique Key",
    "Created Date",
    "Closed Date",
    "Agency",
    "Complaint Type",
    "Descriptor",
    "Status",
    "Due Date",
    "Open Data Channel Type",
    "Latitude",
    "Longitude",
    "Incident Address",
]


def nyc_rows():
    lon, lat = grid_centre(12)
    return [
        [
            "5001",
            "03/04/2024 09:15:00 AM",
            "03/04/2024 02:00:00 PM",
            "DSNY",
            "Dirty Conditions",
            "Trash",
            "Closed",
            "03/06/2024 09:15:00 AM",
            "PHONE",
            f"{lat}",
            f"{lon}",
            "1 Main St",
        ],
        [
            "5002",
            "03/04/2024 10:00:00 AM",
            "",
            "DOT",
            "Posting Advertisement",
            "Flyers",
            "Open",
            "",
            "MOBILE",
            f"{lat}",
            f"{lon}",
            "2 Main St",
        ],
        [
            "5003",
            "03/04/2024 10:00:00 AM",
            "",
            "DSNY",
            "Rodent",
            "Rat Sighting",
            "Open",
            "",
            "ONLINE",
            f"{lat}",
            f"{lon}",
            "",
        ],
        [
            "5004",
            "2024-03-04T11:00:00",
            "",
            "XYZ",
            "Illegal Parking",
            "Blocked Hydrant",
            "Assigned",
            "",
            "",
            f"{lat}",
            f"{lon}",
            "",
        ],
        ["5005", "03/04/2024 10:00:00 AM", "", "DSNY", "Dirty Conditions", "Trash", "Open", "", "PHONE", "", "", ""],
    ]


def test_generic_311_profile(writer, world, tmp_path):
    path = write_file(tmp_path / "311.csv", NYC_HEADER, nyc_rows(), "utf-8")
    summary = im.import_file(writer, "generic_311", path)
    assert summary.accounted and summary.inserted == 2
    assert dict(summary.reasons) == {"unknown_category": 2, "missing_field": 1}  # Rodent; 机动车乱停放 not in world
    with writer.connect() as conn:
        cases = {r.case_no: r for r in conn.execute(select(Case))}
    first, second = cases["311-5001"], cases["311-5002"]
    assert first.channel == "hotline" and first.status == "closed" and first.grid_id == 12
    assert first.reported_at == datetime(2024, 3, 4, 9, 15) and first.closed_at == datetime(2024, 3, 4, 14, 0)
    assert first.deadline_at == datetime(2024, 3, 6, 9, 15)  # the source's due date wins
    assert first.department_id == world["departments"]["lh"]  # DSNY → 绿化市容局 via the list
    assert second.channel == "app" and second.status == "pending_dispatch"
    assert second.category_id == world["categories"]["ads"]
    # No due date: 非法小广告 has 8 working hours from the report (no dispatch yet): Mon 10:00 → Tue 10:00.
    assert second.deadline_at == datetime(2024, 3, 5, 10, 0)


def test_edited_profile_copy_with_another_time_zone(writer, world, tmp_path):
    """A user copies a shipped profile, edits the time zone and a mapping, and imports with the copy."""
    shipped = (im.PROFILE_DIR / "generic_311.toml").read_text(encoding="utf-8")
    edited = shipped.replace('timezone = "Asia/Shanghai"', 'timezone = "UTC"').replace(
        '"Illegal Parking" = ["机动车乱停放"]', '"Illegal Parking" = ["暴露垃圾"]'
    )
    copy = tmp_path / "my_311.toml"
    copy.write_text(edited, encoding="utf-8")
    path = write_file(tmp_path / "311.csv", NYC_HEADER, nyc_rows(), "utf-8")
    summary = im.import_file(writer, str(copy), path)
    assert summary.profile == "my_311" and summary.inserted == 3 and summary.accounted
    with writer.connect() as conn:
        first = conn.execute(select(Case).where(Case.case_no == "311-5001")).one()
        parked = conn.execute(select(Case).where(Case.case_no == "311-5004")).one()
    assert first.reported_at == datetime(2024, 3, 4, 17, 15)  # 09:15 UTC = 17:15 in Shanghai
    assert parked.department_id is None and summary.warnings["unknown_department"] == 2
    assert parked.status == "in_disposal" and parked.channel == "hotline"  # empty channel → profile default


def test_projected_coordinates_profile(writer, world, tmp_path):
    shipped = (im.PROFILE_DIR / "generic_311.toml").read_text(encoding="utf-8")
    copy = tmp_path / "metres.toml"
    copy.write_text(
        shipped.replace(
            'system = "wgs84"',
            'system = "projected"\norigin_lon = 121.2\n'
            "origin_lat = 31.0\nfalse_easting = 10000\nfalse_northing = 20000",
        ),
        encoding="utf-8",
    )
    lon, lat = grid_centre(21)
    x = 10000 + (lon - 121.2) * 111_412.84 * np.cos(np.radians(31.0))
    y = 20000 + (lat - 31.0) * (111_132.954 - 559.822 * np.cos(2 * np.radians(31.0)))
    rows = [
        [
            "7001",
            "03/04/2024 09:15:00 AM",
            "",
            "DSNY",
            "Dirty Conditions",
            "",
            "Open",
            "",
            "PHONE",
            f"{y:.2f}",
            f"{x:.2f}",
            "",
        ]
    ]
    summary = im.import_file(writer, str(copy), write_file(tmp_path / "m.csv", NYC_HEADER, rows, "utf-8"))
    assert summary.inserted == 1
    with writer.connect() as conn:
        assert conn.execute(select(Case.grid_id)).scalar_one() == 21


def test_grid_code_wins_and_unknown_code_falls_back_to_the_point(writer, world, tmp_path):
    rows = [
        sh_row("G1", grid="310117001010001", point=gcj(22)),  # code (grid 11) wins over the point (22)
        sh_row("G2", grid="999999999999999", point=gcj(22)),  # unknown code: placed by point, warning
        sh_row("G3", grid="999999999999999"),  # unknown code, no point: outside
        sh_row("G4", grid="310117001010002", point=("121.9", "31.9")),
    ]  # point outside, code valid
    summary = im.import_file(writer, "shanghai_grid", write_file(tmp_path / "g.csv", SH_HEADER, rows, "utf-8"))
    assert summary.inserted == 3 and dict(summary.reasons) == {"outside_district": 1}
    assert summary.warnings["grid_code_unknown"] == 1 and summary.warnings["bad_point_used_grid"] == 1
    with writer.connect() as conn:
        grids = dict(conn.execute(select(Case.case_no, Case.grid_id)).all())
    assert grids == {"G1": 11, "G2": 22, "G4": 12}


def test_points_on_shared_boundaries_are_placed_once(writer, world, tmp_path):
    ref_rows = [sh_row("B1", point=im.wgs84_to_gcj02(121.2025, 31.005))]  # edge between grids 11 and 12
    ref_rows[0][13:15] = [f"{v:.9f}" for v in ref_rows[0][13:15]]
    summary = im.import_file(writer, "shanghai_grid", write_file(tmp_path / "b.csv", SH_HEADER, ref_rows, "utf-8"))
    assert summary.inserted == 1
    with writer.connect() as conn:
        assert conn.execute(select(Case.grid_id)).scalar_one() in (11, 12)


# --- coordinate conversions (no database) -----------------------------------------------------------------------------
def test_gcj02_round_trip_and_offset():
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(75, 134, 2000), rng.uniform(18, 53, 2000)
    glon, glat = im.wgs84_to_gcj02(lon, lat)
    back_lon, back_lat = im.gcj02_to_wgs84(glon, glat)
    assert np.max(np.abs(back_lon - lon)) < 1e-8 and np.max(np.abs(back_lat - lat)) < 1e-8
    # Shanghai's offset is a few hundred metres; outside China nothing moves.
    dlon, dlat = np.subtract(im.wgs84_to_gcj02(121.47, 31.23), (121.47, 31.23))
    metres = np.hypot(dlon * 95_000, dlat * 111_000)
    assert 300 < metres < 700
    assert im.wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert im.gcj02_to_wgs84(-74.0, 40.7) == (-74.0, 40.7)


def test_encoding_detection():
    text = "案件编号,描述\nA1,暴露垃圾\n"
    assert im.decode(text.encode("utf-8")) == (text, "utf-8")
    assert im.decode(b"\xef\xbb\xbf" + text.encode("utf-8")) == (text, "utf-8-bom")
    assert im.decode(text.encode("gbk")) == (text, "gb18030")
    assert im.decode("𠀀".encode("gb18030"))[1] == "gb18030"  # outside GBK: GB18030 four-byte


# --- profiles and CLI -------------------------------------------------------------------------------------------------
def test_shipped_profiles_load():
    assert {"shanghai_grid", "generic_311"} <= set(im.list_profiles())
    for name in im.list_profiles():
        profile = im.load_profile(name)
        assert profile.columns["case_no"] and profile.columns["reported_at"]


@pytest.mark.parametrize("bad", ["../../etc/passwd", "shanghai_grid; rm -rf /", "no_such_profile", "x" * 500])
def test_bad_profile_names_are_refused(bad):
    with pytest.raises(im.ImportFailed):
        im.load_profile(bad)


def test_profile_validation_names_the_problem(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('source = "x"\n[columns]\nnot_a_field = "A"\n', encoding="utf-8")
    with pytest.raises(im.ImportFailed, match="not_a_field"):
        im.load_profile(str(bad))
    bad.write_text('source = "x"\n[values.status]\n"Done" = "finished"\n', encoding="utf-8")
    with pytest.raises(im.ImportFailed, match="finished"):
        im.load_profile(str(bad))


def test_cli(db_url, writer, world, tmp_path, capsys):
    rows, expected = messy_shanghai_rows()
    path = write_file(tmp_path / "messy.csv", SH_HEADER, rows, "gb18030")
    assert im.main(["--profile", "shanghai_grid", "--file", str(path), "--db", db_url, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "DRY RUN" in out and "every row accounted for: yes" in out
    assert im.main(["--profile", "shanghai_grid", "--file", str(path), "--db", db_url, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["inserted"] == 6 and result["quarantined"] == 12 and result["accounted"]
    assert im.main(["--profile", "../x", "--file", str(path), "--db", db_url]) == 1
    assert "import failed" in capsys.readouterr().err


def test_database_without_grids_is_refused(writer, tmp_path):
    rows, _ = messy_shanghai_rows()
    with pytest.raises(im.ImportFailed, match="no grids"):
        im.import_file(writer, "shanghai_grid", write_file(tmp_path / "a.csv", SH_HEADER, rows, "utf-8"))


# --- hostile cells, batches, out-of-range values (issue 16, finding 9) ----------------------------------------------
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_oversized_cells_are_quarantined_not_stored(writer, world, tmp_path, suffix):
    """A cell over the per-cell cap (a 206 KB workbook once gave a 200 MB description) quarantines its row; the
    quarantine keeps a cut copy, never the whole cell."""
    cap = im.CELL_LIMIT
    rows = [
        sh_row("BIG1", point=gcj(11), desc="x" * cap),  # exactly the cap: lands
        sh_row("BIG2", point=gcj(11), desc="y" * (cap + 1)),
        sh_row("BIG3", point=gcj(11), address="z" * 200_000),
        sh_row("BIG4", point=gcj(11)),
    ]
    summary = im.import_file(writer, "shanghai_grid", write_file(tmp_path / f"big{suffix}", SH_HEADER, rows, "utf-8"))
    assert summary.accounted and summary.inserted == 2
    assert dict(summary.reasons) == {"cell_too_large": 2}
    with writer.connect() as conn:
        landed = dict(conn.execute(select(Case.case_no, Case.description)).all())
        raws = conn.execute(select(ImportQuarantine.raw_json)).scalars().all()
    assert set(landed) == {"BIG1", "BIG4"} and len(landed["BIG1"]) == cap
    assert all(len(v) <= cap + 40 for raw in raws for v in json.loads(raw).values() if isinstance(v, str))


def test_nul_bytes_quarantine_the_row_instead_of_being_stripped(writer, world, tmp_path):
    """Stripping NULs made 'A\\x001' and 'A1' the same case; now the row with a NUL is quarantined, verbatim."""
    rows = [
        sh_row("A\x001", point=gcj(11)),
        sh_row("A1", point=gcj(11)),
        sh_row("A2", point=gcj(11), desc="note\x00hidden"),
    ]
    summary = im.import_file(writer, "shanghai_grid", write_file(tmp_path / "nul.csv", SH_HEADER, rows, "utf-8"))
    assert summary.accounted and summary.inserted == 1 and dict(summary.reasons) == {"nul_byte": 2}
    with writer.connect() as conn:
        assert conn.execute(select(Case.case_no)).scalars().all() == ["A1"]
        stored = {r.row_number: json.loads(r.raw_json) for r in conn.execute(select(ImportQuarantine))}
    assert stored[2]["TASKID"] == "A\x001" and stored[4]["DESCRIPTION"] == "note\x00hidden"  # kept as read


def test_out_of_range_integers_are_quarantined_not_fatal(writer, world, tmp_path, monkeypatch):
    """Whatever maps a source value into an integer column, a value the column cannot hold (a 20-digit id) sends
    its row to the quarantine instead of failing the whole import."""
    real = im.RowMapper.department

    def department(self, row, warnings):
        return 10**19 + 7 if row.values.get("TASKID") == "HUGE" else real(self, row, warnings)

    monkeypatch.setattr(im.RowMapper, "department", department)
    rows = [sh_row("HUGE", point=gcj(11)), sh_row("FINE", point=gcj(11))]
    summary = im.import_file(writer, "shanghai_grid", write_file(tmp_path / "int.csv", SH_HEADER, rows, "utf-8"))
    assert summary.accounted and summary.inserted == 1 and dict(summary.reasons) == {"out_of_range": 1}


def test_another_writer_gets_in_while_a_large_import_runs(writer, world, tmp_path, db_url):
    """The import commits batch by batch: SQLite's write lock is free between batches, so an action item saved
    during a long import waits at most one batch (it used to fail with 'cannot be reached' for 29 minutes)."""
    import threading
    import time
    from datetime import date

    from sqlalchemy import event

    from data_access import action_items
    from data_access.engine import make_engine

    rows = [sh_row(f"L{n:04d}", point=gcj(11)) for n in range(240)]
    path = write_file(tmp_path / "large.csv", SH_HEADER, rows, "utf-8")
    importing = make_engine(db_url, read_only=False)
    other = make_engine(db_url, read_only=False, timeout_s=0.5)  # busy timeout 0.5 s
    started, done, results = threading.Event(), threading.Event(), []

    @event.listens_for(importing, "after_cursor_execute")
    def slow_write(_conn, _cursor, statement, *_):
        if statement.lstrip().upper().startswith("INSERT INTO CASES"):
            started.set()
            time.sleep(0.1)  # a slow disk: each batch holds the write lock a while

    def save_items():
        started.wait(10)
        for n in range(2):
            try:
                action_items.create_item(
                    other,
                    department_id=1,
                    text=f"item {n}",
                    due_date=date(2024, 3, 8),
                    week=date(2024, 3, 4),
                    now=datetime(2024, 3, 4, 12),
                )
                results.append(("ok", done.is_set()))
            except Exception as err:
                results.append((repr(err), done.is_set()))

    thread = threading.Thread(target=save_items)
    thread.start()
    try:
        summary = im.import_file(importing, "shanghai_grid", path, chunk_rows=30)
    finally:
        done.set()
        thread.join(10)
        importing.dispose()
        other.dispose()
    assert summary.accounted and summary.inserted == 240
    assert results == [("ok", False), ("ok", False)]  # both saved, while the import was still running
