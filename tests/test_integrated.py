"""The residual-integrated likelihood against brute-force numerical integration."""

import numpy as np
import pytensor.tensor as pt
import pytest

from capmodel.model.integrated import BIG, gauss_hermite, person_layout, person_loglik


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def _brute_force(theta_c, loading, cuts, codes, eta, rho, real_y, row_at):
    """log of integral prod p(terms | theta_c + e) phi(e) de on a fine grid."""
    e = np.linspace(-12, 12, 48001)
    log_phi = -0.5 * e**2 - 0.5 * np.log(2 * np.pi)
    out = []
    for p in range(theta_c.size):
        theta = theta_c[p] + e
        ll = log_phi.copy()
        for s in range(codes.shape[1]):
            for j in range(codes.shape[2]):
                y = codes[p, s, j]
                if y < 0:
                    continue
                x = loading[j] * theta
                ll += np.log(_sigmoid(cuts[j][y + 1] - x) - _sigmoid(cuts[j][y] - x))
            for r in range(real_y.shape[2]):
                y = real_y[p, s, r]
                if y < 0:
                    continue
                x = eta[row_at[p, s], r] + rho[r] * theta
                ll += np.log(_sigmoid(x) if y == 1 else 1 - _sigmoid(x))
        m = ll.max()
        out.append(m + np.log(np.trapezoid(np.exp(ll - m), e)))
    return np.array(out)


@pytest.fixture
def problem():
    rng = np.random.default_rng(3)
    n_persons = 9
    person_of_row = np.array([0, 1, 1, 2, 3, 3, 3, 4, 5, 6, 7, 8, 8])
    n_rows = person_of_row.size
    levels = [2, 3, 4]  # a binary and two ordinal indicators
    indicators = []
    for n_levels in levels:
        rows = np.flatnonzero(rng.random(n_rows) < 0.8)  # some missing
        indicators.append((rows, rng.integers(0, n_levels, rows.size)))
    real = rng.integers(0, 2, (n_rows, 2))
    real[rng.random(real.shape) < 0.2] = -1
    layout = person_layout(person_of_row, n_persons, indicators, real)
    cuts = [
        np.array([-BIG, 0.3, BIG]),
        np.array([-BIG, -0.5, 0.8, BIG]),
        np.array([-BIG, -1.0, 0.2, 1.5, BIG]),
    ]
    params = dict(
        theta_c=rng.normal(0, 1, n_persons),
        loading=np.array([1.2, 0.8, 1.5]),
        cuts=cuts,
        eta=rng.normal(-0.5, 1, (n_rows, 2)),
        rho=np.array([0.7, -0.4]),
    )
    return layout, params, real


def test_person_layout_places_every_row(problem):
    layout, _, real = problem
    present = layout.row_at[layout.rows_present]
    assert sorted(present.tolist()) == list(range(real.shape[0]))
    assert (layout.realisation_y[layout.rows_present] == real[present]).all()


@pytest.mark.parametrize("nodes, tol", [(41, 1e-6), (15, 1e-4)])
def test_quadrature_matches_brute_force_integration(problem, nodes, tol):
    layout, p, _ = problem
    width = max(c.size for c in p["cuts"])
    table = np.stack([np.concatenate([c, np.full(width - c.size, BIG)]) for c in p["cuts"]])
    lp = person_loglik(
        layout,
        pt.as_tensor(p["theta_c"]),
        nodes,
        loading=pt.as_tensor(p["loading"]),
        cut_table=pt.as_tensor(table),
        realisation_eta=pt.as_tensor(p["eta"]),
        capability_loading=pt.as_tensor(p["rho"]),
    ).eval()
    exact = _brute_force(
        p["theta_c"],
        p["loading"],
        p["cuts"],
        layout.indicator_code,
        p["eta"],
        p["rho"],
        layout.realisation_y,
        layout.row_at,
    )
    assert lp.shape == (9,)
    np.testing.assert_allclose(lp, exact, atol=tol)


def test_gauss_hermite_integrates_normal_moments():
    x, log_w = gauss_hermite(15)
    w = np.exp(log_w)
    assert w.sum() == pytest.approx(1.0)
    assert (w * x**2).sum() == pytest.approx(1.0)
    assert (w * x**4).sum() == pytest.approx(3.0)
    with pytest.raises(ValueError, match="nodes"):
        gauss_hermite(0)
