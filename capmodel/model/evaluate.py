"""The model's equations evaluated over posterior draws, compiled from the PyMC graph itself.

Effects, predictive checks and the report need the model's quantities at posterior draws and on
other units than the survey's (supports set by an intervention, post-stratification cells):

- capability without its residual, m_i = theta_i - e_i (documented origin), per person, at the
  6-month reference or, when capability changes between waves, at a given time since exit:
  m_i + log(months / 6) g_i (``UnitDesign.capability_log_time``);
- the realisation probabilities pi_r = P(R_r = 1 | theta) at given residual values e, per row;
- each person's posterior of the residual e_i given all their responses (adaptive
  Gauss-Hermite nodes and log weights), when the fit holds no residual draws.

Nothing here restates an equation: :func:`capmodel.model.build.build_model` records its
tensors (``BuiltModel.terms``), whose free variables are replaced by inputs with a leading draw
axis (``pytensor.graph.replace.vectorize_graph``) and whose predictor arrays (``pm.Data``) are
replaced by inputs fed by :func:`capmodel.model.build.predictor_arrays` of the units: an
intervention is data, as with ``pm.set_data``. The functions are compiled to JAX once per model,
on first use (XLA fuses each one into a few vectorised loops: twice as fast as PyTensor's numba
backend on the reference fit's total effects, docs/benchmarks.md), and XLA's programs are kept
in JAX's persistent compilation cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.graph.replace import graph_replace, vectorize_graph
from pytensor.graph.traversal import ancestors

from capmodel.model.build import (
    BuiltModel,
    build_model,
    design_layout,
    person_arrays,
    row_arrays,
)
from capmodel.model.design import Design, UnitDesign
from capmodel.model.integrated import residual_posterior, response_terms
from capmodel.model.jax_backend import configure_jax
from capmodel.spec import Spec

Draws = Mapping[str, np.ndarray]  # posterior variable -> (D, *its dims) draws


class ModelFunctions:
    """The model of ``spec`` on ``design`` as compiled functions of posterior draws.

    ``names``: the posterior variables the functions read (free variables and deterministics
    of the model, as the fit stores them). Every function takes ``draws`` (name -> array with
    a leading draw axis D) and returns arrays with that leading axis.
    """

    def __init__(self, spec: Spec, design: Design, built: BuiltModel | None = None):
        self.spec, self.design = spec, design
        self.built = build_model(spec, design) if built is None else built
        self.latent = spec.latent
        self.has_realisations = bool(design.realisations)
        model = self.built.model
        terms = self.built.terms
        self._params = {
            name: v
            for name, v in model.named_vars.items()
            if v in set(model.free_RVs) | set(model.deterministics)
            and name != "capability_residual"
        }
        # predictor arrays: the pm.Data of the model, replaced by inputs (fed per units)
        data_names = set(person_arrays(spec, design)) | set(row_arrays(spec, design))
        self._data_inputs = {
            name: pt.tensor(
                name=name,
                shape=(None,) * model[f"design__{name}"].ndim,
                dtype=model[f"design__{name}"].dtype,
            )
            for name in sorted(data_names)
        }
        data_replace = {model[f"design__{n}"]: x for n, x in self._data_inputs.items()}
        self._person_of_row = pt.tensor("person_of_row", shape=(None,), dtype="int64")
        self._residual = pt.tensor("residual", shape=(None, None), dtype="float64")  # (P, Q)
        # (P, Q) weights of the residual values, summing to 1 over Q for each person
        self._residual_weights = pt.tensor("residual_weights", shape=(None, None), dtype="float64")
        # (P,) log(months / 6) at which capability is evaluated (0: the 6-month reference)
        self._capability_time = pt.tensor("capability_time", shape=(None,), dtype="float64")

        outputs: dict[str, Any] = {}
        m: Any = terms.get("capability_mean")
        if self.latent:
            outputs["capability_mean"] = m + terms["shift"]
            if "capability_growth" in terms:  # capability that changes between waves
                outputs["capability_mean"] = (
                    outputs["capability_mean"] + self._capability_time * terms["capability_growth"]
                )
        if self.has_realisations:
            eta = terms["realisation_eta"] + pt.zeros((self._person_of_row.shape[0], 1))
            if self.latent:
                theta_rows = (m[:, None] + self._residual)[self._person_of_row]  # (N, Q)
                x = (
                    eta[:, :, None]
                    + terms["capability_loading"][None, :, None] * theta_rows[:, None, :]
                )
            else:
                x = eta[:, :, None]
            p = pt.sigmoid(x)  # (N, R, Q)
            outputs["probabilities"] = p
            # averaged over the residual in the compiled function (no (N, R, Q) array comes
            # back): each realisation, and any (independent given capability: at each value)
            w = self._residual_weights[self._person_of_row][:, None, :]  # (N, 1, Q)
            anyr = 1.0 - pt.prod(1.0 - p, axis=1, keepdims=True)  # (N, 1, Q)
            outputs["expected_probabilities"] = pt.sum(pt.concatenate([p, anyr], axis=1) * w, -1)
        self._unit_outputs = {
            k: graph_replace(v, data_replace, strict=False) for k, v in outputs.items()
        }
        self._compiled: dict[str, Any] = {}

    # ------------------------------------------------------------------ compiling
    def _core(self, output: Any) -> tuple[Any, dict[Any, Any]]:
        """``output`` with every model variable it reads replaced by an input (no draw axis),
        and those inputs by variable."""
        core = {
            v: pt.tensor(name=n, shape=(None,) * v.ndim, dtype=v.dtype)
            for n, v in self._params.items()
        }
        out = graph_replace(output, core, strict=False)
        used = set(ancestors([out]))
        return out, {v: c for v, c in core.items() if c in used}

    def _vectorised(self, output: Any, extra: list[tuple[Any, bool]]) -> tuple[Any, list[str]]:
        """Compile ``output`` with every model variable it reads as an input with a draw axis;
        ``extra``: other inputs (variable, has a draw axis). Returns the function and the
        names of its parameter inputs, in order."""
        out, core = self._core(output)
        batched = {c: _with_draw_axis(c) for c in core.values()}
        for x, has_draws in extra:
            if has_draws:
                batched[x] = _with_draw_axis(x)
        out_b = vectorize_graph(out, batched)
        inputs = [batched[c] for c in core.values()]
        inputs += [batched.get(x, x) for x, _ in extra]
        configure_jax()  # float64, the compilation cache (before JAX's first use)
        fn = pytensor.function(inputs, out_b, on_unused_input="ignore", mode="JAX")
        return fn, [c.name for c in core.values()]

    def _function(self, key: str) -> tuple[Any, list[str]]:
        if key not in self._compiled:
            out = self._unit_outputs[key]
            extra: list[tuple[Any, bool]] = [(x, False) for x in self._data_inputs.values()]
            extra += [
                (self._person_of_row, False),
                (self._residual, True),
                (self._residual_weights, True),
                (self._capability_time, False),
            ]
            self._compiled[key] = self._vectorised(out, extra)
        return self._compiled[key]

    def _call(self, key: str, draws: Draws, units_data: dict[str, np.ndarray], rest: list):
        fn, names = self._function(key)
        args = [np.ascontiguousarray(draws[n], dtype=np.float64) for n in names]
        args += [np.asarray(units_data[n], dtype=x.dtype) for n, x in self._data_inputs.items()]
        return fn(*args, *rest)

    @property
    def names(self) -> tuple[str, ...]:
        """The posterior variables the functions read."""
        outputs = list(self._unit_outputs.values())
        if self.latent:
            outputs.append(self._residual_graph(1))
        out: list[str] = []
        for output in outputs:
            out += [c.name for c in self._core(output)[1].values() if c.name not in out]
        return tuple(out)

    # ------------------------------------------------------------------ evaluating
    def unit_data(
        self, capability: UnitDesign | None, rows: UnitDesign | None = None
    ) -> dict[str, np.ndarray]:
        """The predictor arrays of ``capability``'s persons and ``rows``' rows (default: the
        same units): e.g. the supports of one world in capability and of another in the
        direct effects (mediation)."""
        rows = capability if rows is None else rows
        out: dict[str, np.ndarray] = {}
        if capability is not None:
            out.update(person_arrays(self.spec, self.design, capability))
        if rows is not None:
            out.update(row_arrays(self.spec, self.design, rows))
        for name, x in self._data_inputs.items():  # parts a function does not read
            out.setdefault(name, np.zeros((0,) * x.ndim, dtype=x.dtype))
        return out

    def capability_mean(self, draws: Draws, units: UnitDesign) -> np.ndarray:
        """m (D, P): capability without its residual, on the documented origin; with capability
        that changes between waves, at the units' ``capability_log_time`` (default: the
        6-month reference, where it is m)."""
        if not self.latent:
            raise ValueError("this model has no latent capability")
        n_draws = _n_draws(draws)
        time = units.capability_log_time
        return self._call(
            "capability_mean",
            draws,
            self.unit_data(units, None),
            [
                np.zeros(0, dtype=np.int64),
                np.zeros((n_draws, units.n_persons, 1)),
                np.ones((n_draws, units.n_persons, 1)),
                np.zeros(units.n_persons) if time is None else np.asarray(time, dtype=float),
            ],
        )

    def probabilities(
        self,
        draws: Draws,
        rows: UnitDesign,
        residual: np.ndarray,
        capability: UnitDesign | None = None,
    ) -> np.ndarray:
        """P(R_r = 1) (D, N, R, Q) of every row of ``rows`` at Q values of each person's
        residual (``residual``: (D, P, Q) on the sampling scale, which is the documented one),
        with capability from ``capability``'s predictors (default: ``rows``') and the rest of
        the realisation predictors from ``rows``'."""
        weights = np.ones(residual.shape[:2] + (1,))
        return self._realisations("probabilities", draws, rows, residual, weights, capability)

    def expected_probabilities(
        self,
        draws: Draws,
        rows: UnitDesign,
        residual: np.ndarray,
        weights: np.ndarray,
        capability: UnitDesign | None = None,
    ) -> np.ndarray:
        """(D, N, R + 1): :meth:`probabilities` averaged over the residual values with
        ``weights`` (D, P, Q), each person's summing to 1; the last column is the probability
        of any realisation, 1 - prod_r (1 - pi_r) at each value (realisations are independent
        given capability) before the average."""
        return self._realisations(
            "expected_probabilities", draws, rows, residual, weights, capability
        )

    def _realisations(
        self,
        key: str,
        draws: Draws,
        rows: UnitDesign,
        residual: np.ndarray,
        weights: np.ndarray,
        capability: UnitDesign | None,
    ) -> np.ndarray:
        if not self.has_realisations:
            raise ValueError("this model has no realisations")
        capability = rows if capability is None else capability
        data = self.unit_data(capability if self.latent else None, rows)
        if not self.latent:  # no residual: one value, weight 1
            residual = np.zeros((_n_draws(draws), rows.n_persons, 1))
            weights = np.ones_like(residual)
        extra = [
            rows.person_of_row.astype(np.int64),
            np.ascontiguousarray(residual),
            np.ascontiguousarray(weights),
            np.zeros(0),  # capability's time: realisations read the person-level capability
        ]
        return self._call(key, draws, data, extra)

    def _residual_graph(self, n_nodes: int) -> Any:
        """(2, P, Q): the nodes and log weights of each survey person's residual posterior."""
        terms = self.built.terms
        d = self.design
        eta = terms.get("realisation_eta")
        if eta is not None:
            eta = pt.broadcast_to(eta, (d.n_rows, len(d.realisations)))
        response = response_terms(
            design_layout(d),
            lambda name, x: self.built.model[f"design__{name}"],  # the model's own pm.Data
            terms["loading"],
            terms["cut_table"],
            eta,
            terms.get("capability_loading"),
            terms.get("capability_growth"),
        )
        e, log_post = residual_posterior(response, terms["capability_mean"], n_nodes)
        return pt.stack([e, log_post])

    def residual_posterior(self, draws: Draws, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
        """Each survey person's residual posterior given all their responses: nodes e
        (D, P, Q) and unnormalised log weights (D, P, Q) (adaptive Gauss-Hermite, as the
        integrated model's likelihood; capmodel.model.integrated)."""
        key = f"residual_posterior{n_nodes}"
        if key not in self._compiled:
            self._compiled[key] = self._vectorised(self._residual_graph(n_nodes), [])
        fn, names = self._compiled[key]
        out = fn(*[np.ascontiguousarray(draws[n], dtype=np.float64) for n in names])
        return out[:, 0], out[:, 1]


def _with_draw_axis(x: Any) -> Any:
    return pt.tensor(name=f"{x.name}__draws", shape=(None,) * (x.ndim + 1), dtype=x.dtype)


def _n_draws(draws: Draws) -> int:
    return int(next(iter(draws.values())).shape[0])
