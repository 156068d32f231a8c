"""Synthetic datasets with known ground truth: firms, supply and guarantee networks,
loans, statements, signals and defaults that spread along links.

>>> import tempfile, pathlib
>>> s = generate(pathlib.Path(tempfile.mkdtemp()), firms=200, seed=7, months=24)
>>> s.firms
200

See ``docs/generator.md`` for the model and its calibration.
"""

from ingest.generate.defaults import DEFAULT_CONTAGION_STRENGTH
from ingest.generate.generator import GenerationSummary, generate

__all__ = ["DEFAULT_CONTAGION_STRENGTH", "GenerationSummary", "generate"]
