"""Assignment sub-model: the survey-only variables (supports, and confounders such as reasons
for coming or project maturity) given the population cell variables.

The joint distribution p(x | c) of the survey-only variables x = (categorical confounders,
binary confounders, supports) is factorised in that order into binary logistic regressions
(a categorical variable with L levels: L - 1 continuation-ratio logits, "level l among those
not below l"), each on the cell variables (dummies) and every earlier variable of x. Each
regression is Bayesian with Normal priors (sd 5 on the intercept, ``prior_sd`` on the other
coefficients) and its posterior is approximated by Laplace's method (the posterior mode and the
inverse Hessian there): exact enough for logistic regressions with hundreds of cases per
coefficient, and it takes seconds. It is fitted to the survey respondents, unweighted:
valid when survey response depends only on the cell variables (the quota variables of the
cep2021 survey are all cell variables).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import expit


class AssignmentError(ValueError):
    """A survey-only variable the assignment sub-model cannot model."""


Columns = Mapping[str, np.ndarray]  # column -> labels (str) or 0/1 floats
DEFAULT_PRIOR_SD = 1.5  # prior sd of the coefficients other than the intercept


@dataclass(frozen=True)
class Step:
    """One binary logistic regression of the factorisation."""

    variable: str
    level: str | None  # categorical: the level this logit decides (None: a binary variable)
    columns: tuple[str, ...]  # labels of its predictors (after the intercept)
    mean: np.ndarray  # (p,) posterior mode
    chol: np.ndarray  # (p, p) Cholesky factor of the Laplace covariance
    n: int  # respondents it was fitted on


def laplace_logistic(
    x: np.ndarray, y: np.ndarray, prior_sd: np.ndarray, iters: int = 100, tol: float = 1e-10
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mode and covariance (Laplace) of a logistic regression, Normal(0, prior_sd)
    priors. ``x`` includes the intercept column."""
    beta = np.zeros(x.shape[1])
    prec = 1.0 / prior_sd**2
    for _ in range(iters):
        p = expit(x @ beta)
        grad = x.T @ (y - p) - prec * beta
        hess = (x * (p * (1 - p))[:, None]).T @ x + np.diag(prec)
        step = np.linalg.solve(hess, grad)
        beta += step
        if np.max(np.abs(step)) < tol:
            break
    p = expit(x @ beta)
    hess = (x * (p * (1 - p))[:, None]).T @ x + np.diag(prec)
    return beta, np.linalg.inv(hess)


class AssignmentModel:
    """p(x | cell) as a chain of Laplace-approximated Bayesian logistic regressions."""

    def __init__(
        self,
        cell_levels: dict[str, tuple[str, ...]],
        targets: Sequence[tuple[str, tuple[str, ...] | None]],
        steps: list[Step],
    ):
        self.cell_levels = cell_levels  # cell variable -> levels (first = reference)
        self.targets = list(targets)  # (variable, levels or None for binary), in chain order
        self.steps = steps
        widths = [1 if lv is None else len(lv) - 1 for _, lv in self.targets]
        self.offsets = np.r_[0, np.cumsum(widths)].astype(int)  # x columns before each target

    @classmethod
    def fit(
        cls,
        cells: Columns,
        cell_levels: dict[str, tuple[str, ...]],
        x: Columns,
        targets: Sequence[tuple[str, tuple[str, ...] | None]],
        prior_sd: float = DEFAULT_PRIOR_SD,
    ) -> AssignmentModel:
        """Fit every step on the respondents (``cells``: their cell labels; ``x``: their
        survey-only values, labels for categorical targets, 0/1 for binary ones)."""
        model = cls(cell_levels, targets, [])
        base = model.cell_matrix(cells)
        xcols = np.zeros((base.shape[0], model.offsets[-1]))
        names_x: list[str] = []
        for i, (var, levels) in enumerate(targets):
            values = np.asarray(x[var])
            pred = np.hstack([base, xcols[:, : model.offsets[i]]])
            names = (*model.cell_names(), *names_x)
            sd = np.r_[5.0, np.full(pred.shape[1] - 1, prior_sd)]
            if levels is None:
                y = values.astype(float)
                if not np.isin(y, (0.0, 1.0)).all():
                    raise AssignmentError(
                        f"assignment model: '{var}' is numeric but not 0/1; only "
                        "binary numeric survey-only covariates can be modelled"
                    )
                mean, cov = laplace_logistic(pred, y, sd)
                model.steps.append(Step(var, None, names, mean, _chol(cov), int(y.size)))
                xcols[:, model.offsets[i]] = y
                names_x.append(var)
            else:
                codes = _codes(values, levels, var)
                remaining = np.ones(values.size, dtype=bool)
                for j, lv in enumerate(levels[:-1]):
                    y = (codes[remaining] == j).astype(float)
                    mean, cov = laplace_logistic(pred[remaining], y, sd)
                    model.steps.append(Step(var, lv, names, mean, _chol(cov), int(y.size)))
                    remaining &= codes != j
                model._fill(xcols, i, codes)
                names_x.extend(f"{var}[{lv}]" for lv in levels[1:])
        return model

    def cell_names(self) -> tuple[str, ...]:
        return tuple(f"{c}[{lv}]" for c, lvs in self.cell_levels.items() for lv in lvs[1:])

    def cell_matrix(self, cells: Columns) -> np.ndarray:
        """Intercept and cell-variable dummies (reference = first level), (n, p_cell)."""
        n = len(next(iter(cells.values())))
        cols = [np.ones(n)]
        for c, levels in self.cell_levels.items():
            values = np.asarray(cells[c]).astype(str)
            cols.extend((values == lv).astype(float) for lv in levels[1:])
        return np.column_stack(cols)

    def _fill(self, xcols: np.ndarray, i: int, codes: np.ndarray) -> None:
        """Dummies of a categorical target (codes) into its x columns."""
        for j in range(1, self.offsets[i + 1] - self.offsets[i] + 1):
            xcols[:, self.offsets[i] + j - 1] = codes == j

    def sample(
        self, base: np.ndarray, rng: np.random.Generator
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """One draw of the parameters and of x for every cell (``base``: their
        :meth:`cell_matrix`): x values (category codes for categorical targets, 0/1 floats for
        binary ones), and P(binary variable = 1 | cell, earlier x)."""
        n, pc = base.shape
        xcols = np.zeros((n, self.offsets[-1]))
        done: dict[str, np.ndarray] = {}
        probs: dict[str, np.ndarray] = {}
        betas = [s.mean + s.chol @ rng.standard_normal(s.mean.size) for s in self.steps]
        cell_part = base @ np.column_stack([b[:pc] for b in betas])  # (n, steps)
        step = iter(range(len(self.steps)))

        def prob(i: int) -> np.ndarray:
            j = next(step)
            k = self.offsets[i]
            x_part = xcols[:, :k] @ betas[j][pc:] if k else 0.0
            return expit(cell_part[:, j] + x_part)

        for i, (var, levels) in enumerate(self.targets):
            if levels is None:
                p = prob(i)
                probs[var] = p
                done[var] = (rng.random(n) < p).astype(float)
                xcols[:, self.offsets[i]] = done[var]
            else:
                codes = np.full(n, len(levels) - 1, dtype=np.int64)
                open_ = np.ones(n, dtype=bool)
                for j in range(len(levels) - 1):
                    pick = open_ & (rng.random(n) < prob(i))
                    codes[pick] = j
                    open_ &= ~pick
                done[var] = codes
                self._fill(xcols, i, codes)
        return done, probs


def _codes(values: np.ndarray, levels: Sequence[str], var: str) -> np.ndarray:
    index = {lv: i for i, lv in enumerate(levels)}
    try:
        return np.array([index[str(v)] for v in values], dtype=np.int64)
    except KeyError as exc:
        raise AssignmentError(
            f"assignment model: '{var}' has a value {exc} outside its levels {list(levels)}"
        ) from None


def _chol(cov: np.ndarray) -> np.ndarray:
    cov = 0.5 * (cov + cov.T)
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(cov)
        return v * np.sqrt(np.clip(w, 0.0, None))
