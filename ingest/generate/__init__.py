"""Synthetic datasets with known ground truth: firms, supply and guarantee networks,
loans, statements, signals and defaults that spread along links.

Modules:

- ``generator``: :func:`generate`, the whole run as a sequence of steps (model, then
  tables, then ground truth and :class:`GenerationSummary`).
- ``firms``: firm attributes (tier, industry, city, size, age, assets, fitness) and USCCs.
- ``ownership``: owners of each firm (controlling persons, family groups, parent firms).
- ``health``: the latent health index and lifecycle stage.
- ``loans``: loan chains per borrower and their monthly status rows.
- ``guarantees``: the guarantee network (mutual pairs, circles, chains, hubs, persons) tied to loans.
- ``network``: supply-link sampling by preferential attachment within tier, city and province cells.
- ``default_simulation``: the monthly simulation of link turnover and of defaults
  spreading along supply and guarantee links (not the default *definition*, which is
  ``ingest.defaults``).
- ``financials``: quarterly statements, monthly signals, receivables and events.
- ``timeline``: month and day-offset arithmetic (:class:`~ingest.generate.timeline.Calendar`).
- ``writer``: tables and ``dataset.yaml`` in CSV, Parquet or JSON Lines.
- ``stats``: the network statistics the generator is calibrated against.

>>> import tempfile, pathlib
>>> s = generate(pathlib.Path(tempfile.mkdtemp()), firms=200, seed=7, months=24)
>>> s.firms
200

See ``docs/generator.md`` for the model and its calibration.
"""

from ingest.generate.default_simulation import DEFAULT_CONTAGION_STRENGTH
from ingest.generate.generator import GenerationSummary, generate

__all__ = ["DEFAULT_CONTAGION_STRENGTH", "GenerationSummary", "generate"]
