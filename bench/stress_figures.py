"""The figures issue 15 quotes for the stress engine, re-measured.

Usage::

    .venv/bin/python bench/stress_figures.py            # 2,000 firms, 4,000 copula draws
    .venv/bin/python bench/stress_figures.py --runs 10000

Prints:

1. the 99 % quantile of the default rate of 2,000 firms at PD 1 % under the one-factor
   model at rho = 0.25 (simulated and Vasicek's closed form), under the default loadings
   (global, sector and province factors of a generated 2,000-firm platform) and under the
   loadings of the earlier engine (sector 0.15, county 0.10, no global factor);
2. the asset correlation implied by that platform's yearly default rates;
3. on the sample dataset (``data/sample``), the share of expected loss the default stock
   would be if it were booked as new loss, and the stock itself.

Never asserts; figures depend on the seed only.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# this folder holds bench/contagion.py, which would shadow the contagion package
sys.path[:] = [str(ROOT)] + [x for x in sys.path if Path(x or ".").resolve() != ROOT / "bench"]

import numpy as np  # noqa: E402

from contagion.stress import parse_scenario, run_stress  # noqa: E402
from contagion.stress.asset_correlation import implied_asset_correlation, yearly_default_rates  # noqa: E402
from contagion.stress.copula import copula_model, draw_defaults, vasicek_quantile  # noqa: E402
from contagion.stress.tail_stats import StressPrecisionWarning  # noqa: E402
from ingest import build_snapshot  # noqa: E402
from ingest.generate import generate  # noqa: E402


def _q99(model_kw: dict[str, object], sectors: list[str], regions: list[str], runs: int, seed: int) -> float:
    n = len(sectors)
    m = copula_model(np.full(n, 0.01), sectors, regions, **model_kw)  # type: ignore[arg-type]
    rate = np.concatenate([draw_defaults(m, range(a, min(a + 500, runs)), seed).mean(axis=0)
                           for a in range(0, runs, 500)])
    return float(np.quantile(rate, 0.99))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--firms", type=int, default=2000)
    p.add_argument("--runs", type=int, default=4000)
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp) / "platform", firms=a.firms, seed=a.seed)
        snap = build_snapshot(Path(tmp) / "platform")
    firms = snap.firms[~snap.firms["external"].fillna(False).astype(bool)].head(a.firms)
    n = len(firms)
    sectors = firms["sector"].astype(str).tolist()
    counties = firms["region"].astype(str).tolist()
    provinces = [r[:2] for r in counties]
    defaults = parse_scenario("name: defaults").copula
    print(f"default rate, 99 % quantile, {n} firms at PD 1 %, {a.runs} draws (seed {a.seed}):")
    one = _q99({"rho_global": 0.25, "rho_sector": 0.0, "rho_region": 0.0}, sectors, provinces, a.runs, a.seed)
    print(f"  one factor rho=0.25            {one:7.2%}   (Vasicek, infinite granularity: "
          f"{vasicek_quantile(0.01, 0.25, 0.99):.2%})")
    total = defaults.rho_global + defaults.rho_sector + defaults.rho_region
    kw = {"rho_global": defaults.rho_global, "rho_sector": defaults.rho_sector,
          "rho_region": defaults.rho_region}
    dflt = _q99(kw, sectors, provinces, a.runs, a.seed)
    print(f"  defaults g={defaults.rho_global} s={defaults.rho_sector} r={defaults.rho_region} (province)"
          f" {dflt:7.2%}   ({len(set(sectors))} sectors, {len(set(provinces))} provinces; Vasicek at "
          f"rho={total:.2f}: {vasicek_quantile(0.01, total, 0.99):.2%})")
    old = _q99({"rho_global": 0.0, "rho_sector": 0.15, "rho_region": 0.10}, sectors, counties, a.runs, a.seed)
    print(f"  earlier engine s=0.15 r=0.10 (county), no global {old:7.2%}")
    series = yearly_default_rates(snap.firms, snap.loans, snap.as_of)
    rho = implied_asset_correlation(series["rate"], series["firms"])
    cohorts = zip(series.cohort, series.rate, series.firms, strict=True)
    print(f"yearly default rates of the generated platform: "
          f"{', '.join(f'{c}: {r:.2%} of {f}' for c, r, f in cohorts)}")
    print(f"  implied asset correlation (Vasicek method of moments): {rho}")

    sample = ROOT / "data" / "sample"
    if sample.exists():
        snap = build_snapshot(sample)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StressPrecisionWarning)
            res = run_stress(snap, parse_scenario("name: baseline\nruns: 2000\n"), seed=a.seed,
                             progress=False)
        s = res.summary()
        print(f"sample dataset ({snap.n} firms, as of {snap.as_of}), baseline scenario, 2000 runs:")
        print(f"  EL {s['measures']['EL']['value']:,.0f} ± {s['measures']['EL']['se']:,.0f}")
        stock = s["default_stock"]
        el = s["measures"]["EL"]["value"]
        print(f"  default stock: {stock['firms_in_default']} firms in default, {stock['loans']} loans, "
              f"EAD {stock['ead']:,.0f}, EAD x LGD {stock['gross_loss']:,.0f} (not stress loss)")
        share = stock["gross_loss"] / (el + stock["gross_loss"])
        print(f"  had it been booked as new loss it would be {share:.0%} of EL (before guarantees)")


if __name__ == "__main__":
    main()
