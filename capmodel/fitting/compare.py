"""Comparing fits by PSIS-LOO on each person's marginal log-likelihood.

The unit is the person, with the capability residual integrated out
(capmodel.fitting.loglik). Models that predict different responses (e.g. one without a latent
capability and its indicators) are compared on the responses they share, the realisations.
The report renders a :class:`Comparison` (capmodel.report.compare).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from capmodel.fitting.fit import load_fit
from capmodel.fitting.loglik import person_log_likelihood

SMALL_DIFF = 4.0  # |elpd difference| below this is small whatever its SE
RESPONSES = ("auto", "all", "realisations")


@dataclass
class Comparison:
    """LOO of several fits: the table (one row per model, best first), each model's LOO,
    the responses compared on, and every reason the comparison may be unreliable."""

    names: list[str]
    fits: list[Any]
    responses: str
    table: pd.DataFrame
    loo: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    path: Path | None = None  # where the page was written, if it was (capmodel.report)

    @property
    def reliable(self) -> bool:
        return not self.warnings


def response_set(spec) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(indicators, realisations) a spec's likelihood covers."""
    return (tuple(spec.indicators) if spec.latent else ()), tuple(spec.realisations)


def choose_responses(
    specs: Sequence[Any], requested: str = "auto"
) -> tuple[str, list[str], list[str]]:
    """The responses to compare on ('all' or 'realisations'), notes and warnings."""
    if requested not in RESPONSES:
        raise ValueError(f"responses = {requested!r}; expected one of {list(RESPONSES)}")
    sets = [response_set(s) for s in specs]
    same_all = len(set(sets)) == 1
    reals = {r for _, r in sets}
    same_real = len(reals) == 1 and bool(next(iter(reals)))
    notes: list[str] = []
    warnings: list[str] = []
    if requested == "auto":
        if same_all:
            return "all", notes, warnings
        if same_real:
            notes.append(
                "The models predict different responses (indicators differ, or a "
                "model has no latent capability): they are compared on the "
                "realisations only, the responses they share."
            )
            return "realisations", notes, warnings
        requested = "all"
    if requested == "all" and not same_all:
        warnings.append(
            "The models predict different sets of responses: their elpd values "
            "are sums over different data and are not comparable."
        )
    if requested == "realisations" and not same_real:
        warnings.append(
            "The models predict different realisations: their elpd values are not comparable."
        )
    return requested, notes, warnings


def _names(items: Sequence[Any], fits: Sequence[Any]) -> list[str]:
    names = [
        Path(x).name if isinstance(x, str | Path) else f.spec.name
        for x, f in zip(items, fits, strict=True)
    ]
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out


LogLik = Callable[..., xr.DataArray]


def _loo(fit, responses: str, loglik: LogLik):
    import arviz as az

    ll = loglik(fit, responses=responses)
    post = fit.posterior
    small = next(v for v, da in post.data_vars.items() if "person" not in da.dims)
    tree = xr.DataTree.from_dict(
        {"posterior": post[[small]], "log_likelihood": xr.Dataset({"person_loglik": ll})}
    )
    return az.loo(tree, pointwise=True)


def compare_fits(
    fits: Sequence[Any] | Mapping[str, Any],
    *,
    responses: str = "auto",
    loglik: LogLik | None = None,
) -> Comparison:
    """Compare fits (``Fit`` objects or fit directories; a mapping gives their names) by
    PSIS-LOO over persons (``capmodel.report.compare`` also writes the page).
    ``loglik(fit, responses=)`` gives each person's log-likelihood per draw (default:
    :func:`capmodel.fitting.loglik.person_log_likelihood`)."""
    t0 = time.perf_counter()
    if loglik is None:
        loglik = person_log_likelihood
    if isinstance(fits, Mapping):
        given_names: list[str] | None = [str(k) for k in fits]
        items = list(fits.values())
    else:
        given_names, items = None, list(fits)
    if len(items) < 2:
        raise ValueError("compare needs at least two fits")
    loaded = [load_fit(x) if isinstance(x, str | Path) else x for x in items]
    names = given_names or _names(items, loaded)
    used, notes, warnings = choose_responses([f.spec for f in loaded], responses)
    loo = {n: _loo(f, used, loglik) for n, f in zip(names, loaded, strict=True)}
    result = assemble(names, loaded, loo, used, notes, warnings)
    result.seconds = time.perf_counter() - t0
    return result


def assemble(
    names: list[str],
    fits: list[Any],
    loo: dict[str, Any],
    responses: str,
    notes: list[str],
    warnings: list[str],
) -> Comparison:
    """The comparison table of computed LOO results, and every warning that applies."""
    import arviz as az

    warnings = list(warnings)
    if len({f.manifest["data"]["hash"] for f in fits}) > 1:
        warnings.append(
            "The fits were made on different data (data hashes differ): LOO "
            "compares predictions of different observations and is not valid."
        )
    rows = []
    for n, f in zip(names, fits, strict=True):
        r = loo[n]
        k = np.asarray(r.pareto_k.values, dtype=float)
        rows.append(
            {
                "model": n,
                "elpd": r.elpd,
                "se": r.se,
                "p_loo": r.p,
                "good_k": r.good_k,
                "k_bad": int(((k > r.good_k) & (k <= 1)).sum()),
                "k_very_bad": int(((k > 1) | np.isnan(k)).sum()),
                "n": int(k.size),
                "verdict": f.diagnostics.verdict,
            }
        )
    table = pd.DataFrame(rows).set_index("model")
    if len({r["n"] for r in rows}) == 1:
        cmp = az.compare(loo, round_to="none")
        table = table.join(cmp[["rank", "elpd_diff", "dse", "p_worse", "weight"]])
        table = table.sort_values("rank")
    else:
        warnings.append(
            "The fits have different numbers of persons: no differences or weights can be computed."
        )
        table = table.sort_values("elpd", ascending=False)
        table["rank"] = np.arange(len(table))
        for c in ("elpd_diff", "dse", "p_worse", "weight"):
            table[c] = np.nan
    for n, r in table.iterrows():
        if r["k_bad"] + r["k_very_bad"]:
            warnings.append(
                f"{n}: {r['k_bad'] + r['k_very_bad']} of {r['n']} persons have a "
                f"Pareto k above {r['good_k']:.2f} ({r['k_very_bad']} above 1 or not "
                "computable): "
                "the LOO estimate of this model is unreliable for them."
            )
        if r["verdict"] == "fail":
            warnings.append(
                f"{n}: the fit FAILED its convergence checks; its LOO cannot be trusted."
            )
        elif r["verdict"] == "approximate":
            warnings.append(
                f"{n}: an APPROXIMATE (ADVI) fit, not for inference; its LOO is "
                "computed on draws from the approximation, not the posterior."
            )
    best = table.index[0]
    for n, r in table.iloc[1:].iterrows():
        d, dse = abs(r["elpd_diff"]), r["dse"]
        if np.isfinite(d) and (d < SMALL_DIFF or d < 2 * dse):
            warnings.append(
                f"{n} vs {best}: elpd difference {-d:.1f} (dSE {dse:.1f}) is small "
                "relative to its uncertainty: the data do not tell these models "
                "apart."
            )
    return Comparison(names, fits, responses, table.reset_index(), loo, warnings, notes)
