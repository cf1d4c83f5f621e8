"""The progress lines of numpyro's chains (capmodel.fitting.progress), without a sampler."""

from __future__ import annotations

import io

from capmodel.fitting.progress import LineProgress


def test_a_line_each_time_the_slowest_chain_passes_a_tenth():
    out = io.StringIO()
    p = LineProgress(total=200, chains=2, tune=80, stream=out)
    a, b = p.update(0, -1), p.update(0, -1)  # each chain's first call numbers it
    assert (a, b) == (0, 1)
    for _ in range(10):
        p.update(20, a)  # chain 0 runs ahead: nothing until chain 1 moves
    assert out.getvalue() == ""
    p.update(50, b)  # slowest at 50 of 200: two tenths passed, one line
    p.update(5, b)  # 55: still in the third tenth, no line
    p.update(145, b)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].strip().startswith("25% (tuning; chains at 200 and 50 of 200 iterations)")
    assert "s left" in lines[0]
    assert lines[1].strip().startswith("100% (sampling; chains at 200 and 200 of 200")
    assert "left" not in lines[1]


def test_counts_never_pass_the_total():
    out = io.StringIO()
    p = LineProgress(total=10, chains=1, tune=5, stream=out)
    c = p.update(0, -1)
    p.update(7, c)
    p.update(7, c)
    assert p.done[c] == 10
    assert out.getvalue().splitlines()[-1].strip().startswith("100%")
