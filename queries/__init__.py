"""The query library: named, parameterised Cypher for credit officers and analysts.

- ``queries.catalogue``: one :class:`~queries.catalogue.NamedQuery` per question (text, typed
  parameters, columns, timeout, row cap), :func:`~queries.catalogue.run_query`, the as-of rule;
- ``queries.exposure``: a firm's chain exposure (:func:`~queries.exposure.chain_exposure`);
- ``queries.circles``: guarantee groups and circles (:func:`~queries.circles.guarantee_circles`);
- ``queries.adhoc``: analysts' Cypher, read-only in layers (:func:`~queries.adhoc.run_cypher`);
- ``queries.paths``: the shortest supply and guarantee paths between two firms
  (:func:`~queries.paths.paths_between`);
- ``queries.connected``: connected clients and large exposures
  (:func:`~queries.connected.connected_clients`);
- ``queries.concentration``: the book by region, industry, lender, lifecycle stage, chain position
  and name, with HHI (:func:`~queries.concentration.concentration`);
- ``queries.systemic``: the most systemic firms (:func:`~queries.systemic.top_systemic`);
- ``queries.warning``: activity falling while borrowing grows (:func:`~queries.warning.early_warning`);
- ``queries.prospects``: platform firms near good borrowers (:func:`~queries.prospects.prospects`);
- ``queries.details``: per-firm details and stale flags every answer carries;
- ``queries.chaincache``, ``queries.networks``, ``queries.sections``, ``queries.bfs``: chain walks in the
  process (the networks as arrays, the walk's compiled kernel, a chain's lists in page order, the cache).

Every function takes a :class:`graph.protocol.QueryRunner` and returns pandas frames or small
dataclasses holding them.
"""

from queries.adhoc import run_cypher
from queries.catalogue import CATALOGUE, NamedQuery, Param, latest_as_of, run_query
from queries.circles import GuaranteeNetwork, analyse_guarantees, gds_components, guarantee_circles
from queries.concentration import Concentration, concentration
from queries.connected import ConnectedClients, connected_clients
from queries.exposure import Chain, ChainExposure, chain, chain_exposure
from queries.paths import paths_between
from queries.prospects import prospects
from queries.systemic import top_systemic
from queries.warning import early_warning

__all__ = [
    "CATALOGUE",
    "Chain",
    "ChainExposure",
    "Concentration",
    "ConnectedClients",
    "GuaranteeNetwork",
    "NamedQuery",
    "Param",
    "analyse_guarantees",
    "chain",
    "chain_exposure",
    "concentration",
    "connected_clients",
    "early_warning",
    "gds_components",
    "guarantee_circles",
    "latest_as_of",
    "paths_between",
    "prospects",
    "run_cypher",
    "run_query",
    "top_systemic",
]
