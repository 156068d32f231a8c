r"""Correlated defaults from a Gaussian copula with a global, a sector and a region factor.

Firm :math:`i` in sector :math:`s(i)` and region :math:`g(i)` has the latent variable

.. math::

    X_i = \sqrt{\rho_G}\,(Z_G + \mu_G) + \sqrt{\rho_S}\,(Z_{s(i)} + \mu_{s(i)})
          + \sqrt{\rho_R}\,(Z_{g(i)} + \mu_{g(i)})
          + \sqrt{1 - \rho_G - \rho_S - \rho_R}\,\varepsilon_i,

with :math:`Z_G, Z_s, Z_g, \varepsilon_i` independent standard normals and
:math:`\mu` the scenario's macro shifts (in standard deviations; negative is
adverse). Firm :math:`i` defaults in a draw when :math:`X_i < \Phi^{-1}(PD_i)`,
so without shifts its default frequency is exactly :math:`PD_i`. Two firms have
latent (asset) correlation :math:`\rho_G` plus :math:`\rho_S` when they share a
sector plus :math:`\rho_R` when they share a region; each firm's own systematic
share, the "asset correlation" of the Basel IRB formula, is
:math:`\rho_G + \rho_S + \rho_R`. With :math:`\rho_S = \rho_R = 0` this is
Vasicek's one-factor model: on a large homogeneous portfolio the default rate
has the quantile :math:`\Phi\bigl((\Phi^{-1}(p) + \sqrt{\rho}\,\Phi^{-1}(q)) / \sqrt{1-\rho}\bigr)`
(:func:`vasicek_quantile`).

Reproducibility: run :math:`r` draws everything from
``np.random.default_rng([seed, r])``, in this order: the global factor, the
sector factors (sorted sector labels), the region factors (sorted region keys),
the :math:`n` idiosyncratic terms. A run therefore gives the same defaults alone,
in any batch, and on any worker.

References
----------
.. [1] O. Vasicek, "Probability of loss on loan portfolio", KMV (1987); "The
       distribution of loan portfolio value", Risk 15(12) (2002).
.. [2] D. X. Li, "On default correlation: a copula function approach",
       J. Fixed Income 9(4):43-54 (2000).
.. [3] Basel Committee on Banking Supervision, "International convergence of
       capital measurement and capital standards" (2006), paragraphs 272-273
       (the IRB corporate correlation and its SME firm-size adjustment); CRE31.5-31.9.

>>> m = copula_model(np.array([0.0, 1.0, 0.5]), ["A", "A", "B"], ["35", "35", "44"],
...                  rho_global=0.1, rho_sector=0.2, rho_region=0.1)
>>> d = draw_defaults(m, range(1000), seed=1)
>>> d.shape, bool(d[0].any()), bool(d[1].all())
((3, 1000), False, True)
>>> round(vasicek_quantile(0.01, 0.25, 0.99), 4)
0.0896
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from contagion.stress.importance import shifted_runs

__all__ = ["CopulaModel", "copula_model", "draw_defaults", "draw_factors", "draw_latent", "draw_systematic",
           "shifted_pd",
           "vasicek_quantile"]


@dataclass(frozen=True)
class CopulaModel:
    """Everything a worker needs to draw defaults (small and picklable)."""

    #: :math:`\Phi^{-1}(PD_i)`; ``-inf`` for PD 0 and ``+inf`` for PD 1.
    thresholds: np.ndarray
    #: Sector factor of each firm (index into ``sectors``).
    sector_of: np.ndarray
    #: Region factor of each firm (index into ``regions``).
    region_of: np.ndarray
    sectors: tuple[str, ...]
    regions: tuple[str, ...]
    rho_sector: float
    rho_region: float
    #: Mean shift of each sector / region factor (standard deviations).
    sector_shift: np.ndarray
    region_shift: np.ndarray
    rho_global: float = 0.0
    #: Mean shift of the global factor (standard deviations).
    global_shift: float = 0.0
    #: Importance sampling: a share ``is_share`` of runs draws the global factor with mean
    #: ``is_shift`` (see :mod:`contagion.stress.importance`; their weights undo the tilt).
    is_shift: float = 0.0
    is_share: float = 0.0

    @property
    def n(self) -> int:
        return len(self.thresholds)

    @property
    def rho_total(self) -> float:
        """A firm's systematic share :math:`\\rho_G + \\rho_S + \\rho_R` (its IRB asset correlation)."""
        return self.rho_global + self.rho_sector + self.rho_region


def vasicek_quantile(pd_: float, rho: float, q: float) -> float:
    r"""The ``q`` quantile of the default rate of an infinitely granular one-factor portfolio.

    :math:`\Phi\bigl((\Phi^{-1}(p) + \sqrt{\rho}\,\Phi^{-1}(q)) / \sqrt{1-\rho}\bigr)` (Vasicek 2002).
    """
    return float(ndtr((ndtri(pd_) + np.sqrt(rho) * ndtri(q)) / np.sqrt(1.0 - rho)))


def _factor(labels: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    keys = sorted(set(labels))
    pos = {k: i for i, k in enumerate(keys)}
    return np.array([pos[x] for x in labels], dtype=np.int64), tuple(keys)


def _shifts(keys: tuple[str, ...], shifts: Mapping[str, float], *, prefix: bool) -> np.ndarray:
    out = np.zeros(len(keys))
    for key, mu in shifts.items():
        for i, k in enumerate(keys):
            if (k.startswith(key) if prefix else k == key):
                out[i] += mu
    return out


def copula_model(
    pd_: np.ndarray,
    sectors: Sequence[str],
    regions: Sequence[str],
    *,
    rho_sector: float,
    rho_region: float,
    rho_global: float = 0.0,
    sector_shift: Mapping[str, float] | None = None,
    region_shift: Mapping[str, float] | None = None,
    global_shift: float = 0.0,
) -> CopulaModel:
    """Build a :class:`CopulaModel` from PDs and each firm's sector and region key.

    Parameters
    ----------
    pd_ : (n,) array
        Default probabilities in [0, 1].
    sectors, regions : sequences of n strings
        Factor labels; equal labels share a factor (a missing label is its own group, ``""``).
    rho_sector, rho_region, rho_global : float
        Factor loadings, each >= 0, summing below 1.
    sector_shift, region_shift : mappings, optional
        Factor mean shifts in standard deviations; a region key shifts every
        region whose key starts with it, a sector key the sector of that name.
    global_shift : float
        Mean shift of the global factor in standard deviations.
    """
    rhos = (rho_global, rho_sector, rho_region)
    if not (min(rhos) >= 0 and sum(rhos) < 1):
        raise ValueError("need rho_global, rho_sector, rho_region >= 0 with a sum below 1")
    sector_of, skeys = _factor([str(s) for s in sectors])
    region_of, rkeys = _factor([str(r) for r in regions])
    return CopulaModel(
        thresholds=ndtri(np.clip(np.asarray(pd_, dtype=np.float64), 0.0, 1.0)),
        sector_of=sector_of,
        region_of=region_of,
        sectors=skeys,
        regions=rkeys,
        rho_sector=float(rho_sector),
        rho_region=float(rho_region),
        sector_shift=_shifts(skeys, sector_shift or {}, prefix=False),
        region_shift=_shifts(rkeys, region_shift or {}, prefix=True),
        rho_global=float(rho_global),
        global_shift=float(global_shift),
    )


def draw_factors(model: CopulaModel, runs: Sequence[int] | range, seed: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The draws of runs ``runs`` before macro shifts: global ``(k,)``, sectors, regions, idiosyncratic.

    The idiosyncratic terms are ``(k, n)``.

    The global factor carries the importance-sampling tilt on the runs that draw it.
    """
    n, k = model.n, len(runs)
    zg = np.empty(k)
    zs = np.empty((len(model.sectors), k))
    zr = np.empty((len(model.regions), k))
    eps = np.empty((k, n))
    for c, r in enumerate(runs):
        rng = np.random.default_rng([int(seed), int(r)])
        zg[c] = rng.standard_normal()
        zs[:, c] = rng.standard_normal(len(model.sectors))
        zr[:, c] = rng.standard_normal(len(model.regions))
        eps[c] = rng.standard_normal(n)
    if model.is_share > 0.0:  # the tilted runs (importance sampling); their own coin, not this stream
        zg = zg + model.is_shift * shifted_runs(runs, seed, model.is_share)
    return zg, zs, zr, eps


def draw_latent(model: CopulaModel, runs: Sequence[int] | range, seed: int) -> np.ndarray:
    """Latent variables :math:`X` as an ``n x len(runs)`` array, column c from run ``runs[c]``."""
    zg, zs, zr, eps = draw_factors(model, runs, seed)
    zg = zg + model.global_shift
    zs += model.sector_shift[:, None]
    zr += model.region_shift[:, None]
    g, a, b = np.sqrt(model.rho_global), np.sqrt(model.rho_sector), np.sqrt(model.rho_region)
    idio = np.sqrt(1.0 - model.rho_total)
    return g * zg[None, :] + a * zs[model.sector_of] + b * zr[model.region_of] + idio * eps.T


def draw_defaults(model: CopulaModel, runs: Sequence[int] | range, seed: int) -> np.ndarray:
    """Default indicators (``n x len(runs)`` bool): :math:`X_i < \\Phi^{-1}(PD_i)`."""
    return draw_latent(model, runs, seed) < model.thresholds[:, None]


def shifted_pd(model: CopulaModel) -> np.ndarray:
    r"""Each firm's PD under the macro shifts: :math:`\Phi(\Phi^{-1}(PD_i) - s_i)`.

    :math:`s_i = \sqrt{\rho_G}\mu_G + \sqrt{\rho_S}\mu_{s(i)} + \sqrt{\rho_R}\mu_{g(i)}` is the
    mean of :math:`X_i`; without shifts this is the PD itself.

    >>> m = copula_model(np.array([0.01, 0.01]), ["A", "B"], ["35", "35"], rho_global=0.1,
    ...                  rho_sector=0.0, rho_region=0.0, global_shift=-1.0)
    >>> shifted_pd(m).round(4).tolist()  # Phi(-2.326 + 0.316)
    [0.0222, 0.0222]
    """
    s = (np.sqrt(model.rho_global) * model.global_shift
         + np.sqrt(model.rho_sector) * model.sector_shift[model.sector_of]
         + np.sqrt(model.rho_region) * model.region_shift[model.region_of])
    return np.asarray(ndtr(model.thresholds - s), dtype=np.float64)


def draw_systematic(model: CopulaModel, runs: Sequence[int] | range, seed: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The factor values of runs ``runs`` as the copula used them (macro shifts and tilt included).

    Global ``(k,)``, sectors ``(S, k)`` and regions ``(R, k)``; the same numbers as
    :func:`draw_latent` without drawing the idiosyncratic terms.
    """
    k = len(runs)
    zg = np.empty(k)
    zs = np.empty((len(model.sectors), k))
    zr = np.empty((len(model.regions), k))
    for c, r in enumerate(runs):
        rng = np.random.default_rng([int(seed), int(r)])
        zg[c] = rng.standard_normal()
        zs[:, c] = rng.standard_normal(len(model.sectors))
        zr[:, c] = rng.standard_normal(len(model.regions))
    if model.is_share > 0.0:
        zg = zg + model.is_shift * shifted_runs(runs, seed, model.is_share)
    return zg + model.global_shift, zs + model.sector_shift[:, None], zr + model.region_shift[:, None]
