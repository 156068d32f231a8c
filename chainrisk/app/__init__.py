"""The application layer of chainrisk: the edges where people and programs call in.

- :mod:`chainrisk.app.cli`       the ``chainrisk`` command line (typer); mounts the commands;
- :mod:`chainrisk.app.commands`  one module per command group (db, generate, ingest, stress, demo);
- :mod:`chainrisk.app.api`       the HTTP API (FastAPI app factory ``create_app``);
- :mod:`chainrisk.app.demo`      the end-to-end demo: generate, ingest, GDS, ESRI, stress test, write-back.

This layer may import every component (``graph``, ``ingest``, ``contagion``, ``gnn``,
``queries``) and the ground (:mod:`chainrisk.errors`, :mod:`chainrisk.settings`,
``chainrisk.__version__``); none of those may import it. Domain errors become exit
codes and HTTP statuses here, and nowhere else.
"""
