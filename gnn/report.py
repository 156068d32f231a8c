"""The evaluation as one self-contained HTML page (inline CSS and SVG; it opens anywhere, offline).

``write_report(result, path)`` renders the dict of :func:`gnn.evaluate.evaluate`. The
page's sections, each with an ``id`` a reader (or a test) can link to:

==================  ================================================================
id                  content
==================  ================================================================
``summary``         the dataset's cuts and book, the shipped model, each target met or not
``metrics``         every measure of every model with its bootstrap 95% interval, and the
                    paired comparisons
``roc``             ROC curves (seed 0)
``calibration``     reliability diagram of the 10 equal-mass bins (seed 0)
``tiers``           default rate by risk tier against the tier's PD band (seed 0)
``slices``          AUC and calibration by size class, industry, region, statements
``vintages``        the earlier test vintages (or how to run them)
``oracle``          the ceiling of the generator's hazards and the share of the B1 gap closed
``ablations``       AUC change with edges removed, shuffled, one relation dropped
``explanations``    the GNN explainer's edge-mask AUC on the true contagion links (``--full``)
``model-card``      the shipped model's card, when it has one
``timing``          seconds taken (core protocol, vintages, ablations)
==================  ================================================================
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gnn.plots import ablations_svg, calibration_svg, roc_svg, tiers_svg

__all__ = ["SECTIONS", "render_html", "write_report"]

SECTIONS: tuple[str, ...] = (
    "summary",
    "metrics",
    "roc",
    "calibration",
    "tiers",
    "slices",
    "vintages",
    "oracle",
    "ablations",
    "explanations",
    "model-card",
    "timing",
)

_MEASURES = (
    ("auc", "AUC", 3),
    ("gini", "Gini", 3),
    ("ks", "KS", 3),
    ("pr_auc", "PR-AUC", 3),
    ("recall_top5", "recall, riskiest 5%", 3),
    ("brier", "Brier", 4),
    ("ece", "ECE", 4),
)
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:72em;color:#222;
padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}
th,td{border:1px solid #ddd;padding:.25em .55em;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}.met{color:#1a7f37;font-weight:600}.miss{color:#c62828;font-weight:600}
.small{color:#999}.note{color:#555;font-size:.9em}.plots{display:flex;flex-wrap:wrap;gap:1em}
pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:.85em}
"""


def _num(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, int):
        return f"{v:,}"
    return f"{v:.{digits}f}"


def _ci(ci: Sequence[Any] | None, digits: int = 3) -> str:
    if not ci:
        return "–"
    return f"[{_num(ci[0], digits)}, {_num(ci[1], digits)}]"


def _esc(v: Any) -> str:
    return html.escape(str(v))


def _table(head: Iterable[str], rows: Iterable[Iterable[str]], cls: Sequence[str] | None = None) -> str:
    """A table of already-escaped cells."""
    h = "".join(f"<th>{c}</th>" for c in head)
    body = []
    for i, row in enumerate(rows):
        attr = f' class="{cls[i]}"' if cls and cls[i] else ""
        body.append(f"<tr{attr}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    return f"<table><thead><tr>{h}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _section(sid: str, title: str, body: str) -> str:
    return f'<section id="{sid}"><h2>{_esc(title)}</h2>{body}</section>'


def _summary(r: Mapping[str, Any]) -> str:
    book, cuts = r["book"], r["cuts"]
    lines = [
        f"<p>Test cut <b>{_esc(cuts['test'])}</b>: {book['test']:,} firms of the bank's book, "
        f"{book['test_defaults']:,} defaults in the next 12 months. Validation {_esc(cuts['validation'])}, "
        f"training {_esc(', '.join(cuts['train']))} ({book['train']:,} firm-years). Figures are means over "
        f"{r['seeds']} seed(s); intervals are bootstrap 95% over firms ({r.get('draws', '?')} draws).</p>",
        f"<p>Shipped model: <b>{_esc(r['shipped'])}</b> ({_esc(r['models'][r['shipped']]['description'])}), "
        "the graph-aware model with the lowest validation Brier score.</p>",
    ]
    if r.get("pending"):
        lines.append(
            '<p class="note">Pending: '
            + _esc("; ".join(f"{k} ({v})" for k, v in r["pending"].items()))
            + "</p>"
        )
    rows, cls = [], []
    for t in r.get("targets", []):
        rows.append(
            [
                _esc(t["text"]),
                _esc(t["applies"]),
                _num(t["value"], 4),
                _ci(t["ci95"], 4),
                '<span class="met">met</span>' if t["met"] else '<span class="miss">not met</span>',
            ]
        )
        cls.append("")
    lines.append(_table(["target", "applies to data", "value", "95% interval", ""], rows, cls))
    lines.append(
        '<p class="note">"contagion" targets apply to data where defaults spread along links '
        '(the generator\'s default strength), "no contagion" ones to data without; the evaluation '
        "cannot tell which it was given.</p>"
    )
    return _section("summary", "Summary", "".join(lines))


def _metrics(r: Mapping[str, Any]) -> str:
    head = ["model", *(f"{label}" for _, label, _ in _MEASURES), "validation AUC", "fit s"]
    rows = []
    for name, m in r["models"].items():
        cells = [_esc(name + (" (shipped)" if name == r["shipped"] else ""))]
        for key, _, d in _MEASURES:
            cells.append(f"{_num(m[key], d)}<br><span class='note'>{_ci(m['ci95'][key], d)}</span>")
        cells += [_num(m["validation_auc"]), _num(m.get("fit_seconds"), 1)]
        rows.append(cells)
    body = _table(head, rows)
    comp_rows = []
    for c in r.get("comparisons", {}).values():
        comp_rows.append(
            [
                f"{_esc(c['model'])} − {_esc(c['against'])}",
                f"{100 * c['auc']['value']:+.2f}" if c["auc"]["value"] is not None else "–",
                _ci([None if v is None else 100 * v for v in c["auc"]["ci95"]], 2),
                _num(c.get("pr_auc_relative", {}).get("value"), 3),
                _ci(c.get("pr_auc_relative", {}).get("ci95"), 3),
            ]
        )
    if comp_rows:
        body += "<h3>Paired differences</h3>" + _table(
            ["comparison", "AUC points", "95% interval", "relative PR-AUC", "95% interval"], comp_rows
        )
    return _section("metrics", "Metrics on the test cut", body)


def _slices(r: Mapping[str, Any]) -> str:
    parts = []
    names = list(r["models"])
    for dim, rows in r.get("slices", {}).items():
        head = ["group", "firms", "defaults", "default rate"]
        for n in names:
            head += [f"{_esc(n)} AUC", f"{_esc(n)} mean PD", f"{_esc(n)} ECE"]
        body, cls = [], []
        for row in rows:
            cells = [
                _esc(row["group"]),
                _num(row["firms"]),
                _num(row["defaults"]),
                _num(row["default_rate"], 4),
            ]
            for n in names:
                m = row["models"].get(n, {})
                cells += [_num(m.get("auc")), _num(m.get("mean_pd"), 4), _num(m.get("ece"), 4)]
            body.append(cells)
            cls.append("small" if row["small"] else "")
        parts.append(f"<h3>{_esc(dim.replace('_', ' '))}</h3>" + _table(head, body, cls))
    note = '<p class="note">Grey rows: small slices (too few firms or defaults to act on).</p>'
    return _section("slices", "Slices of the test book", note + "".join(parts))


def _vintages(r: Mapping[str, Any]) -> str:
    vs = r.get("vintages")
    if vs is None:
        return _section("vintages", "Test vintages", '<p class="note">Not run: add --vintages or --full.</p>')
    if not vs:
        return _section("vintages", "Test vintages", "<p>The data allow no earlier test vintage.</p>")
    names = list(r["models"])
    rows = [
        [f"{_esc(r['cuts']['test'])} (main)", _num(r["book"]["test"]), _num(r["book"]["test_defaults"])]
        + [f"{_num(r['models'][n]['auc'])} {_ci(r['models'][n]['auc_ci95'])}" for n in names]
    ]
    for v in vs:
        rows.append(
            [_esc(v["test"]), _num(v["book"]), _num(v["defaults"])]
            + [
                f"{_num(v['models'].get(n, {}).get('auc'))} {_ci(v['models'].get(n, {}).get('auc_ci95'))}"
                for n in names
            ]
        )
    note = '<p class="note">Earlier vintages: seed 0, trained on the cuts before their validation cut.</p>'
    return _section(
        "vintages", "Test vintages (AUC)", note + _table(["test cut", "firms", "defaults", *names], rows)
    )


def _oracle(r: Mapping[str, Any]) -> str:
    o = r.get("oracle")
    if not o:
        return _section(
            "oracle", "Oracle", "<p>The dataset has no generator hazards (_truth/hazards.parquet).</p>"
        )
    rows = [
        [_esc(n), _num(m["auc"]), _num(m.get("gap_closed"), 2), _ci(m.get("gap_closed_ci95"), 2)]
        for n, m in o["models"].items()
    ]
    body = (
        f"<p>Oracle AUC (the generator's monthly hazards over the label window): <b>{_num(o['auc'])}</b> "
        f"{_ci(o['auc_ci95'])} on {o['firms']:,} firms. A ceiling, not a target: the hazards include "
        "the pressure of neighbours that default after the cut.</p>"
        + _table(["model", "AUC", "share of the B1 → oracle gap closed", "95% interval"], rows)
    )
    return _section("oracle", "Oracle", body)


def _ablations(r: Mapping[str, Any]) -> str:
    a = r.get("ablations")
    if not a:
        return _section("ablations", "Ablations", '<p class="note">Not run: add --full.</p>')
    rows = []
    for variant, v in a["variants"].items():
        for name, m in v["models"].items():
            rows.append(
                [
                    _esc(variant),
                    _esc(name),
                    _num(m["auc"]),
                    f"{100 * m['delta_auc']:+.2f}",
                    _ci([100 * x for x in m["delta_auc_ci95"]], 2),
                    _num(v["seconds"], 1),
                ]
            )
    body = (
        f'<p class="note">Seed {a["seed"]}; every cut transformed alike and the models refitted; '
        f"{_num(a['seconds'], 1)} s in all.</p>"
        + _table(["variant", "model", "AUC", "change (points)", "95% interval", "seconds"], rows)
        + ablations_svg(a["variants"])
    )
    return _section("ablations", "Ablations of the graph", body)


_EDGE_SCORERS = (
    ("explainer", "explainer: |attribution| of the link's edges and the edges into the counterparty"),
    ("explainer_signed", "explainer: the same, signed (positive: towards default)"),
    ("explainer_direct", "explainer: |attribution| of the link's own edges only"),
    ("explainer_total", "explainer: |link + counterparty's own features| attribution"),
    ("explainer_total_signed", "explainer: the same, signed"),
    ("baseline", "rule: counterparty in default × exposure"),
)


def _explanations(r: Mapping[str, Any]) -> str:
    e = r.get("edge_attribution")
    if not e:
        return _section(
            "explanations",
            "Explanations: edge attributions",
            '<p class="note">Not run: add --full (needs a GNN and the generator\'s _truth/defaults).</p>',
        )
    rows = [
        [
            _esc(text),
            _num(e[k]["auc"]),
            _num(e[k]["auc_within"]),
            _num(e[k]["n_firms"]),
            _num(e[k]["n_edges"]),
            _num(e[k]["coverage"], 2),
        ]
        for k, text in _EDGE_SCORERS
        if k in e
    ]
    verdict = "met" if e["met"] else "NOT met"
    body = (
        f"<p>{e['firms_explained']:,} of the {e['firms_with_link_defaults']:,} book firms that defaulted "
        f"through a link in the label window, each explained on its own subgraph by {_esc(e['method'])} "
        f"({_esc(e['model'])}, seed {e['seed']}). Pooled AUC of the edge mask: "
        f"<b>{_num(e['explainer']['auc'])}</b>, target {_num(e['target'], 2)}: {verdict}. "
        "Within firm: the mean AUC among each firm's own links. Coverage: the share of firms whose "
        f"true link existed at the cut. {_num(e['seconds'], 1)} s.</p>"
        + _table(["edge scorer", "AUC (pooled)", "AUC (within firm)", "firms", "links", "coverage"], rows)
    )
    return _section("explanations", "Explanations: edge attributions", body)


def _timing(r: Mapping[str, Any]) -> str:
    rows = [["core protocol (fits, intervals)", _num(r.get("core_seconds"), 1)]]
    if "vintages_seconds" in r:
        rows.append(["earlier vintages", _num(r["vintages_seconds"], 1)])
    if r.get("ablations"):
        rows.append(["ablations (--full)", _num(r["ablations"]["seconds"], 1)])
    if r.get("edge_attribution"):
        rows.append(["edge attributions (--full)", _num(r["edge_attribution"]["seconds"], 1)])
    rows.append(["total", _num(r.get("seconds"), 1)])
    return _section("timing", "Time taken (seconds)", _table(["step", "seconds"], rows))


def render_html(result: Mapping[str, Any]) -> str:
    """The report page of one evaluation result."""
    curves = result["curves"]
    card = result.get("model_card")
    card_html = (
        f"<pre>{_esc(card)}</pre>" if card else '<p class="note">The shipped model has no model card.</p>'
    )
    parts = [
        _summary(result),
        _metrics(result),
        _section("roc", "ROC curves (seed 0)", roc_svg(curves["roc"])),
        _section(
            "calibration", "Calibration (seed 0, 10 equal-mass bins)", calibration_svg(curves["calibration"])
        ),
        _section("tiers", "Default rate by risk tier (seed 0)", tiers_svg(curves["tiers"])),
        _slices(result),
        _vintages(result),
        _oracle(result),
        _ablations(result),
        _explanations(result),
        _section("model-card", f"Model card of {result['shipped']}", card_html),
        _timing(result),
    ]
    title = f"chainrisk risk-model evaluation, test cut {result['cuts']['test']}"
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_esc(title)}</title>'
        f"<style>{_CSS}</style></head><body><h1>{_esc(title)}</h1>{''.join(parts)}</body></html>\n"
    )


def write_report(result: Mapping[str, Any], path: str | Path) -> Path:
    """Write :func:`render_html` of ``result`` to ``path`` (parents created); the path written."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(result), encoding="utf-8")
    return out
