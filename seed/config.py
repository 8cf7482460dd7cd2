"""Settings of the synthetic world: presets plus every knob the tests or the flags evaluator may override.

``build_world(..., **overrides)`` replaces any field of ``WorldConfig`` (e.g. ``days=60, n_grids=400``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

# The model district (docs/domain.md §1): Songjiang, Shanghai.
DISTRICT_CODE = "310117"
DISTRICT_NAME = "示例区"  # deliberately not the real name: this is demo data
CENTER_LAT, CENTER_LON = 31.03, 121.23


@dataclass(frozen=True)
class WorldConfig:
    preset: str = "demo"
    days: int = 90  # length of the world, ending at ``end``
    cases_per_day: float = 1650.0  # target mean of recorded cases a day (all channels)
    area_km2: float = 604.65
    population: int = 1_900_000
    n_subdistricts: int = 6  # 街道
    n_towns: int = 11  # 镇
    n_industrial: int = 1  # 工业区
    n_communities: int = 304
    n_grids: int = 1322
    # channel mix knobs (per-problem chances are scaled by these)
    patrol_scale: float = 1.0
    hotline_scale: float = 1.6
    app_scale: float = 0.8
    video_scale: float = 1.0
    hard_scale: float = 1.0  # multiplies how often complex (hard) problems arise
    self_handle_share: float = 0.14  # of simple patrol cases (docs/domain.md §2: 13–17 % of patrol cases)
    # planted behaviour (see seed/behaviours.py); None = default mix for the size of the world
    plant: bool = True
    g1_rates: tuple = (0.15, 0.30, 0.50)  # street-level hard-case withholding, one street each
    g1_communities: int = 4  # extra community-level G1 units (rate 0.5)
    g2_sizes: tuple = (0.25, 0.40)  # padding size per padding street (first: period-end dump, then spread)
    g3_rate: float = 0.7  # street-wide "don't report hard cases"
    g4_rate: float = 0.5  # G1 that starts mid-period
    g5_drop: float = 0.8  # G5: share of hard cases without a hotline call that are not logged
    g6_verifiers: int = 3
    g7_farmers: int = 6
    c1_streets: int = 2
    c1_reduction: float = 0.4  # clean-up campaign: 40 % fewer simple appearance/order problems
    c2_streets: int = 4
    c3_communities: int = 8
    weak_departments: int = 3
    chunk_rows: int = 50_000  # rows per executemany / COPY batch

    def with_overrides(self, **overrides) -> "WorldConfig":
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown world setting(s): {', '.join(sorted(unknown))}")
        return replace(self, **overrides)

    @property
    def n_streets(self) -> int:
        return self.n_subdistricts + self.n_towns + self.n_industrial


PRESETS: dict[str, WorldConfig] = {
    # For tests and the flags evaluator: all 18 streets and every planted behaviour, fewer grids, ~2 months.
    # ~1,300 cases a day so each street still collects well over 100 public-reported hard problems in 60 days.
    "tiny": WorldConfig(
        preset="tiny", days=60, cases_per_day=1500.0, n_communities=90, n_grids=270, hotline_scale=2.4, hard_scale=1.6
    ),
    "demo": WorldConfig(preset="demo", days=90, cases_per_day=1650.0),
    "district": WorldConfig(preset="district", days=365, cases_per_day=1650.0),
    # Benchmarks. city: ~10 M cases = the district's daily volume over 16 years (an archive kept since 2010), so
    # that city vs district isolates the cost of history (issue 9's "history independence"). metro: a bigger city's
    # daily volume (~4x) over four years, for how cost grows with the cases inside the window shown.
    "city": WorldConfig(preset="city", days=16 * 365, cases_per_day=1650.0, chunk_rows=100_000),
    "metro": WorldConfig(preset="metro", days=4 * 365, cases_per_day=6850.0, chunk_rows=100_000),
}


def resolve(preset: str, **overrides) -> WorldConfig:
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[preset].with_overrides(**overrides)
