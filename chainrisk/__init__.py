"""chainrisk: a knowledge-graph analyzer of supply-chain and guarantee-chain credit risk.

The top-level package is both the ground and, in its ``app`` subpackage, the roof
of the layers; the components sit in between, beside this package::

    chainrisk.app        the roof: CLI (cli, commands/), HTTP API (api), end-to-end demo (demo)
        │  imports any of
        ▼
    ingest · contagion · gnn · queries      the library components
        │                                   (contagion and gnn never import each other)
        ▼
    graph                the one seam to Neo4j: the only package importing neo4j / graphdatascience
        │
        ▼
    chainrisk            the ground: errors (the error tree), settings (the one Settings object)
                         and ``__version__`` (here); imported by every package, importing none of them

Nothing below ``chainrisk.app`` imports it, and the ground imports no component;
``tests/test_layers.py`` checks these rules on every module's imports.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
