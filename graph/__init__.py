"""The seam between chainrisk and Neo4j: the only package that imports the driver.

- :mod:`graph.protocol`  :class:`~graph.protocol.QueryRunner`, what the rest of chainrisk may ask of the
                         database, and :class:`~graph.protocol.WriteCounters`
- :mod:`graph.runner`    :class:`~graph.runner.GraphRunner`, the driver-backed runner; driver errors are
                         translated into :mod:`chainrisk.errors` here, once
- :mod:`graph.schema`    the vocabulary (labels, types), constraints, indexes and the chainrisk marker
- :mod:`graph.runs`      runs, per-run results and their atomic publication
- :mod:`graph.gds`       Graph Data Science algorithms through Cypher, on projections as of a date
- :mod:`graph.server`    the local Neo4j server: build, start, stop, status

``graph`` imports no other component (``tests/test_layers.py`` checks it).
"""
