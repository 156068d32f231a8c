"""The query library: named, parameterised Cypher for credit officers and analysts.

- ``queries.catalogue``: one :class:`~queries.catalogue.NamedQuery` per question (text, typed
  parameters, columns, timeout, row cap), :func:`~queries.catalogue.run_query`, the as-of rule;
- ``queries.exposure``: a firm's chain exposure (:func:`~queries.exposure.chain_exposure`).

Every function takes a :class:`graph.protocol.QueryRunner` and returns pandas frames or small
dataclasses holding them.
"""

from queries.catalogue import CATALOGUE, NamedQuery, Param, latest_as_of, run_query
from queries.exposure import Chain, ChainExposure, chain, chain_exposure

__all__ = [
    "CATALOGUE",
    "Chain",
    "ChainExposure",
    "NamedQuery",
    "Param",
    "chain",
    "chain_exposure",
    "latest_as_of",
    "run_query",
]
