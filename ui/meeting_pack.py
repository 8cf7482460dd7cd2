"""周例会材料: the weekly meeting pack as PDF (fpdf2, CJK font embedded, charts as PNG images drawn with matplotlib)
and as XLSX (openpyxl, one sheet per section).

Pure: small frames in (``MeetingData``), bytes out; no Streamlit, no database. The PDF is in Chinese, the meeting's
language. The CJK font comes from the system (Debian ``fonts-noto-cjk``; ``GRIDSCOPE_CJK_FONT`` overrides the path);
without one, ``MissingCJKFont`` says what to install instead of printing boxes (tofu).
"""
from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

# Searched in order; a .ttc is a collection, the Simplified Chinese face is picked by name.
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
ROWS_PER_LIST = 15          # rows of each case list per department in the PDF (the XLSX has them all)
HEADLINE_LABELS = {"new": "新增案件", "closed": "结案数", "overdue": "超期未处置(周末)", "ontime_rate": "按期处置率",
                   "satisfaction_rate": "满意率", "escalated": "提交区级(大循环)"}
ACTION_LABELS = {"return": "回退", "check_fail": "返工(核查不通过)", "escalate": "提交区级"}


class MissingCJKFont(RuntimeError):
    """No font with Chinese glyphs was found: the PDF would show boxes instead of text."""


@dataclass
class MeetingData:
    """Everything the pack shows, already aggregated (see ``pages/weekly.py`` for the loaders)."""
    week: date                                    # Monday
    generated_at: datetime
    headline: pd.DataFrame                        # weekly_queries.headline_changes
    weeks: pd.DataFrame                           # weekly_queries.weekly_headline (trend)
    departments: pd.DataFrame                     # department_week + name, repeats, open_items
    overdue: pd.DataFrame                         # overdue_cases (with department_id)
    events: pd.DataFrame                          # event_cases for return / check_fail / escalate
    repeats: pd.DataFrame                         # repeat_problems
    places: pd.DataFrame                          # top_places
    heat: pd.DataFrame                            # weekday_hour_counts
    items: pd.DataFrame                           # action_items.items_for_week
    flags: pd.DataFrame | None = None             # new flags of the week; None = not computed yet
    repeat_days: int = 14
    case_numbers: dict = field(default_factory=dict)   # cases.id → case_no for linked cases

    @property
    def week_label(self) -> str:
        return f"{self.week:%Y-%m-%d} 至 {self.week + timedelta(days=6):%Y-%m-%d}"


# --- fonts -----------------------------------------------------------------------------------------------------------
def find_cjk_font() -> tuple[str, int]:
    """(path, face index) of a system font with Simplified Chinese glyphs; raises ``MissingCJKFont``."""
    override = os.environ.get("GRIDSCOPE_CJK_FONT")
    for path in ([override] if override else []) + list(FONT_CANDIDATES):
        if path and Path(path).is_file():
            return path, _sc_face(path)
    raise MissingCJKFont("找不到中文字体，无法生成 PDF：请安装 fonts-noto-cjk（apt-get install fonts-noto-cjk），或用 "
                         "GRIDSCOPE_CJK_FONT 指定字体文件。 / No CJK font found: install fonts-noto-cjk or set "
                         "GRIDSCOPE_CJK_FONT.")


def _sc_face(path: str) -> int:
    """Index of the Simplified Chinese face of a collection (0 for a single font)."""
    if not path.lower().endswith(".ttc"):
        return 0
    from fontTools.ttLib import TTCollection
    with TTCollection(path, lazy=True) as coll:
        names = [f["name"].getDebugName(4) or "" for f in coll.fonts]
    for i, name in enumerate(names):
        if name.endswith(" SC") or "SC " in name or "Simplified" in name:
            return i
    return 0


# --- charts (matplotlib, object API: no pyplot global state in a server) ---------------------------------------------
def _figure(width_in: float, height_in: float):
    from matplotlib.figure import Figure
    return Figure(figsize=(width_in, height_in), dpi=130)


def _font_properties(path: str, index: int):
    from matplotlib import font_manager
    font_manager.fontManager.addfont(path)
    # fontManager lists every face of a collection by family name; pick the SC one when present.
    families = {f.name for f in font_manager.fontManager.ttflist if f.fname == path}
    sc = sorted(n for n in families if n.endswith(" SC") and "Mono" not in n)
    if sc:
        return font_manager.FontProperties(family=sc[0])
    return font_manager.FontProperties(fname=path)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def trend_chart(weeks: pd.DataFrame, fp) -> bytes:
    """New and closed cases of the weeks shown, as grouped bars (PNG)."""
    fig = _figure(7.2, 2.4)
    ax = fig.add_subplot()
    x = range(len(weeks))
    ax.bar([i - 0.2 for i in x], weeks["new"], width=0.4, label="新增", color="#3b6ea5")
    ax.bar([i + 0.2 for i in x], weeks["closed"], width=0.4, label="结案", color="#7fb069")
    ax.set_xticks(list(x), [f"{w:%m-%d}" for w in weeks["week"]])
    for label in ax.get_xticklabels():
        label.set_fontproperties(fp)
    ax.legend(prop=fp, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    ax.set_title("近5周 新增与结案（周一起）", fontproperties=fp, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def department_chart(departments: pd.DataFrame, fp, top: int = 15) -> bytes | None:
    """Horizontal bars of 超期未处置 per department (the top ``top``), or None when nobody is overdue."""
    data = departments[departments["overdue"] > 0].nlargest(top, "overdue").iloc[::-1]
    if data.empty:
        return None
    fig = _figure(7.2, 0.25 * len(data) + 0.8)
    ax = fig.add_subplot()
    ax.barh(range(len(data)), data["overdue"], color="#c0392b")
    ax.set_yticks(range(len(data)), list(data["name"]))
    for label in ax.get_yticklabels():
        label.set_fontproperties(fp)
    for i, v in enumerate(data["overdue"]):
        ax.text(v, i, f" {int(v)}", va="center", fontsize=7)
    ax.set_title("超期未处置数（周末）前15个部门", fontproperties=fp, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


# --- formatting ------------------------------------------------------------------------------------------------------
def _fmt(key: str, value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if key in ("ontime_rate", "satisfaction_rate"):
        return f"{value:.1%}"
    return f"{value:,.1f}" if abs(value - round(value)) > 1e-9 else f"{int(round(value)):,}"


def _delta(key: str, value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if key in ("ontime_rate", "satisfaction_rate"):
        return f"{value * 100:+.1f} 个百分点"
    return f"{value:+,.1f}" if abs(value - round(value)) > 1e-9 else f"{int(round(value)):+,}"


def _time(value) -> str:
    if value is None or pd.isna(value):
        return "—"
    return pd.Timestamp(value).strftime("%m-%d %H:%M")


def headline_table(data: MeetingData) -> pd.DataFrame:
    """The headline section as display strings: 指标, 本周, 上周, 较上周, 近4周平均, 较4周平均."""
    rows = []
    for _, r in data.headline.iterrows():
        rows.append({"指标": HEADLINE_LABELS.get(r["key"], r["key"]), "本周": _fmt(r["key"], r["value"]),
                     "上周": _fmt(r["key"], r["previous"]), "较上周": _delta(r["key"], r["delta_prev"]),
                     "近4周平均": _fmt(r["key"], r["avg4"]), "较4周平均": _delta(r["key"], r["delta_avg"])})
    return pd.DataFrame(rows)


def department_overview(data: MeetingData) -> pd.DataFrame:
    """One row per department on the agenda (most overdue first), display columns in Chinese."""
    d = data.departments
    return pd.DataFrame({
        "部门": d["name"], "超期未处置": d["overdue"], "处置数": d["disposed"],
        "按期处置率": d["ontime_rate"].map(lambda v: _fmt("ontime_rate", v)),
        "回退": d["returned"], "返工": d["reworked"], "提交区级": d["escalated"],
        "重复发生": d["repeats"], "督办未办结": d["open_items"]})


def _section_frames(data: MeetingData, dept_id: int) -> dict[str, pd.DataFrame]:
    od = data.overdue[data.overdue["department_id"] == dept_id]
    ev = data.events[data.events["department_id"] == dept_id]
    rp = data.repeats[data.repeats["department_id"] == dept_id] if len(data.repeats) else data.repeats
    it = data.items[data.items["department_id"] == dept_id] if len(data.items) else data.items
    return {
        "overdue": pd.DataFrame({"案件编号": od["case_no"], "类别": od["category"], "地址": od["address"],
                                 "时限": od["deadline"].map(_time), "已超期(天)": od["days_overdue"]}),
        "events": pd.DataFrame({"案件编号": ev["case_no"], "环节": ev["action"].map(ACTION_LABELS),
                                "时间": ev["at"].map(_time), "类别": ev["category"], "说明": ev["note"].fillna("")}),
        "repeats": pd.DataFrame({"新案件": rp.get("case_no", []), "原案件": rp.get("first_case_no", []),
                                 "类别": rp.get("category", []), "地址": rp.get("address", []),
                                 "结案后(天)": rp.get("days_after", [])}),
        "items": _items_display(it, data.case_numbers),
    }


def _items_display(items: pd.DataFrame, case_numbers: dict) -> pd.DataFrame:
    if items is None or items.empty:
        return pd.DataFrame(columns=["编号", "督办内容", "完成期限", "状态", "提出周", "关联案件", "办结说明"])
    status = items.apply(lambda r: ("已办结" if r["status_in_week"] == "done" else
                                    ("逾期未办结" if r["overdue"] else "未办结")) +
                         (f"（第{r['weeks_open']}周）" if r["carried"] else "（本周新增）"), axis=1)
    return pd.DataFrame({
        "编号": items["id"].astype(int), "督办内容": items["text"], "完成期限": items["due_date"].astype(str),
        "状态": status, "提出周": items["created_week"].astype(str),
        "关联案件": items["linked_case_ids"].map(lambda ids: "、".join(case_numbers.get(i, str(i)) for i in ids)),
        "办结说明": items["done_note"].fillna("")})


# --- PDF -------------------------------------------------------------------------------------------------------------
class _Pdf:
    """A thin wrapper over fpdf2 with the pack's fonts, headings and tables."""

    def __init__(self, data: MeetingData):
        from fpdf import FPDF
        path, index = find_cjk_font()
        self.fp = _font_properties(path, index)
        pdf = FPDF(orientation="P", unit="mm", format="A4")
        pdf.set_auto_page_break(auto=True, margin=14)
        pdf.set_margins(12, 12, 12)
        pdf.add_font("cjk", "", path, collection_font_number=index)
        # Subsetting a CFF CJK font recomputes every glyph's bounding box on save (seconds); the boxes are not
        # needed for a PDF's embedded subset.
        for font in pdf.fonts.values():
            if getattr(font, "ttfont", None) is not None:
                font.ttfont.recalcBBoxes = False
        pdf.set_title(f"周例会材料 {data.week_label}")
        pdf.set_creator("Gridscope")
        label = data.week_label

        def footer():
            pdf.set_y(-10)
            pdf.set_font("cjk", size=7)
            pdf.set_text_color(120)
            pdf.cell(0, 4, f"Gridscope 周例会材料 · {label} · 第 {pdf.page_no()} 页", align="C")
            pdf.set_text_color(0)
        pdf.footer = footer
        self.pdf = pdf

    def heading(self, text: str, size: float = 14, new_page: bool = False):
        if new_page:
            self.pdf.add_page()
        elif self.pdf.get_y() > self.pdf.h - 40:          # keep a heading with what follows
            self.pdf.add_page()
        self.pdf.set_font("cjk", size=size)
        self.pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def text(self, text: str, size: float = 9, colour: int = 0):
        self.pdf.set_font("cjk", size=size)
        self.pdf.set_text_color(colour)
        self.pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_text_color(0)
        self.pdf.ln(1)

    def table(self, frame: pd.DataFrame, widths: tuple[float, ...] | None = None, size: float = 8,
              limit: int | None = None, empty: str = "无", wrap: tuple[str, ...] = ()):
        """A ruled table: one line per cell (text cut with … to fit), except ``wrap`` columns, which wrap onto up
        to 4 lines. Drawn with plain cells (fpdf2's table() lays every cell out twice: too slow for 30 sections);
        the header repeats after a page break."""
        pdf = self.pdf
        total = len(frame)
        if total == 0:
            self.text(empty, colour=110)
            return
        shown = frame.head(limit) if limit else frame
        cols = list(shown.columns)
        widths = widths or tuple(186 / len(cols) for _ in cols)
        line = size * 0.48
        pdf.set_font("cjk", size=size)

        def header():
            pdf.set_fill_color(225, 230, 238)
            for col, w in zip(cols, widths):
                pdf.cell(w, line + 1.6, self._fit(str(col), w), border=1, fill=True)
            pdf.ln(line + 1.6)

        header()
        for values in shown.itertuples(index=False):
            texts = ["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in values]
            lines = [self._wrap(t, w) if c in wrap else [self._fit(t, w)] for c, t, w in zip(cols, texts, widths)]
            height = max(len(x) for x in lines) * line + 1.6
            if pdf.get_y() + height > pdf.page_break_trigger:
                pdf.add_page()
                header()
            x0, y0 = pdf.get_x(), pdf.get_y()
            x = x0
            for cell_lines, w in zip(lines, widths):
                pdf.rect(x, y0, w, height)
                for k, text in enumerate(cell_lines):
                    pdf.set_xy(x, y0 + 0.8 + k * line)
                    pdf.cell(w, line, text)
                x += w
            pdf.set_xy(x0, y0 + height)
        if limit and total > limit:
            pdf.ln(1)
            self.text(f"共 {total} 条，此处列出前 {limit} 条（完整清单见 Excel）", size=7.5, colour=110)
        pdf.ln(2)

    def _fit(self, text: str, width: float) -> str:
        """``text`` cut with … so it fits in a cell ``width`` mm wide (with padding)."""
        room = width - 2 * self.pdf.c_margin - 0.4
        if self.pdf.get_string_width(text) <= room:
            return text
        lo, hi = 0, len(text)
        while lo < hi:                                   # the longest prefix that fits with the ellipsis
            mid = (lo + hi + 1) // 2
            if self.pdf.get_string_width(text[:mid] + "…") <= room:
                lo = mid
            else:
                hi = mid - 1
        return text[:lo] + "…"

    def _wrap(self, text: str, width: float, max_lines: int = 4) -> list[str]:
        """``text`` broken into lines that fit ``width`` mm (CJK text breaks anywhere), at most ``max_lines``."""
        room = width - 2 * self.pdf.c_margin - 0.4
        out, current = [], ""
        for ch in text.replace("\n", " "):
            if self.pdf.get_string_width(current + ch) > room:
                out.append(current)
                current = ch
                if len(out) == max_lines:
                    break
            else:
                current += ch
        if len(out) < max_lines:
            out.append(current)
        elif current:
            out[-1] = self._fit(out[-1] + current + "……", width)
        return out or [""]

    def heat_map(self, heat: pd.DataFrame, title: str):
        """Weekday × hour heat map of reported cases drawn as vector cells (168 rectangles: crisper and much
        faster than an image), with the busiest cell's count as the scale."""
        if heat.empty:
            return
        pdf = self.pdf
        grid = heat.groupby(["weekday", "hour"])["n"].sum().unstack(fill_value=0) \
            .reindex(index=range(7), columns=range(24), fill_value=0)
        peak = max(int(grid.to_numpy().max()), 1)
        label_w, cell_w, cell_h = 12.0, 7.0, 4.6
        if pdf.get_y() + 7 * cell_h + 16 > pdf.page_break_trigger:
            pdf.add_page()
        pdf.set_font("cjk", size=9)
        pdf.cell(0, 5, f"{title}（颜色越深越多，最多 {peak} 件/小时）", new_x="LMARGIN", new_y="NEXT")
        x0, y0 = pdf.l_margin, pdf.get_y() + 1
        pdf.set_font("cjk", size=6.5)
        for h in range(0, 24, 2):
            pdf.set_xy(x0 + label_w + h * cell_w, y0)
            pdf.cell(cell_w * 2, 3, f"{h}时")
        y0 += 3.5
        for d in range(7):
            pdf.set_xy(x0, y0 + d * cell_h)
            pdf.set_font("cjk", size=7.5)
            pdf.cell(label_w, cell_h, WEEKDAYS[d])
            for h in range(24):
                share = grid.iat[d, h] / peak
                # white → dark orange
                pdf.set_fill_color(int(255 - 40 * share), int(255 - 160 * share), int(255 - 235 * share))
                pdf.rect(x0 + label_w + h * cell_w, y0 + d * cell_h, cell_w, cell_h, style="DF")
        pdf.set_xy(x0, y0 + 7 * cell_h + 3)

    def image(self, png: bytes | None, width: float = 186):
        if png is None:
            return
        from PIL import Image
        with Image.open(io.BytesIO(png)) as im:
            w, h = im.size
        height = width * h / w
        if self.pdf.get_y() + height > self.pdf.h - 16:
            self.pdf.add_page()
        self.pdf.image(io.BytesIO(png), w=width)
        self.pdf.ln(2)


def build_pdf(data: MeetingData) -> bytes:
    """The meeting pack as PDF bytes: overview (headline, trend, department table and chart), hotspots (places,
    weekday × hour), new flags, then one section per department on the agenda, then all action items."""
    doc = _Pdf(data)
    pdf = doc.pdf
    doc.heading(f"周例会材料 {data.week_label}", size=16, new_page=True)
    doc.text(f"生成时间 {data.generated_at:%Y-%m-%d %H:%M} · 统计周 周一 00:00 至下周一 00:00 · "
             f"重复发生指结案后 {data.repeat_days} 天内同一地点同类问题再次上报", size=8, colour=90)
    doc.heading("一、本周概况", size=12)
    doc.table(headline_table(data), widths=(34, 26, 26, 34, 30, 36), size=9)
    doc.image(trend_chart(data.weeks, doc.fp), width=170)
    doc.heading("二、部门议程总览", size=12)
    doc.table(department_overview(data), widths=(42, 18, 16, 20, 14, 14, 18, 18, 22), size=8)
    doc.image(department_chart(data.departments, doc.fp), width=170)

    doc.heading("三、高发点位与高发时段", size=12, new_page=True)
    places = data.places
    doc.table(pd.DataFrame({"网格": places["grid"], "地址": places["address"], "案件数": places["n"],
                            "最多类别": places["top_category"], "该类件数": places["top_n"]}),
              widths=(44, 70, 18, 34, 20), size=8, empty="本周无案件")
    doc.heat_map(data.heat, "高发时段：全部类别 按星期×小时 上报量")
    if len(data.heat):
        top_majors = data.heat.groupby(["major_code", "major_name"])["n"].sum().nlargest(2)
        for (code, name), _ in top_majors.items():
            doc.heat_map(data.heat[data.heat["major_code"] == code], f"高发时段：{name} 按星期×小时 上报量")
    doc.heading("四、本周新增预警", size=12)
    if data.flags is None:
        doc.text("数据不足/计算中：预警结果尚未计算完成，请在“选择性上报预警”页面查看。", colour=110)
    else:
        doc.table(data.flags, size=8, empty="本周无新增预警")

    for _, dept in data.departments.iterrows():
        dept_id = int(dept["department_id"])
        frames = _section_frames(data, dept_id)
        doc.heading(f"部门：{dept['name']}", size=13, new_page=True)
        doc.text(f"超期未处置 {int(dept['overdue'])} 件 · 处置 {int(dept['disposed'])} 件 · 按期处置率 "
                 f"{_fmt('ontime_rate', dept['ontime_rate'])} · 回退 {int(dept['returned'])} 次 · 返工 "
                 f"{int(dept['reworked'])} 次 · 提交区级 {int(dept['escalated'])} 件 · 重复发生 {int(dept['repeats'])} 件",
                 size=9)
        doc.heading("超期案件（周末已超期、至今未办结）", size=10)
        doc.table(frames["overdue"], widths=(40, 30, 66, 26, 24), limit=ROWS_PER_LIST)
        doc.heading("回退、返工与提交区级", size=10)
        doc.table(frames["events"], widths=(40, 28, 24, 30, 64), limit=ROWS_PER_LIST)
        doc.heading(f"重复发生（结案后 {data.repeat_days} 天内同地同类再报）", size=10)
        doc.table(frames["repeats"], widths=(40, 40, 28, 56, 22), limit=ROWS_PER_LIST)
        doc.heading("督办事项", size=10)
        doc.table(frames["items"], widths=(12, 52, 22, 30, 22, 26, 22), limit=ROWS_PER_LIST,
                  wrap=("督办内容", "关联案件", "办结说明"))

    doc.heading("五、督办事项汇总", size=12, new_page=True)
    items = _items_display(data.items, data.case_numbers)
    if len(data.items):
        names = dict(zip(data.departments["department_id"], data.departments["name"]))
        items.insert(1, "部门", data.items["department_id"].map(lambda i: names.get(i, str(i))).to_numpy())
    doc.table(items, widths=(10, 26, 44, 20, 26, 20, 22, 18), empty="本周无督办事项",
              wrap=("督办内容", "关联案件", "办结说明"))
    return bytes(pdf.output())


# --- XLSX ------------------------------------------------------------------------------------------------------------
def xlsx_sheets(data: MeetingData) -> dict[str, pd.DataFrame]:
    """The workbook's sheets (name → frame), one per section, every row (the PDF truncates long lists)."""
    names = dict(zip(data.departments["department_id"], data.departments["name"]))
    dept = lambda frame: frame["department_id"].map(lambda i: names.get(i, i))  # noqa: E731
    heat = data.heat.pivot_table(index=["major_name", "weekday"], columns="hour", values="n", aggfunc="sum",
                                 fill_value=0).reset_index() if len(data.heat) else pd.DataFrame()
    if len(heat):
        heat["weekday"] = heat["weekday"].map(lambda i: WEEKDAYS[int(i)])
        heat = heat.rename(columns={"major_name": "大类", "weekday": "星期"})
        heat.columns = [f"{c}时" if isinstance(c, (int,)) else c for c in heat.columns]
    items = _items_display(data.items, data.case_numbers)
    if len(data.items):
        items.insert(1, "部门", dept(data.items).to_numpy())
    return {
        "概况": headline_table(data).assign(统计周=data.week_label),
        "部门议程": department_overview(data),
        "超期案件": pd.DataFrame({"部门": dept(data.overdue), "案件编号": data.overdue["case_no"],
                              "类别": data.overdue["category"], "状态": data.overdue["status"],
                              "地址": data.overdue["address"], "上报时间": data.overdue["reported_at"],
                              "时限": data.overdue["deadline"], "已超期(天)": data.overdue["days_overdue"]}),
        "回退返工区级": pd.DataFrame({"部门": dept(data.events), "案件编号": data.events["case_no"],
                                  "环节": data.events["action"].map(ACTION_LABELS), "时间": data.events["at"],
                                  "类别": data.events["category"], "说明": data.events["note"]}),
        "重复发生": pd.DataFrame({"部门": dept(data.repeats) if len(data.repeats) else [],
                              "新案件": data.repeats.get("case_no", []),
                              "上报时间": data.repeats.get("reported_at", []),
                              "原案件": data.repeats.get("first_case_no", []),
                              "原案件结案时间": data.repeats.get("first_closed_at", []),
                              "类别": data.repeats.get("category", []), "网格": data.repeats.get("grid", []),
                              "地址": data.repeats.get("address", []),
                              "结案后(天)": data.repeats.get("days_after", [])}),
        "高发点位": pd.DataFrame({"网格": data.places["grid"], "地址": data.places["address"],
                              "案件数": data.places["n"], "最多类别": data.places["top_category"],
                              "该类件数": data.places["top_n"]}),
        "高发时段": heat,
        "新增预警": data.flags if data.flags is not None else pd.DataFrame({"说明": ["数据不足/计算中"]}),
        "督办事项": items,
    }


def build_xlsx(data: MeetingData) -> bytes:
    """The meeting pack as an XLSX workbook (bytes), one sheet per section (see ``xlsx_sheets``)."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        for name, frame in xlsx_sheets(data).items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            for i, col in enumerate(frame.columns, start=1):
                width = max([len(str(col))] + [len(str(v)) for v in frame[col].head(200)]) if len(frame) else 8
                sheet.column_dimensions[sheet.cell(row=1, column=i).column_letter].width = min(60, width * 1.6 + 2)
    return buf.getvalue()


# --- assembling the data (the one impure part: reads the database) ----------------------------------------------------
def collect(engine, week: date, *, now: datetime, repeat_days: int = 14, flags: pd.DataFrame | None = None,
            list_limit: int = 2000) -> MeetingData:
    """Run the weekly queries for meeting week ``week`` and return a ``MeetingData`` (departments on the agenda:
    anything overdue, returned, reworked, escalated, repeated, or an action item of the week)."""
    from data_access import action_items
    from data_access import weekly_queries as wq

    weeks = wq.weekly_headline(engine, week, now=now)
    depts = wq.department_week(engine, week, now=now)
    repeats = wq.repeat_problems(engine, week, repeat_days=repeat_days)
    items = action_items.items_for_week(engine, week)
    names = wq.department_names(engine)
    rep_counts = repeats.groupby("department_id").size() if len(repeats) else pd.Series(dtype=int)
    open_counts = items[items["status_in_week"] == "open"].groupby("department_id").size() if len(items) \
        else pd.Series(dtype=int)
    ids = set(depts["department_id"].astype(int)) | set(int(i) for i in rep_counts.index) \
        | set(int(i) for i in items.get("department_id", []))
    table = names[names["department_id"].isin(ids)].merge(depts, on="department_id", how="left")
    for col in ("disposed", "ontime", "overdue", "returned", "reworked", "escalated", "due"):
        table[col] = table[col].fillna(0).astype(int)
    table["repeats"] = table["department_id"].map(rep_counts).fillna(0).astype(int)
    table["open_items"] = table["department_id"].map(open_counts).fillna(0).astype(int)
    busy = (table[["overdue", "returned", "reworked", "escalated", "repeats", "open_items"]].sum(axis=1) > 0)
    table = table[busy].sort_values(["overdue", "open_items", "returned", "repeats", "code"],
                                    ascending=[False, False, False, False, True], ignore_index=True)
    linked = [i for ids_ in items.get("linked_case_ids", []) for i in ids_]
    return MeetingData(
        week=week, generated_at=now, headline=wq.headline_changes(weeks), weeks=weeks, departments=table,
        overdue=wq.overdue_cases(engine, week, now=now, limit=list_limit),
        events=wq.event_cases(engine, week, ("return", "check_fail", "escalate"), limit=list_limit),
        repeats=repeats, places=wq.top_places(engine, week), heat=wq.weekday_hour_counts(engine, week),
        items=items, flags=flags, repeat_days=repeat_days,
        case_numbers=action_items.case_numbers(engine, linked))
