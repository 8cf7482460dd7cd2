"""The flags judged against planted truth on two tiny seeded worlds (issue 7; two world builds and two flag runs,
side by side on two cores: ~30 s on SQLite, more under load; shared by every test of this module).

Seeds 201 and 202 are a regression guard: they were used neither for tuning (seeds 1–3) nor for the reported figures
(seeds 301–303, docs/flags.md). Only targets the method meets with a margin on tiny worlds are asserted; the unmet
ones (strong-gaming recall, the G3 rank in every world) are reported in docs/flags.md with the reason.
"""

from __future__ import annotations

from functools import partial

import pytest

from seed import evaluate
from tests.builders import in_processes


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    # The two worlds of run_worlds([201, 202]), built and judged side by side (one process each): same figures.
    workdir = str(tmp_path_factory.mktemp("worlds"))
    per_seed = in_processes([partial(evaluate.run_worlds, [s], preset="tiny", workdir=workdir) for s in (201, 202)])
    return [result for world in per_seed for result in world]


@pytest.fixture(scope="module")
def summary(results):
    return evaluate.summarise(results)


def test_area_flags_are_mostly_right(results, summary):
    flagged = summary["flags_street"] + summary["flags_community"]
    true = sum(r["precision"][t]["true_flags"] for r in results for t in ("street", "community"))
    assert flagged > 0 and true / flagged >= 0.9
    # docs/domain.md §6: realised FDR ≤ 10 % in every world; a margin of one false flag per world for chance.
    assert all(r["false_flags_per_cycle"] <= 1 for r in results)


def test_clean_up_campaigns_are_not_flagged(summary):
    c1 = summary.get("confounders_flagged", {}).get("C1", {"units": 0, "flagged": 0})
    assert c1["flagged"] <= 0.05 * max(c1["units"], 1) + 1e-9


def test_fake_verifiers_and_reward_farmers_are_found_precisely(summary):
    assert summary["precision_verifier"] is not None and summary["precision_verifier"] >= 0.9
    assert summary["precision_app_reporter"] is not None and summary["precision_app_reporter"] >= 0.9
    assert summary["recall_by_behaviour"]["G6"]["recall"] >= 0.9
    # Farmers re-report their own spot ≥ 97 % of the time, honest app users ~never: recall 1.0 on seeds 1–3 and
    # 301–303. (It fell to 0.25 when the typical value was an inverse-variance weighted median: see docs/flags.md.)
    assert summary["recall_by_behaviour"]["G7"]["recall"] >= 0.8


def test_matching_rule_is_tight(summary):
    for world in summary["matching"]:
        assert world["complex"]["recall"] >= 0.9  # known-same pairs (merged duplicates) still found
        assert world["complex"]["chance"] <= 0.03  # the whole-grid rule matched ~20 % by chance


def test_evaluation_output_is_complete(summary):
    for key in ("recall_by_behaviour", "g3_ranks", "g3_ranks_a1", "matching", "false_flags_per_cycle"):
        assert key in summary
    text = evaluate.format_table(summary)
    assert "precision street" in text and "G3" in text
