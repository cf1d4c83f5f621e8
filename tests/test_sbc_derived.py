"""The SBC study's derived estimands (capmodel.studies.replicate): each is computed by the
model's own effect functions, at the truth and at every kept draw, with the same function:
taking one posterior draw as the "truth" must reproduce that draw's value exactly."""

from __future__ import annotations

import numpy as np
import pytest

from capmodel.studies.replicate import DERIVED, PATHWAY_TYPES, _effect_draws

pytestmark = pytest.mark.slow  # uses the session's small NUTS fit


def test_truth_at_a_draw_equals_that_draws_estimands(small_fit):
    post = small_fit.posterior
    kept = post.isel(draw=slice(0, 40, 8))  # 2 chains x 5 draws
    truth = kept.isel(chain=1, draw=2)  # a posterior draw taken as the truth
    labels, true, draws = _effect_draws(small_fit, truth, kept, DERIVED)
    supports = list(small_fit.spec.supports)
    assert {f"total_effect[{s}, any_realisation]" for s in supports} <= set(labels)
    assert {f"nie[{s}, any_realisation]" for s in supports} <= set(labels)
    assert "pn_share[changers]" in labels
    shares = [labels.index(f"pathway_share[type {k}]") for k in PATHWAY_TYPES]
    assert draws.shape == (10, len(labels)) and np.isfinite(draws).all()
    # the draws are ordered chain-major: chain 1, draw 2 is row 5 + 2
    np.testing.assert_allclose(draws[7], true, rtol=1e-9, atol=1e-12)
    assert not np.allclose(draws[0], true)  # another draw differs
    # the PN share is a probability; types 1-4 are every changer and non-changer (no type 5)
    assert 0 < true[labels.index("pn_share[changers]")] < 1
    np.testing.assert_allclose(draws[:, shares].sum(axis=1), 1.0, rtol=1e-12)
