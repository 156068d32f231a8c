"""Write a stress result to disk: Parquet tables, a JSON summary and a self-contained HTML report.

``write_outputs(result, out_dir)`` writes

- ``firms.parquet``, ``loss_distribution.parquet`` (one row per run), ``segments.parquet``,
  ``measures.parquet`` and ``paths.parquet``;
- ``summary.json``: scenario and snapshot hashes, seed, runs, code version, the
  headline figures with standard errors, and the warnings;
- ``report.html``: the figures and three plots (loss histogram with VaR / ES
  lines, loss by segment, the main contagion subgraph) as inline base64 PNG, so
  the file opens anywhere with no network; the Euler contributions, the
  concentration against large-exposure limits and, when the caller added them to
  ``result.details``, the sweep (``sweep``: table and tornado chart) and the reverse
  stress test (``reverse_stress``);
- with a sweep, ``sweep.parquet`` and ``tornado.png``.
"""

from __future__ import annotations

import base64
import html
import io
import json
import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from contagion.stress.result import StressResult

__all__ = ["render_html", "write_outputs"]

_LAYER_COLOURS = {"supply": "#1f77b4", "guarantee": "#d62728", "trade_credit": "#2ca02c"}


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    with warnings.catch_warnings():  # CJK names without a CJK font draw as boxes; not worth a warning
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _histogram(result: StressResult) -> str:
    fig = Figure(figsize=(7, 3.6))
    ax = fig.add_subplot()
    loss = result.loss_distribution["loss"].to_numpy()
    weight = result.loss_distribution["weight"].to_numpy() if "weight" in result.loss_distribution else None
    ax.hist(loss, bins=min(60, max(10, len(loss) // 20)), weights=weight, color="#888888")
    styles = {"VaR": "--", "ES": ":"}
    for name, level, colour in (("VaR", 0.95, "#ff7f0e"), ("ES", 0.95, "#ff7f0e"),
                                ("VaR", 0.99, "#d62728"), ("ES", 0.99, "#d62728"),
                                ("VaR", 0.999, "#9467bd"), ("ES", 0.999, "#9467bd")):
        v = result.measure(name, level)
        ax.axvline(v, color=colour, linestyle=styles[name], label=f"{name} {level:.0%} = {v:,.4g}")
    ax.set_xlabel("bank loss per run")
    ax.set_ylabel("runs (weighted)" if weight is not None else "runs")
    ax.legend(fontsize=8)
    return _png(fig)


def _segments(result: StressResult) -> str:
    seg = result.segments
    fig = Figure(figsize=(7, 5))
    order = ("layer", "region", "industry", "guarantee_circle", "lender")
    kinds = [k for k in order if (seg.segment_type == k).any()]
    axes = fig.subplots(len(kinds), 1, squeeze=False)[:, 0]
    for ax, kind in zip(axes, kinds, strict=True):
        part = seg[seg.segment_type == kind].head(8)
        ax.barh(part["segment"].astype(str)[::-1], part["mean_loss"].to_numpy()[::-1], color="#4c72b0")
        ax.set_title(f"mean loss by {kind.replace('_', ' ')}", fontsize=9)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    return _png(fig)


def _paths(result: StressResult, top: int = 40) -> str:
    fig = Figure(figsize=(7, 5))
    ax = fig.add_subplot()
    ax.set_axis_off()
    paths = result.paths.head(top)
    if paths.empty:
        ax.text(0.5, 0.5, "no contagion flow", ha="center", va="center")
        return _png(fig)
    g = nx.MultiDiGraph()
    for src, dst, layer, flow in zip(paths["source"], paths["target"], paths["layer"], paths["stress_flow"],
                                     strict=True):
        g.add_edge(str(src), str(dst), layer=str(layer), flow=float(flow))
    pos = nx.spring_layout(g, seed=0)
    distress = dict(zip(result.firms["uscc"].astype(str), result.firms["stress_mean_distress"], strict=True))
    nodes = list(g.nodes)
    nx.draw_networkx_nodes(g, pos, ax=ax, nodelist=nodes, node_size=120,
                           node_color=[distress.get(u, 0.0) for u in nodes], cmap="Reds", vmin=0, vmax=1)
    flows = np.array([d["flow"] for _, _, d in g.edges(data=True)])
    widths = 0.5 + 4.0 * flows / flows.max()
    colours = [_LAYER_COLOURS.get(d["layer"], "#555555") for _, _, d in g.edges(data=True)]
    nx.draw_networkx_edges(g, pos, ax=ax, width=list(widths), edge_color=colours, arrows=True, arrowsize=8,
                           node_size=120)
    labels = {u: u[-6:] for u in nodes}
    nx.draw_networkx_labels(g, pos, labels=labels, ax=ax, font_size=6)
    ax.set_title("main contagion paths (width = mean flow; node colour = mean distress)", fontsize=8)
    return _png(fig)


def _table(frame: pd.DataFrame, digits: int = 4) -> str:
    return frame.to_html(index=False, float_format=lambda x: f"{x:,.{digits}g}", border=0, na_rep="")


def _show(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_show(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(", ".join(f"{k}={_show(v)}" for k, v in x.items()) if isinstance(x, dict) else str(x)
                         for x in value)
    return "" if value is None else str(value)


def _records(rows: object) -> str:
    return _table(pd.DataFrame(rows)) if isinstance(rows, list) and rows else "<p>none</p>"


def _kv(part: dict[str, object], skip: tuple[str, ...]) -> str:
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(_show(v))}</td></tr>"
                   for k, v in part.items() if k not in skip)
    return f"<table>{rows}</table>"


def _concentration(part: object) -> str:
    if not isinstance(part, dict):
        return ""
    top = [{k: v for k, v in r.items() if k != "firms"} for r in part.get("top_groups", [])]
    return ("<h2>Concentration and large exposures</h2>" + _kv(part, ("top_names", "top_groups"))
            + "<h3>Largest single names</h3>" + _records(part.get("top_names"))
            + "<h3>Largest connected-client groups</h3>" + _records(top))


def _sweep(part: object) -> str:
    if not isinstance(part, dict):
        return ""
    from contagion.stress.sweep import tornado_png

    frame = pd.DataFrame(part.get("tornado", []))
    img = base64.b64encode(tornado_png(frame, str(part.get("measure")))).decode("ascii") if len(frame) else ""
    return (f"<h2>Sensitivity sweep ({html.escape(str(part.get('measure')))})</h2>"
            + (f'<img alt="tornado chart" src="data:image/png;base64,{img}">' if img else "")
            + _records(part.get("tornado")) + _records(part.get("table")))


def _reverse(part: object) -> str:
    if not isinstance(part, dict):
        return ""
    factors = part.get("factors") or {}
    glob = factors.get("global") if isinstance(factors, dict) else None
    return ("<h2>Reverse stress test</h2>" + _kv(part, ("factors", "firms"))
            + (f"<p>global factor: mean {_show(glob['mean'])} beyond the threshold "
               f"(baseline {_show(glob['baseline'])})</p>" if isinstance(glob, dict) else "")
            + "<h3>Sector factors (most adverse first)</h3>" + _records(factors.get("sector"))
            + "<h3>Region factors (most adverse first)</h3>" + _records(factors.get("region"))
            + "<h3>Firms driving the runs beyond the threshold</h3>" + _records(part.get("firms")))


def render_html(result: StressResult) -> str:
    """The self-contained HTML report (plots inline as PNG)."""
    with warnings.catch_warnings():  # CJK names without a CJK font draw as boxes; not worth a warning
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        return _render_html(result)


def _render_html(result: StressResult) -> str:
    """The self-contained HTML report (inline PNG images, no external resources)."""
    s = result.summary()
    esc = html.escape
    warn = "".join(f"<li>{esc(w)}</li>" for w in result.warnings)
    legend = ", ".join(f'<span style="color:{c}">{esc(k)}</span>' for k, c in _LAYER_COLOURS.items())
    meta = [("scenario", s["scenario"]), ("scenario hash", s["scenario_hash"]),
            ("snapshot hash", s["snapshot_hash"]), ("as of", s["as_of"]), ("runs", s["runs"]),
            ("seed", s["seed"]), ("bank lenders", ", ".join(s["bank_lenders"]) or "all lenders"),
            ("chainrisk", s["code_version"])]
    meta_rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(str(v))}</td></tr>" for k, v in meta)
    sections = ""
    for key, title in (("pd_source", "Probabilities of default"), ("copula", "Copula and asset correlation"),
                       ("default_stock", "Default stock (in default at the snapshot date; not stress loss)"),
                       ("sampling", "Sampling (importance sampling of the global factor)"),
                       ("contagion", "Contagion: share of EL, amplification, calm-year baseline "
                                     "(EL = the PDs' expectation + calm contagion + the scenario's)")):
        part = s.get(key)
        if isinstance(part, dict):
            rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(_show(v))}</td></tr>" for k, v in part.items())
            sections += f"<h2>{esc(title)}</h2><table>{rows}</table>"
    extra = (_concentration(s.get("concentration")) + _sweep(s.get("sweep"))
             + _reverse(s.get("reverse_stress")))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>chainrisk stress test: {esc(result.scenario.name)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 60em; }}
table {{ border-collapse: collapse; font-size: 0.85em; }} th, td {{ padding: 2px 8px; text-align: left; }}
.warn {{ color: #a00; }} img {{ max-width: 100%; }}
</style></head><body>
<h1>Stress test: {esc(result.scenario.name)}</h1>
<p>{esc(result.scenario.description)}</p>
<table>{meta_rows}</table>
{f'<h2 class="warn">Warnings</h2><ul class="warn">{warn}</ul>' if warn else ''}
{sections}
<h2>Loss distribution</h2>
<p>Expected loss, value at risk and expected shortfall with Monte Carlo standard errors;
<code>value_no_contagion</code> counts only the initial defaults (copula and scenario).</p>
{_table(result.measures)}
<img alt="loss histogram" src="data:image/png;base64,{_histogram(result)}">
<h2>Where the loss sits</h2>
<img alt="loss by segment" src="data:image/png;base64,{_segments(result)}">
{_table(result.segments.head(40))}
<h2>Main contagion paths</h2>
<p>Layers: {legend}. Flow of a link j &rarr; i is the mean over runs of
&tau;<sub>l</sub> W<sub>l</sub>[i, j] h<sub>j</sub>.</p>
<img alt="contagion subgraph" src="data:image/png;base64,{_paths(result)}">
{_table(result.paths.head(20)[["source", "target", "layer", "stress_flow"]])}
<h2>Euler contributions to ES 99%</h2>
<p>Each firm's mean loss over the tail runs (weighted); the column sums to ES 99%.</p>
{_table(result.firms.sort_values("es_contribution", ascending=False).head(20)[
    ["uscc", "name", "region", "industry", "client_group", "bank_ead", "pd", "es_contribution"]])}
{extra}
<h2>Most affected firms</h2>
{_table(result.firms.sort_values("stress_mean_loss", ascending=False).head(20)[
    ["uscc", "name", "region", "industry", "pd", "stress_default_prob", "stress_vulnerability",
     "stress_mean_loss"]])}
</body></html>
"""


def write_outputs(result: StressResult, out_dir: str | Path) -> dict[str, Path]:
    """Write the tables, ``summary.json`` and ``report.html`` under ``out_dir``; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name in ("firms", "loss_distribution", "segments", "measures", "paths"):
        frame: pd.DataFrame = getattr(result, name)
        p = out / f"{name}.parquet"
        frame.to_parquet(p, index=False)
        paths[name] = p
    sweep = result.details.get("sweep")
    if isinstance(sweep, dict):
        from contagion.stress.sweep import tornado_png

        p = out / "sweep.parquet"
        pd.DataFrame(sweep.get("table", [])).to_parquet(p, index=False)
        paths["sweep"] = p
        p = out / "tornado.png"
        p.write_bytes(tornado_png(pd.DataFrame(sweep.get("tornado", [])), str(sweep.get("measure"))))
        paths["tornado"] = p
    p = out / "summary.json"
    p.write_text(json.dumps(result.summary(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths["summary"] = p
    p = out / "report.html"
    p.write_text(render_html(result), encoding="utf-8")
    paths["report"] = p
    return paths
