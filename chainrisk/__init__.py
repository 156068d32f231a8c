"""chainrisk: a knowledge-graph analyzer of supply-chain and guarantee-chain credit risk.

The component packages (``graph``, ``ingest``, ``contagion``, ``gnn``, ``queries``)
sit beside this one; ``chainrisk`` holds the settings, the error tree, the CLI and
the API app.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
