"""Default-risk models of each firm, judged out of time.

- :mod:`gnn.labels`          the label (a first default within 12 months of a cut) and the bank's book
- :mod:`gnn.features`        a firm's own features as of a snapshot date (statements, signals, loans, events)
- :mod:`gnn.graph_features`  chain features from the dated snapshot's networks (scipy), never the live graph
- :mod:`gnn.protocol`        yearly out-of-time cuts of a dataset: training, validation, test
- :mod:`gnn.baselines`       B0 logistic scorecard, B1/B2 LightGBM trees, Platt calibration, the PD floor
- :mod:`gnn.metrics`         AUC, PR-AUC, KS, Brier, ECE, recall in the riskiest 5%
- :mod:`gnn.evaluate`        the protocol end to end (``chainrisk evaluate``)
- :mod:`gnn.hetero_data`     the dated snapshot as PyG ``HeteroData``: typed directed relations, weights
- :mod:`gnn.hetero_model`    B3, the heterogeneous GNN, trained full-batch, early-stopped, calibrated
- :mod:`gnn.stacking`        B4, the chain-feature trees plus the GNN's out-of-fold risk read-outs
- :mod:`gnn.candidates`      the registry of candidate models B0-B4, and the shipped model's choice
- :mod:`gnn.selection`       nested models compared on the validation firms: paired SEs, ties to the simpler
- :mod:`gnn.tiers`           risk tiers and the suggested five-category class
- :mod:`gnn.training`        train on what was known by a date, ship the best graph-aware candidate
- :mod:`gnn.model_store`     a trained model on disk: payload (checksummed), feature schema, calibration, card
- :mod:`gnn.scoring`         PDs, tiers and suggested classes of book and prospects; the ``risk`` run
- :mod:`gnn.backtest`        scored PDs against realised defaults: binomial test and traffic light per tier
- :mod:`gnn.stability`       population stability index of scores and features
- :mod:`gnn.watchlist`       firms whose tier worsened between two scorings, with their new reasons
- :mod:`gnn.scorings`        scorings (score files, the graph's risk runs) and data histories to monitor
- :mod:`gnn.monitor`         back-test, stability, watchlist and one verdict (``chainrisk monitor``)
- :mod:`gnn.contributions`   per-firm feature contributions on the log-odds scale (TreeSHAP, linear)
- :mod:`gnn.counterparties`  a firm's links by relation, with amounts and exposures (vectorised)
- :mod:`gnn.reason_texts`    plain-language phrases of features and counterparty links
- :mod:`gnn.reasons`         at least k reason codes for every scored firm
- :mod:`gnn.explain`         one firm's full explanation: contributions, chain, risk paths
- :mod:`gnn.subgraph_attribution`  the GNN's link and feature attributions on a firm's k-hop subgraph
  (PyG CaptumExplainer, Integrated Gradients)
- :mod:`gnn.edge_attribution`  do edge scores find the true contagion links? (generated data)
- :mod:`gnn.bootstrap`       bootstrap intervals of every measure, vectorised over the draws
- :mod:`gnn.targets`         paired model comparisons and the issue's targets
- :mod:`gnn.slices`          AUC and calibration by size class, industry, region, statements
- :mod:`gnn.vintages`        earlier test vintages of the same protocol
- :mod:`gnn.oracle`          the generator's hazards as a ceiling (the evaluation's one read of ``_truth/``)
- :mod:`gnn.ablations`       graph ablations: edges removed, degree-preserving shuffle, one relation dropped
- :mod:`gnn.curves`          ROC, calibration and tier data of the report's plots
- :mod:`gnn.plots`           those plots as inline SVG
- :mod:`gnn.report`          the self-contained HTML report

"""

import os

# The risk models' CPU kernels (torch's full-batch steps, LightGBM) run on OpenMP, whose idle workers
# spin-wait between kernels by default. On a 2-core machine shared with other work that spinning
# doubled the CPU time of a 100k-firm training step (two threads burnt twice the CPU of one for the
# same step); sleeping workers cost a wake-up per kernel, nothing against kernels of this size.
# OpenMP reads the policy when it loads, so it is set here, before torch or LightGBM is imported;
# a value already in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
