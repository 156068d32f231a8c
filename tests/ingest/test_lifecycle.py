import numpy as np
import pandas as pd
import pytest

from ingest.lifecycle import LIFECYCLE_PATTERNS, lifecycle_stage, lifecycle_stages

# Dickinson (2011): signs of operating, investing, financing cash flow -> stage
TABLE = [
    ((-1, -1, 1), "start-up"),
    ((1, -1, 1), "growth"),
    ((1, -1, -1), "mature"),
    ((-1, -1, -1), "shake-out"),
    ((1, 1, 1), "shake-out"),
    ((1, 1, -1), "shake-out"),
    ((-1, 1, 1), "decline"),
    ((-1, 1, -1), "decline"),
]


@pytest.mark.parametrize(("flows", "stage"), TABLE)
def test_mapping(flows, stage):
    assert lifecycle_stage(*flows) == stage


def test_all_eight_patterns_covered():
    assert len(LIFECYCLE_PATTERNS) == 8


def test_zero_counts_as_positive_and_missing_is_unknown():
    assert lifecycle_stage(5, -1, 0) == "growth"
    assert lifecycle_stage(5, None, 1) == "unknown"
    assert lifecycle_stage(float("nan"), 1, 1) == "unknown"


def test_vectorised_matches_scalar():
    flows = np.array([f for f, _ in TABLE] + [(1, np.nan, 1)], dtype=float)
    got = lifecycle_stages(pd.Series(flows[:, 0]), pd.Series(flows[:, 1]), pd.Series(flows[:, 2]))
    assert got.tolist() == [s for _, s in TABLE] + ["unknown"]
