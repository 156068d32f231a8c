"""The issue's targets from an evaluation's figures (gnn.targets)."""

import pytest

from gnn.targets import better_gnn


def test_better_gnn_is_the_higher_validation_auc_even_on_a_near_tie():
    # the shipping rule would keep the simpler B3 here (a tie within one SE); the target's
    # "better of B3 and B4" is the one with the higher validation AUC
    models = {"B2": {"validation_auc": 0.80}, "B3": {"validation_auc": 0.7173},
              "B4": {"validation_auc": 0.7174}}
    assert better_gnn(models) == "B4"
    models["B3"]["validation_auc"] = 0.75
    assert better_gnn(models) == "B3"


def test_better_gnn_takes_the_graph_models_that_exist():
    assert better_gnn({"B3": {"validation_auc": 0.6}}) == "B3"
    with pytest.raises(ValueError, match="B3"):
        better_gnn({"B2": {"validation_auc": 0.7}})
