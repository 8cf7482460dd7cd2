"""The flags judged against planted truth on two tiny seeded worlds (issue 7; ~1 minute on SQLite).

Seeds 201 and 202 were used neither for tuning (seed 1) nor for the reported figures (seeds 101–103). Only the
targets the method meets honestly on tiny worlds are asserted; the unmet ones (street-level recall of hard-case
withholding, the G3 rank) are reported in docs/flags.md with the reason.
"""
from __future__ import annotations

import pytest

seed_pkg = pytest.importorskip("seed")
from seed import evaluate  # noqa: E402


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return evaluate.run_worlds([201, 202], preset="tiny", workdir=str(tmp_path_factory.mktemp("worlds")))


def test_area_flags_are_mostly_right(results):
    # The target is FDR ≤ 10 % in every world; on tiny worlds it is met in some worlds only (docs/flags.md),
    # so this guards against regressions at the pooled level.
    summary = evaluate.summarise(results)
    flagged = summary["flags_street"] + summary["flags_community"]
    true = sum(r["precision"][t]["true_flags"] for r in results for t in ("street", "community"))
    assert flagged > 0 and true / flagged >= 0.8


def test_clean_up_campaigns_are_not_flagged(results):
    summary = evaluate.summarise(results)
    c1 = summary.get("confounders_flagged", {}).get("C1", {"units": 0, "flagged": 0})
    assert c1["flagged"] <= 0.05 * max(c1["units"], 1) + 1e-9


def test_fake_verifiers_and_reward_farmers_are_found_precisely(results):
    summary = evaluate.summarise(results)
    assert summary["precision_verifier"] is not None and summary["precision_verifier"] >= 0.9
    assert summary["precision_app_reporter"] is not None and summary["precision_app_reporter"] >= 0.9
    assert summary["recall_by_behaviour"]["G6"]["recall"] >= 0.9
    assert summary["recall_by_behaviour"]["G7"]["recall"] >= 0.5       # target is precision; recall ~0.67


def test_evaluation_output_is_complete(results):
    summary = evaluate.summarise(results)
    for key in ("recall_by_behaviour", "g3_ranks", "matching", "false_flags_per_cycle"):
        assert key in summary
    text = evaluate.format_table(summary)
    assert "precision street" in text and "G3" in text
