"""The query library: named, parameterised Cypher for credit officers and analysts.

- ``queries.catalogue``: one :class:`~queries.catalogue.NamedQuery` per question (text, typed
  parameters, columns, timeout, row cap), :func:`~queries.catalogue.run_query`, the as-of rule;
- ``queries.exposure``: a firm's chain exposure (:func:`~queries.exposure.chain_exposure`);
- ``queries.circles``: guarantee groups and circles (:func:`~queries.circles.guarantee_circles`);
- ``queries.adhoc``: analysts' Cypher, read-only in layers (:func:`~queries.adhoc.run_cypher`).

Every function takes a :class:`graph.protocol.QueryRunner` and returns pandas frames or small
dataclasses holding them.
"""

from queries.adhoc import run_cypher
from queries.catalogue import CATALOGUE, NamedQuery, Param, latest_as_of, run_query
from queries.circles import GuaranteeNetwork, analyse_guarantees, guarantee_circles
from queries.exposure import Chain, ChainExposure, chain, chain_exposure

__all__ = [
    "CATALOGUE",
    "Chain",
    "ChainExposure",
    "GuaranteeNetwork",
    "NamedQuery",
    "Param",
    "analyse_guarantees",
    "chain",
    "chain_exposure",
    "guarantee_circles",
    "latest_as_of",
    "run_cypher",
    "run_query",
]
