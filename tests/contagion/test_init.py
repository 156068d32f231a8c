"""The package's public surface."""

import contagion


def test_all_is_sorted_and_resolves() -> None:
    assert contagion.__all__ == sorted(contagion.__all__)
    for name in contagion.__all__:
        assert getattr(contagion, name) is not None
