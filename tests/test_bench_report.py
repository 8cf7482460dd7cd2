"""The pure parts of the end-to-end benchmark: per-page summaries, the history ratio, the RESULTS.md sections."""

from bench import render, report


def _load(page, phase, done, **extra):
    return {
        "page": page,
        "phase": phase,
        "done_s": done,
        "ws_open_s": 1.0,
        "server_done_s": done - 0.5,
        "script_s": 0.4,
        "runs": 2,
        "ws_bytes_in": 1_500_000,
        "http_bytes": 11_000_000,
        "cpu_s": {"server": 0.5, "db": 0.1, "browser": 3.0},
        "elements": {"exception": 0},
        "outside_requests": [],
        "background_s": 0.0,
        **extra,
    }


def _report(cases, pages):
    loads = []
    for page, (cold, warm) in pages.items():
        loads.append(_load(page, "cold", cold, visual_ok=True))
        loads += [_load(page, "warm", w) for w in warm]
        loads.append(_load(page, "returning", min(warm) - 0.5))
    return {
        "dialect": "postgresql",
        "cases": cases,
        "db_bytes": 2e9,
        "load_start": (0.5, 0.4, 0.3),
        "load_end": (0.7, 0.5, 0.3),
        "cpu_count": 2,
        "first_load": {"done_s": 9.0},
        "started_at": "2026-11-21T23:00:00",
        "pages": render.summarize(loads),
        "loads": loads,
    }


def test_summarize_takes_the_first_load_as_cold_and_the_median_of_the_rest():
    loads = [
        _load("wall", "cold", 4.0),
        _load("wall", "warm", 1.0),
        _load("wall", "warm", 3.0),
        _load("wall", "warm", 1.2),
        _load("wall", "returning", 0.8),
        _load("wall", "returning", 0.6),
        {"page": "wall", "phase": "warm", "error": "wall: not finished after 900 s", "background_s": 0},
    ]
    s = render.summarize(loads)["wall"]
    assert s["cold_s"] == 4.0 and s["warm_s"] == 1.2 and s["returning_s"] == 0.7
    assert (s["warm_min_s"], s["warm_max_s"]) == (1.0, 3.0)
    assert s["errors"] == ["warm: wall: not finished after 900 s"]
    assert s["warm_cpu_s"] == {"server": 0.5, "db": 0.1, "browser": 3.0}


def test_a_page_whose_cold_load_failed_has_no_cold_figure():
    s = render.summarize(
        [{"page": "reporting", "phase": "cold", "error": "timeout", "background_s": 1}, _load("reporting", "warm", 2.0)]
    )["reporting"]
    assert s["cold_s"] is None and s["warm_s"] == 2.0 and s["background_after_cold_s"] == 1


def test_history_ratio_per_page_and_target():
    small = _report(600_000, {"wall": (2.0, [1.0, 1.0, 1.0]), "map": (2.0, [1.0, 1.0, 1.0])})
    big = _report(10_000_000, {"wall": (2.4, [1.2, 1.2, 1.2]), "map": (3.0, [1.0, 1.0, 1.0]), "weekly": (1.0, [1.0])})
    ratios = render.history_ratios(small, big)
    assert ratios == {
        "wall": {"cold": 1.2, "warm": 1.2, "cold_script": 1.0, "warm_script": 1.0},
        "map": {"cold": 1.5, "warm": 1.0, "cold_script": 1.0, "warm_script": 1.0},
    }
    text = render.format_ratios(ratios, small, big, target=1.3)
    assert "10,000,000 / 600,000" in text
    assert [line.endswith("✗") for line in text.splitlines()[2:]] == [False, True]


def test_busy_seconds_counts_overlapping_runs_once():
    assert render.busy_seconds([(1.0, 2.5), (2.0, 4.0), (5.0, 5.5)]) == 3.5
    assert render.busy_seconds([]) == 0


def test_results_sections():
    small = _report(600_000, {"wall": (2.0, [1.0, 1.1, 0.9])})
    big = _report(10_000_000, {"wall": (3.0, [1.1, 1.2, 1.0])})
    lines = report.render_section({"600 k PostgreSQL": small, "10 M PostgreSQL": big})
    text = "\n".join(lines)
    assert "| page | 600 k PostgreSQL | 10 M PostgreSQL |" in text
    assert "| wall | 2.00 / 1.00 / 0.40 | 3.00 / 1.10 / 0.50 |" in text
    assert "| 10 M PostgreSQL | 10,000,000 | 2.00 GB | 0.5 → 0.7 |" in text
    history = "\n".join(report.history_section([("PostgreSQL", small, big)]))
    assert "| wall | 1.50 | 1.10 | **no** | 1.00 | 1.00 |" in history
    print(render.format_table(big))  # the console table must not fail on a complete report
    assert report.render_section({}) == [] and report.history_section([]) == []


def test_baseline_section_ok_and_failed():
    ok = {
        "cases": 600_000,
        "gridscope": {"cold_s": 0.5, "warm_s": 0.25},
        "baseline": {"status": "ok", "read_s": 9.0, "cold_s": 10.0, "warm_s": 2.0, "peak_rss_bytes": 2 * 2**30},
        "speedup": {"cold": 20.0, "warm": 8.0, "refresh": 40.0},
        "same_numbers": {"a": True, "b": True},
    }
    failed = {
        "cases": 10_000_000,
        "gridscope": {"cold_s": 1.5, "warm_s": 1.0},
        "baseline": {
            "status": "failed",
            "error": "RSS above the 8 GiB limit after 95 s",
            "last_stage": "read",
            "peak_rss_seen": 8.1 * 2**30,
        },
        "speedup": {},
    }
    text = "\n".join(report.baseline_section({"600 k": ok, "10 M": failed}))
    assert "| 600 k | 600,000 | 0.50 / 0.25 | 9.00 | 10.00 / 2.00 | 2.00 | ×20.0 / ×8.0 / ×40.0 | yes |" in text
    assert "failed: RSS above the 8 GiB limit after 95 s (during read)" in text
    ok["same_numbers"]["b"] = False
    assert "| no: b |" in "\n".join(report.baseline_section({"600 k": ok}))


def test_marginal_cpu_is_the_cost_of_the_refreshes_added():
    one = {"cpu_ms_per_viewer_refresh": 140.0, "refreshes_observed": 20}  # 2,800 ms, mostly fixed costs
    ten = {"cpu_ms_per_viewer_refresh": 50.0, "refreshes_observed": 200}  # 10,000 ms
    assert report.marginal_cpu_ms(one, ten) == (10_000 - 2_800) / 180
    assert report.marginal_cpu_ms(one, one) is None and report.marginal_cpu_ms(None, ten) is None


def test_floor_sentence_from_its_result_or_not_measured():
    floor = {
        "loads": [{}] * 7,
        "floor_s": 0.94,
        "ws_open_s": 0.84,
        "http_bytes": 3_300_000,
        "started_at": "2026-11-22T06:05:00",
    }
    text = report.floor_sentence(floor)
    assert "7 loads" in text and "0.94 s" in text and "0.84 s" in text and "3.3 MB" in text
    assert report.floor_sentence(None) == "Not measured yet."
