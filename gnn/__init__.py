"""Default-risk models of each firm, judged out of time (issue in progress: baselines and protocol first).

- :mod:`gnn.labels`          the label (a first default within 12 months of a cut) and the bank's book
- :mod:`gnn.features`        a firm's own features as of a snapshot date (statements, signals, loans, events)
- :mod:`gnn.graph_features`  chain features from the dated snapshot's networks (scipy), never the live graph
- :mod:`gnn.protocol`        yearly out-of-time cuts of a dataset: training, validation, test
- :mod:`gnn.baselines`       B0 logistic scorecard, B1/B2 LightGBM trees, Platt calibration, the PD floor
- :mod:`gnn.metrics`         AUC, PR-AUC, KS, Brier, ECE, recall in the riskiest 5%
- :mod:`gnn.evaluate`        the protocol end to end (``chainrisk evaluate``)
- :mod:`gnn.bootstrap`       bootstrap intervals of every measure, vectorised over the draws
- :mod:`gnn.targets`         paired model comparisons and the issue's targets
- :mod:`gnn.slices`          AUC and calibration by size class, industry, region, statements
- :mod:`gnn.vintages`        earlier test vintages of the same protocol
- :mod:`gnn.oracle`          the generator's hazards as a ceiling (the evaluation's one read of ``_truth/``)
- :mod:`gnn.ablations`       graph ablations: edges removed, degree-preserving shuffle, one relation dropped
- :mod:`gnn.curves`          ROC, calibration and tier data of the report's plots
- :mod:`gnn.plots`           those plots as inline SVG
- :mod:`gnn.report`          the self-contained HTML report

Not built yet: the PyTorch Geometric model (B3), trees with its embeddings (B4), reasons,
training and scoring commands, monitoring and write-back.
"""
