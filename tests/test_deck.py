"""Map builders: offline decks (no basemap at all), expected layers, bounded payload."""

import json

import numpy as np
import pandas as pd

from ui.deck import deck_payload_bytes, make_district_deck, picked_id, ramp_colour


def _shapes(n_side=20):
    rows = []
    for i in range(n_side):
        for j in range(n_side):
            x, y = 121.1 + i * 0.01, 30.95 + j * 0.01
            rows.append(
                {
                    "id": i * n_side + j,
                    "name": f"网格{i}-{j}",
                    "ring": [[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y + 0.01], [x, y]],
                }
            )
    grids = pd.DataFrame(rows)
    streets = pd.DataFrame(
        {
            "name": ["街道甲"],
            "ring": [[[121.1, 30.95], [121.3, 30.95], [121.3, 31.15], [121.1, 31.15], [121.1, 30.95]]],
            "centroid_lat": [31.05],
            "centroid_lon": [121.2],
        }
    )
    return grids, streets


def test_deck_is_offline_and_has_expected_layers():
    grids, streets = _shapes()
    values = pd.DataFrame({"grid_id": grids["id"], "value": np.arange(len(grids)) % 7})
    points = pd.DataFrame(
        {
            "lat": [31.0, 31.01],
            "lon": [121.2, 121.21],
            "status": ["in_disposal", "closed"],
            "reported_at": pd.to_datetime(["2026-11-21 08:00", "2026-11-21 09:30"]),
        }
    )
    deck = make_district_deck(
        grids, values, streets, value_label="超期", points=points, new_since=pd.Timestamp("2026-11-21 09:00")
    )
    spec = json.loads(deck.to_json())
    # No basemap: no provider, and the pydeck sentinel style that Streamlit's frontend drops (null would make it
    # fetch CARTO tiles from the internet).
    assert spec.get("mapProvider") in (None, "") and spec.get("mapStyle") == "__MAP_STYLE__"
    assert [layer["id"] for layer in spec["layers"]] == ["grids", "street-borders", "street-names", "cases"]
    cases = next(layer for layer in spec["layers"] if layer["id"] == "cases")
    colours = [p["colour"] for p in cases["data"]]
    assert colours[1] == [255, 255, 255, 255] and colours[0] != colours[1]  # the new case stands out
    assert "http" not in deck.to_json().replace("http://localhost", "")


def test_payload_stays_small_for_the_district():
    grids, streets = _shapes(37)  # ~1370 grids, like the demo district
    values = pd.DataFrame({"grid_id": grids["id"], "value": 1})
    rng = np.random.default_rng(0)
    points = pd.DataFrame(
        {
            "lat": rng.uniform(30.95, 31.3, 5000),
            "lon": rng.uniform(121.1, 121.5, 5000),
            "status": "in_disposal",
            "reported_at": pd.Timestamp("2026-11-21"),
        }
    )
    deck = make_district_deck(grids, values, streets, value_label="x", points=points)
    assert deck_payload_bytes(deck) < 5_000_000


def test_ramp_saturates_outliers_and_handles_empty():
    colours = ramp_colour(pd.Series([0, 1, 2, 100]))
    assert colours[0] != colours[2] and colours[3][:3] == [220, 40, 60]
    assert ramp_colour(pd.Series([], dtype=float)) == []


def test_picked_id_reads_a_click_from_either_shape_of_the_selection_state():
    from types import SimpleNamespace

    as_dict = {"selection": {"objects": {"grids": [{"id": 656, "name": "x"}]}}}
    as_object = SimpleNamespace(selection=SimpleNamespace(objects={"grids": [{"id": "7"}]}))
    assert picked_id(as_dict, "grids") == 656 and picked_id(as_object, "grids") == 7
    assert picked_id(None, "grids") is None and picked_id({"selection": {"objects": {}}}, "grids") is None
    assert picked_id(as_dict, "cases") is None
