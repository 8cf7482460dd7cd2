"""data_access.job_store: frames as portable bytes, the record of job runs, stored flag results (both dialects)."""

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from data_access import job_store


def odd_frame() -> pd.DataFrame:
    """Every dtype the flags use, and a few they might (nullable ints, categories, time zones, a named index)."""
    return pd.DataFrame(
        {
            "unit_id": [3, "V007", 12],  # ints and strings in one column
            "unit_type": pd.Series(["street", None, "community"], dtype="str"),
            "q": [0.012345678901234567, np.nan, np.inf],
            "n": np.array([1, 2, 3], dtype="int64"),
            "enough": [True, False, True],
            "window_end": pd.to_datetime(["2026-12-01 00:00:00", None, "2026-11-17 08:30:01.5"], format="ISO8601"),
            "count": pd.array([1, None, 3], dtype="Int64"),
            "ok": pd.array([True, None, False], dtype="boolean"),
            "level": pd.Categorical(["red", "amber", "red"], categories=["red", "amber", "none"], ordered=True),
            "lag": [pd.Timedelta("90min"), pd.NaT, pd.Timedelta(0)],
            "at": pd.to_datetime(["2026-12-01 10:00", None, "2026-12-02 00:00"]).tz_localize("Asia/Shanghai"),
            "mixed": [None, 1.5, "x"],
        },
        index=pd.Index([10, 11, 12], name="k"),
    )


def test_frames_round_trip_with_their_dtypes():
    frames = {
        "odd": odd_frame(),
        "empty": odd_frame().iloc[:0],
        "no_columns": pd.DataFrame(index=range(4)),
        "plain": pd.DataFrame({"a": [1.0, 2.0]}),
    }
    back = job_store.decode_frames(job_store.encode_frames(frames))
    assert list(back) == list(frames)
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(back[name], frame, check_exact=True)
    assert [type(v) for v in back["odd"]["unit_id"]] == [int, str, int]
    assert back["odd"]["q"].iloc[0] == 0.012345678901234567  # no digits lost


def test_encoded_frames_are_plain_gzipped_json():
    import gzip
    import json

    doc = json.loads(gzip.decompress(job_store.encode_frames({"odd": odd_frame()})))
    assert doc["format"] == job_store.FRAME_FORMAT
    assert [c["name"] for c in doc["frames"]["odd"]["columns"]][:2] == ["unit_id", "unit_type"]


def test_an_unknown_format_is_refused():
    import gzip

    with pytest.raises(ValueError, match="format"):
        job_store.decode_frames(gzip.compress(b'{"format": 99, "frames": {}}'))


T0 = datetime(2026, 12, 5, 10, 0)


def test_claim_and_finish_record_one_run_per_period(writer):
    assert job_store.claim_run(writer, "flags", "p1", now=T0, worker="a:1")
    job_store.finish_run(writer, "flags", "p1", now=T0 + timedelta(seconds=5))
    assert not job_store.claim_run(writer, "flags", "p1", now=T0 + timedelta(minutes=1), worker="b:2")  # done
    assert job_store.claim_run(writer, "flags", "p2", now=T0 + timedelta(hours=1), worker="b:2")  # next
    assert job_store.claim_run(writer, "other", "p1", now=T0, worker="b:2")  # per job
    runs = job_store.job_runs(writer, "flags")
    assert list(runs["period_key"]) == ["p2", "p1"]
    assert list(runs["status"]) == ["running", "ok"] and list(runs["attempts"]) == [1, 1]


def test_a_failed_run_is_tried_again_after_a_while_and_a_dead_run_at_once(writer):
    assert job_store.claim_run(writer, "flags", "p1", now=T0, worker="a:1")
    job_store.finish_run(writer, "flags", "p1", now=T0, error="QueryTimeout: too slow")
    assert not job_store.claim_run(writer, "flags", "p1", now=T0 + timedelta(minutes=1), worker="a:1")
    assert job_store.claim_run(writer, "flags", "p1", now=T0 + timedelta(minutes=6), worker="a:1")
    # still "running" (its worker died) and we hold the lock: run it again
    assert job_store.claim_run(writer, "flags", "p1", now=T0 + timedelta(minutes=7), worker="b:2")
    row = job_store.job_runs(writer, "flags").iloc[0]
    assert row["status"] == "running" and row["attempts"] == 3 and row["worker"] == "b:2" and row["error"] is None


def test_stored_flag_results_latest_per_version_and_pruned(writer):
    frames = {"flags": odd_frame().reset_index(drop=True)}
    ids = [
        job_store.save_flag_result(
            writer,
            computed_at=T0 + timedelta(hours=i),
            period_end=T0,
            window=(T0 - timedelta(days=60), T0),
            method_version=1,
            seconds=1.5,
            config={"red_q": 0.05},
            frames=frames,
            keep=3,
        )
        for i in range(5)
    ]
    other = job_store.save_flag_result(
        writer,
        computed_at=T0 + timedelta(hours=9),
        period_end=T0,
        window=(T0 - timedelta(days=60), T0),
        method_version=2,
        seconds=1.0,
        config={},
        frames=frames,
        keep=3,
    )
    assert job_store.flag_result_count(writer) == 3  # the 3 latest kept
    latest = job_store.latest_flag_result(writer, 1)
    assert latest["id"] == ids[-1] and latest["computed_at"] == T0 + timedelta(hours=4)
    assert latest["window_start"] == T0 - timedelta(days=60) and latest["seconds"] == 1.5
    assert job_store.latest_flag_result(writer, 2)["id"] == other
    assert job_store.latest_flag_result(writer, 3) is None
    loaded = job_store.load_flag_result(writer, ids[-1])
    assert loaded["config"] == {"red_q": 0.05}
    pd.testing.assert_frame_equal(loaded["frames"]["flags"], frames["flags"])
    assert job_store.load_flag_result(writer, ids[0]) is None  # pruned
