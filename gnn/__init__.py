"""Default-risk models of each firm, judged out of time (issue in progress: baselines and protocol first).

- :mod:`gnn.labels`          the label (a first default within 12 months of a cut) and the bank's book
- :mod:`gnn.features`        a firm's own features as of a snapshot date (statements, signals, loans, events)
- :mod:`gnn.graph_features`  chain features from the dated snapshot's networks (scipy), never the live graph
- :mod:`gnn.protocol`        yearly out-of-time cuts of a dataset: training, validation, test
- :mod:`gnn.baselines`       B0 logistic scorecard, B1/B2 LightGBM trees, Platt calibration, the PD floor
- :mod:`gnn.metrics`         AUC, PR-AUC, KS, Brier, ECE, recall in the riskiest 5%
- :mod:`gnn.evaluate`        the protocol end to end (``chainrisk evaluate``)
- :mod:`gnn.contributions`   per-firm feature contributions on the log-odds scale (TreeSHAP, linear)
- :mod:`gnn.counterparties`  a firm's links by relation, with amounts and exposures (vectorised)
- :mod:`gnn.reason_texts`    plain-language phrases of features and counterparty links
- :mod:`gnn.reasons`         at least k reason codes for every scored firm
- :mod:`gnn.explain`         one firm's full explanation: contributions, chain, risk paths
- :mod:`gnn.edge_attribution`  do edge scores find the true contagion links? (generated data)

Not built yet: the PyTorch Geometric model (B3), trees with its embeddings (B4),
training and scoring commands, monitoring and write-back.
"""
