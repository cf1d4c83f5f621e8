"""The HTML posterior report (capmodel.report): content, escaping, atomic writing, and a real
browser (headless Chromium via Playwright).

One report is built per module, from the session's small fit relabelled with hostile labels
(markup, quotes, '$', non-ASCII): every test below reads that one page.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import re
import tomllib
from pathlib import Path

import arviz as az
import numpy as np
import pytest
import xarray as xr
from markupsafe import escape

import capmodel
from capmodel import intervals
from capmodel.report import build_page, report
from capmodel.report.convergence import divergence_table
from capmodel.report.fitreport import SECTIONS
from capmodel.report.graph import Structure, model_graph
from capmodel.report.html import render, write
from capmodel.report.margins import decode_frame, find_table, margin_rows
from capmodel.report.stats import interval
from capmodel.report.tomlout import dumps

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
XSS = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=2">'
REGIONS = {
    0: f"Réunion {XSS}",
    1: "Provence \"Alpes\" & 'Côte'",
    2: f"Zürich {IMG}",
    3: "cost $x$ région",
}
OPERATOR = "Opé<b>rateur</b>"
CSP_LEVEL = ("ouvrier", 'ouvrier "é" <i>ü</i>')


def _relabel(values, mapping: dict[int, str]) -> list[str]:
    return [mapping.get(i, str(v)) for i, v in enumerate(values)]


def hostile_fit(fit):
    """The fit with hostile group labels, factor levels, spec name/description and notes."""
    from capmodel.fitting.fit import Fit

    data = fit.data
    post = fit.posterior
    regions = _relabel(data["level__region"].values, REGIONS)
    operators = _relabel(data["level__operator"].values, {0: OPERATOR})
    csp = [CSP_LEVEL[1] if str(v) == CSP_LEVEL[0] else str(v) for v in data["level__csp"].values]
    data = data.assign_coords(level__region=regions, level__operator=operators, level__csp=csp)

    def term(t: str) -> str:
        return str(t).replace(f"csp[{CSP_LEVEL[0]}]", f"csp[{CSP_LEVEL[1]}]")

    post = post.assign_coords(
        region=regions,
        operator=operators,
        conversion_term=[term(t) for t in post["conversion_term"].values],
        capability_term=[term(t) for t in post["capability_term"].values],
        realisation_term=[term(t) for t in post["realisation_term"].values],
    )
    idata = xr.DataTree.from_dict(
        {"posterior": post, "sample_stats": fit.idata["sample_stats"].dataset, "data": data}
    )
    spec = dataclasses.replace(
        fit.spec,
        name=f"capability {XSS}",
        description='Zürich "é" <b>bold</b> & more',
        source={**fit.spec.source, "description": f"spec {XSS}"},
    )
    manifest = copy.deepcopy(fit.manifest)
    manifest["data"]["warnings"] = [*manifest["data"]["warnings"], f"warning {XSS}"]
    manifest["notes"] = [*manifest["notes"], f"note {IMG}"]
    return Fit(idata, spec, manifest)


@pytest.fixture(scope="module")
def odd_fit(small_fit):
    return hostile_fit(small_fit)


@pytest.fixture(scope="module")
def report_file(odd_fit, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "fits" / "odd"
    return report(odd_fit, out, ppc_draws=40, effect_draws=40, source=f"fits/{IMG}")


@pytest.fixture(scope="module")
def html(report_file) -> str:
    return report_file.read_text(encoding="utf-8")


def _section(html: str, sid: str) -> str:
    return html.split(f'<section id="{sid}">', 1)[1].split("</section>", 1)[0]


def test_one_self_contained_file_with_every_section(report_file, html):
    assert report_file.name == "report.html"
    assert [p.name for p in report_file.parent.iterdir()] == ["report.html"]  # no temp left
    assert report_file.stat().st_size < 5 * 2**20
    assert report_file.stat().st_mode & 0o044 == 0o044  # readable by others, like any file
    for sid in SECTIONS:
        body = _section(html, sid)
        assert re.match(r"\s*<h2>[^<]+</h2>\s*<p class=\"lead\">[^<]{20,}</p>", body), sid
        assert f'<a href="#{sid}">' in html
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html) and "@import" not in html
    assert "default-src 'none'" in html  # the CSP forbids any script and any request
    assert html.count("<svg ") == html.count('<figure class="fig">') >= 15
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "duplicate element ids (figures would share clip paths)"
    assert "90% equal-tailed" in html and "89%" not in html


def test_hostile_labels_are_shown_as_text(html):
    assert "window.__xss" in html  # the labels are there...
    for raw in (XSS, IMG, "<b>rateur", "<i>ü</i>", "<b>bold</b>"):
        assert raw not in html  # ...but never as markup
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html
    assert "Opé&lt;b&gt;rateur&lt;/b&gt;" in html
    assert "Zürich" in html and "Réunion" in html  # UTF-8, not mangled
    assert "cost $x$ région" in html  # '$' is not read as mathtext
    groups = _section(html, "groups")
    assert "&lt;img src=x onerror=" in groups  # in the figures and in the tables
    assert "&#34;Alpes&#34;" in groups or "&quot;Alpes&quot;" in groups


def test_intervals_are_the_stated_90_percent_equal_tailed(small_fit, html):
    x = small_fit.posterior["support_effect"].sel(support="information").values.ravel()
    iv = interval("information", x)
    assert intervals.ci_prob() == 0.9 and intervals.ci_kind() == "eti"
    assert [iv.lo, iv.hi] == pytest.approx(np.quantile(x, [0.05, 0.95]), rel=1e-12)
    with az.rc_context({"stats.ci_prob": 0.5}):  # one setting: ArviZ's rcParams
        half = interval("information", x)
        assert [half.lo, half.hi] == pytest.approx(np.quantile(x, [0.25, 0.75]), rel=1e-12)
        assert "50% equal-tailed" in build_page(small_fit, include=("capability",)).interval_note
    with az.rc_context({"stats.ci_kind": "hdi"}):
        hdi = interval("information", x)
        assert hdi.hi - hdi.lo <= iv.hi - iv.lo + 1e-12
    row = f"<td>information</td><td>{iv.mean:.2f}</td><td>{iv.lo:.2f}</td><td>{iv.hi:.2f}</td>"
    assert row in _section(html, "capability")


def test_convergence_and_run_sections_say_what_the_manifest_says(small_fit, html):
    d = small_fit.diagnostics
    conv = _section(html, "convergence")
    assert f"Verdict: {d.verdict.upper()}" in conv
    assert f"{d.max_rhat:.3f}" in conv and f"{d.divergences} of {d.n_draws}" in conv
    assert conv.count("<svg ") == 2  # rank plots, energy plot
    run = _section(html, "run")
    assert small_fit.manifest["data"]["hash"] in run
    assert f"<td>seed</td><td>{small_fit.manifest['settings']['seed']}</td>" in run
    assert "<details><summary>Model spec (TOML)</summary>" in run
    assert ('class="banner fail"' in html) == (d.verdict == "fail")


def test_published_section_matches_the_published_margins(small_fit, sim, html):
    from capmodel.reference.published import margin_table

    pub = _section(html, "published")
    expected = margin_table(sim.survey)
    expected = expected[expected["table"] == "Q9 change since the CEP"].set_index("item")
    for item in ("no change", "training", "sector_change"):
        w = expected.loc[item, "weighted"]
        p = expected.loc[item, "published"]
        cells = re.search(
            rf"<td>{item}</td><td>{100 * p:.1f}</td><td>[\d.]+</td>"
            rf"<td>([\d.]+)</td><td>([\d.]+)</td><td>([\d.]+)–([\d.]+)</td>",
            pub,
        )
        assert cells, item
        assert float(cells[1]) == pytest.approx(100 * w, abs=0.051)
        assert float(cells[3]) <= float(cells[2]) <= float(cells[4])
    assert "Q13 usefulness: very" in pub  # not in the fitted data: listed as such


def test_decoded_data_reproduce_the_survey(small_fit, sim):
    frame = decode_frame(small_fit.data)
    rows = small_fit.data["row"].values - 1
    survey = sim.survey.iloc[rows].reset_index(drop=True)
    for col in (
        "operator",
        "region",
        "csp",
        "training",
        "information",
        "cap_orientation",
        "weight",
        "months_since_exit",
    ):
        left, right = frame[col].to_numpy(), survey[col].to_numpy()
        if left.dtype.kind == "f":
            np.testing.assert_allclose(left, right.astype(float))
        else:
            assert [str(v) for v in left] == [str(v) for v in right], col
    table = find_table(frame)
    assert table is not None and table.name == "cep2021"
    assert find_table(frame.drop(columns=["training"])) is None
    rows, missing, _ = margin_rows(frame, table, "weight", "months_since_exit")
    assert set(rows["item"]) >= {"no change", "training"} and missing


def test_effects_section_shows_what_capmodel_effects_computes(odd_fit, html):
    import capmodel.effects as fx

    body = _section(html, "effects")
    for part in (
        "Total effects:",
        "Mediation:",
        "Conversion:",
        "Attribution:",
        "Pathway types",
        "Who converts each support best",
    ):
        assert part in body, part
    assert body.count("<svg ") == 5  # total, mediation, conversion, attribution, pathways
    assert "<i>ü</i>" not in body and "ü" in body  # hostile factor level, as text
    t = fx.total_effects(odd_fit, draws=40).table
    row = t[
        (t["quantity"] == "difference")
        & (t["by_variable"] == "all")
        & (t["contrast"] == "cep")
        & (t["outcome"] == "training")
    ].iloc[0]
    assert f"<td>{row['mean']:.3f}</td>" in body and f"<td>{row['upper']:.3f}</td>" in body
    pw = fx.pathways(odd_fit, draws=40).table
    assert "5. failure at a decisive test" not in body  # no failed-test column in a fit
    assert f"{pw['name'].iloc[0]}" in body


def test_a_failed_fit_is_flagged_at_the_top(small_fit, tmp_path):
    from capmodel.fitting.diagnostics import diagnose
    from capmodel.fitting.fit import Fit

    # a deliberately broken fit: 10 draws per chain (the sampled draws, cut short)
    idata = xr.DataTree.from_dict(
        {
            "posterior": small_fit.posterior.isel(draw=slice(0, 10)),
            "sample_stats": small_fit.idata["sample_stats"].dataset.isel(draw=slice(0, 10)),
            "data": small_fit.data,
        }
    )
    diag = diagnose(idata)
    manifest = copy.deepcopy(small_fit.manifest)
    manifest["diagnostics"] = {
        k: list(v) if isinstance(v, tuple) else v for k, v in diag.to_dict().items()
    }
    broken = Fit(idata, small_fit.spec, manifest)
    assert broken.diagnostics.verdict == "fail"
    path = report(broken, tmp_path / "broken.html", include=("run", "convergence"))
    html = path.read_text(encoding="utf-8")
    banner = html.index('<div class="banner fail" id="banner" role="alert">')
    assert banner < html.index("<header>") < html.index('<section id="run">')
    assert "FAILED" in html[banner : html.index("<header>")]
    assert str(escape(diag.reasons[0])) in html[banner : html.index("<header>")]
    assert '<span class="badge fail">FAIL</span>' in html


def test_cli_report_and_fit_report(saved_small_fit, small_fit, tmp_path, monkeypatch, capsys):
    from capmodel import cli
    from capmodel.report import fitreport

    real = fitreport.build_page
    monkeypatch.setattr(
        fitreport, "build_page", lambda fit, **kw: real(fit, **{**kw, "include": ("run",)})
    )
    assert cli.main(["report", str(saved_small_fit), "--ppc-draws", "5"]) == 0
    out = saved_small_fit / "report.html"
    assert f"report written to {out}" in capsys.readouterr().out
    assert '<section id="run">' in out.read_text(encoding="utf-8")
    assert capmodel.write_report(small_fit, tmp_path / "x").name == "report.html"
    with pytest.raises(ValueError, match="unknown report sections"):
        build_page(small_fit, include=("nope",))


def test_writing_is_atomic(small_fit, tmp_path, monkeypatch):
    page = build_page(small_fit, include=("run",))
    path = write(page, tmp_path / "r.html")
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write(page, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]


def test_spec_toml_round_trips(spec):
    d = spec.to_dict()
    assert tomllib.loads(dumps(d)) == _drop_none(d)
    odd = {"name": 'a "b" <c> é', "weird key": [1, 2.5, True], "t": {"x": [{"k": "v"}]}}
    assert tomllib.loads(dumps(odd)) == odd


def _drop_none(v):
    if isinstance(v, dict):
        return {k: _drop_none(x) for k, x in v.items() if x is not None}
    if isinstance(v, list | tuple):
        return [_drop_none(x) for x in v if x is not None]
    return v


def test_model_graph_escapes_column_names():
    s = Structure(
        supports=(XSS, "reflection"),
        conversion=((XSS, ("caté$gory",)),),
        capability_covariates=("sex",),
        indicators=(IMG,),
        realisations=("training",),
        direct_effects=(XSS,),
        realisation_covariates=("sex",),
        groups=("région",),
        groups_in=("capability", "realisations"),
        latent=True,
        time=True,
    )
    svg = str(model_graph(s))
    assert "<script" not in svg and "<img" not in svg
    assert "&lt;script&gt;" in svg and "caté$gory" in svg and "région" in svg
    from xml.etree import ElementTree

    ElementTree.fromstring(svg)  # well-formed


def test_arviz_figures_are_self_contained_escaped_svg():
    """The figures drawn by arviz_plots (rank, energy, comparison) come out as inline SVG like
    capmodel's own: text kept as escaped text, no script, no reference to anything outside,
    and no figure left open in pyplot."""
    from xml.etree import ElementTree

    from matplotlib import pyplot

    from capmodel.report import figures

    rng = np.random.default_rng(0)
    open_before = pyplot.get_fignums()
    ranks = figures.rank_plot(
        [
            (f"region_effect[{IMG}]", rng.normal(size=(2, 600))),
            (f"beta[{XSS}]", rng.normal(size=(2, 600)) + [[0.0], [1.0]]),  # chains disagree
            ("cost $x$ région", rng.normal(size=(2, 600))),
        ]
    )
    energy = figures.energy_plot(rng.normal(size=(2, 600)).cumsum(axis=1), 0.3)
    relative = figures.compare_plot(
        [f"small {IMG}", "cost $x$"], [-100.0, -110.0], [5.0, 5.0], [0.0, -10.0], [0.0, 3.0]
    )
    absolute = figures.compare_plot(
        ["a", XSS], [-100.0, -110.0], [5.0, 5.0], [float("nan")] * 2, [float("nan")] * 2
    )
    for svg in map(str, (ranks, energy, relative, absolute)):
        assert svg.startswith('<svg role="img" ')
        ElementTree.fromstring(svg)  # well-formed
        assert "<script" not in svg.lower() and "<img" not in svg and "<text" in svg
        assert set(re.findall(r"https?://[^\s\"'<>]+", svg)) <= {
            "http://www.w3.org/2000/svg",
            "http://www.w3.org/1999/xlink",
        }
        assert "<image" not in svg and not re.search(r"""href="(?!#)""", svg)
    assert "&lt;img src=x onerror=" in ranks and "&lt;script&gt;" in ranks
    assert "cost $x$ région" in ranks  # '$' is not read as mathtext
    assert "BFMI" in energy
    assert "&lt;img src=x onerror=" in relative and "cost $x$" in relative
    assert "&lt;script&gt;" in absolute
    assert pyplot.get_fignums() == open_before  # ArviZ's pyplot figures are closed


def test_divergence_table_finds_the_parameter_that_differs():
    rng = np.random.default_rng(0)
    div = rng.random((2, 200)) < 0.1
    a = rng.normal(size=(2, 200))
    b = rng.normal(size=(2, 200, 3))
    b[..., 1] += 3 * div
    post = xr.Dataset(
        {"a": (("chain", "draw"), a), "b": (("chain", "draw", "g"), b)},
        coords={"g": ["x", "y <z>", "w"]},
    )
    table = divergence_table(post, div)
    assert table.loc[0, "parameter"] == "b[y <z>]"
    assert table.loc[0, "difference_sd"] > 1.5
    assert divergence_table(post, np.zeros((2, 200), bool)).empty


def test_render_escapes_every_block_kind():
    from markupsafe import Markup

    from capmodel.report.blocks import Details, Figure, Items, Page, Section, Table, Text

    sec = Section(
        XSS,
        XSS,
        XSS,
        [
            Text(XSS),
            Items([XSS]),
            Figure(Markup("<svg></svg>"), XSS),
            Table([XSS], [[XSS]], caption=XSS),
            Details(XSS, text=XSS, blocks=[Text(IMG)]),
        ],
    )
    page = Page(
        XSS,
        [XSS],
        [sec],
        verdict="warn",
        banner=XSS,
        banner_items=[XSS],
        interval_note=XSS,
        footer=XSS,
    )
    html = render(page)
    assert "<script" not in html and "<img" not in html
    assert html.count("&lt;script&gt;") >= 14


# ------------------------------------------------------------------------------- browser
def _browser_or_skip():
    # .ci/run installs chromium and sets CAPMODEL_REQUIRE_BROWSER=1: there, a missing browser
    # is a failure, not a skip
    if os.environ.get("CAPMODEL_REQUIRE_BROWSER") == "1":
        assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing: .ci/run should have installed it"
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"Chromium not installed at {CHROMIUM} (apt-get install -y chromium; "
            ".ci/run installs it)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright not installed (pip install -e '.[dev]')")
    return sync_playwright


def test_report_in_headless_chromium(report_file):
    sync_playwright = _browser_or_skip()
    errors, requests = [], []
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shot = artifacts / "report.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report_file.as_uri(), wait_until="load")
            assert errors == []
            assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
            assert requests == [report_file.as_uri()]
            anchors = page.eval_on_selector_all("nav a", "els => els.map(e => e.hash.slice(1))")
            assert anchors == list(SECTIONS)
            for sid in anchors:
                assert page.evaluate(f"document.getElementById('{sid}') !== null"), sid
            sizes = page.eval_on_selector_all(
                "figure.fig svg",
                "els => els.map(e => { const r = e.getBoundingClientRect();"
                " return [r.width, r.height]; })",
            )
            assert len(sizes) >= 15 and all(w > 50 and h > 50 for w, h in sizes), sizes
            assert page.evaluate("window.__xss === undefined")
            assert XSS in page.inner_text("nav + *, main") or XSS in page.inner_text("body")
            assert page.locator("text=Verdict:").first.is_visible()
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")


def test_a_model_without_latent_capability(small_fit):
    from capmodel.fitting.fit import Fit

    spec = dataclasses.replace(small_fit.spec, latent=False, indicators=())
    keep = [
        v
        for v in small_fit.posterior.data_vars
        if v.startswith("realisation") or v == "direct_effect"
    ]
    idata = xr.DataTree.from_dict(
        {
            "posterior": small_fit.posterior[keep],
            "sample_stats": small_fit.idata["sample_stats"].dataset,
            "data": small_fit.data,
        }
    )
    page = build_page(
        Fit(idata, spec, small_fit.manifest),
        effect_draws=20,
        include=("model", "measurement", "capability", "realisations", "groups", "effects"),
    )
    html = render(page)
    assert "no latent capability, hence no measurement" in html
    assert "capability\n(latent)" not in html and "direct effects of supports" in html
    assert _section(html, "realisations").count("<svg ") == 2  # direct effects, factors
    effects = _section(html, "effects")
    assert "Total effects:" in effects and "Attribution:" in effects  # direct effects only
    assert effects.count("<svg ") == 2
    for part in ("mediation", "conversion", "pathway types"):
        assert f"{part}: " in effects and "no latent capability" in effects, part
    groups = _section(html, "groups")
    assert "region: effect on each realisation" in groups
    assert "effect on capability" not in groups


def test_report_and_verdict_show_arviz_numbers(small_fit):
    """Every R-hat and ESS of the report's convergence table is az.summary's for the same
    parameter, and the verdict's minima are those of the same table (one source)."""
    import arviz as az

    from capmodel.fitting.diagnostics import diagnose
    from capmodel.report.convergence import parameter_table

    post = small_fit.posterior
    table = parameter_table(post).set_index("parameter")
    ref = az.summary(small_fit.idata, kind="diagnostics", round_to="none")
    ref = ref.loc[table.index]
    np.testing.assert_allclose(table["rhat"], ref["r_hat"], rtol=1e-12)
    np.testing.assert_allclose(table["ess_bulk"], ref["ess_bulk"], rtol=1e-12)
    np.testing.assert_allclose(table["ess_tail"], ref["ess_tail"], rtol=1e-12)
    d = diagnose(small_fit.idata)
    if not any("person" in post[v].dims for v in post.data_vars):
        assert d.min_ess_tail == pytest.approx(table["ess_tail"].min(), rel=1e-12)
        assert d.max_rhat == pytest.approx(table["rhat"].max(), rel=1e-12)


def test_report_links_sbc_studies_of_its_spec_beside_it(small_fit, tmp_path):
    """An SBC study of the same spec in a folder beside the fit's (as `capmodel sbc SPEC --out
    FITS/sbc` writes it) is linked from the convergence section with its verdict; a study of
    another spec, a folder without a page, and a grid are not; names are escaped."""
    import json

    from capmodel.report.calibration import sbc_studies

    fits = tmp_path / "fits"
    name = small_fit.spec.name

    def study(folder: str, settings: dict, summary: dict | None, page: bool = True) -> None:
        d = fits / folder
        d.mkdir(parents=True)
        (d / "study.json").write_text(json.dumps(settings))
        if summary is not None:
            (d / "summary.json").write_text(json.dumps(summary))
        if page:
            (d / "sbc.html").write_text("<html></html>")

    summary = {"verdict": "pass", "finished": 200, "reps": 200, "estimands": 535}
    summary |= {"estimands_failing": [], "family_wise_level": 0.01}
    study("sbc<1>", {"kind": "sbc", "spec_name": name}, summary)
    study("sbc-other", {"kind": "sbc", "spec_name": name + "x"}, summary)
    study("sbc-no-page", {"kind": "sbc", "spec_name": name}, summary, page=False)
    study("grid", {"kind": "grid", "spec_name": name}, None)
    study("sbc-running", {"kind": "sbc", "spec_name": name}, None)
    (fits / "sbc-running" / "summary.json").write_text("{half written")  # read as no summary
    study("broken", {}, None)
    (fits / "broken" / "study.json").write_text("not json")  # not a study: ignored
    links = sbc_studies(fits / "fit" / "report.html", name)
    assert [(x.name, x.href) for x in links] == [
        ("sbc-running", "../sbc-running/sbc.html"),
        ("sbc<1>", "../sbc<1>/sbc.html"),
    ]
    out = report(small_fit, fits / "fit", include=("convergence",))
    conv = _section(out.read_text(encoding="utf-8"), "convergence")
    assert 'href="../sbc&lt;1&gt;/sbc.html"' in conv and "sbc<1>" not in conv
    assert "verdict PASS: 200 of 200 replicates finished, 0 of 535 estimands failing" in conv
    assert "sbc-running</a> (no summary yet)" in conv and "sbc-other" not in conv
