"""CLI command groups; each module defines ``register(app)`` and :mod:`chainrisk.app.cli` mounts it.

- ``db``        ``chainrisk db build|start|stop|status|init``: the local Neo4j server and the graph schema;
- ``generate``  ``chainrisk generate``: a synthetic dataset folder with known ground truth;
- ``ingest``    ``chainrisk ingest``: validate a dataset folder and load it into Neo4j;
- ``stress``    ``chainrisk stress``: a Monte Carlo stress scenario, optionally written back to Neo4j;
- ``demo``      ``chainrisk demo``: the end-to-end path of :mod:`chainrisk.app.demo`.
- ``users``     ``chainrisk users add|list|remove``: the web page's users.
"""
