"""Fits shared by the validation studies (recovery_study.py, effects_study.py).

Both studies fit the reference model to the same simulated cep2021 surveys. With ``--fits DIR``
each fit is saved under DIR (``seed<N>``) and reused by the next study when the saved fit is of
the same spec, settings and data (its manifest's data hash is compared with the simulated
survey's), so the two studies cost one set of fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from capmodel.data import load_data
from capmodel.fitting import Fit, fit, load_fit
from capmodel.simulate import Simulated, simulate
from capmodel.spec import Spec


@dataclass
class StudyFit:
    sim: Simulated
    fit: Fit
    seconds: float  # compile + sampling, from the manifest (also for a reused fit)
    reused: bool


def _same_fit(f: Fit, spec: Spec, data_hash: str, settings: dict) -> bool:
    m = f.manifest
    return (
        m["data"]["hash"] == data_hash
        and m["spec"] == spec.to_dict()
        and all(m["settings"][k] == v for k, v in settings.items() if v is not None)
    )


def study_fit(
    spec: Spec,
    seed: int,
    *,
    n_population: int | None,
    draws: int | None,
    tune: int | None,
    fits_dir: Path | None,
    scenario: str = "cep2021",
    sampler_seed: int | None = None,
) -> StudyFit:
    """Simulate ``scenario`` with ``seed`` and fit ``spec`` (sampler seed = ``seed``), or reuse
    the fit saved under ``fits_dir/seed<seed>`` if it matches (same data hash, so a fit of
    another scenario is never reused). ``sampler_seed``: another seed for the sampler than the
    simulator's."""
    sim = simulate(scenario, seed=seed, n_population=n_population)
    data = load_data(sim.survey, spec.schema)
    settings = {
        "seed": seed if sampler_seed is None else sampler_seed,
        "draws": draws or spec.sampling.draws,
        "tune": tune or spec.sampling.tune,
    }
    target = fits_dir / f"seed{seed}" if fits_dir else None
    if target is not None and target.is_dir():
        old = load_fit(target)
        if _same_fit(old, spec, data.dataset.attrs["data_hash"], settings):
            t = old.manifest["timings"]
            print(f"seed {seed}: reusing the fit saved in {target}", flush=True)
            return StudyFit(sim, old, t["compile_seconds"] + t["sampling_seconds"], True)
    f = fit(
        spec,
        data,
        seed=settings["seed"],
        draws=draws,
        tune=tune,
        progressbar=False,
        verbose=False,
    )
    if target is not None:
        f.save(target, overwrite=True)
    t = f.manifest["timings"]
    return StudyFit(sim, f, t["compile_seconds"] + t["sampling_seconds"], False)


def command_tail(args) -> str:
    """The options shared by the studies, as they were given (for the 'Command:' line)."""
    return (
        (f" --scenario {args.scenario}" if args.scenario != "cep2021" else "")
        + (f" --n-population {args.n_population}" if args.n_population else "")
        + (f" --draws {args.draws}" if args.draws else "")
        + (f" --tune {args.tune}" if args.tune else "")
    )


def add_common_options(p) -> None:
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument(
        "--scenario",
        default="cep2021",
        help="simulator scenario (capmodel.simulate.scenarios; default cep2021)",
    )
    p.add_argument("--n-population", type=int, default=None, help="default: 197,074 (full)")
    p.add_argument("--draws", type=int, default=None, help="default: the spec's")
    p.add_argument("--tune", type=int, default=None, help="default: the spec's")
    p.add_argument("--spec", default="models/capability.toml")
    p.add_argument(
        "--fits",
        type=Path,
        default=None,
        help="save each fit here (seed<N>) and reuse matching saved fits",
    )


def replace_block(path: Path, marker: str, text: str) -> None:
    """Replace what lies between <!-- MARKER:start --> and <!-- MARKER:end --> in ``path``."""
    import re

    doc = path.read_text(encoding="utf-8")
    block = f"<!-- {marker}:start -->\n{text}\n<!-- {marker}:end -->"
    new, n = re.subn(
        rf"<!-- {marker}:start -->.*?<!-- {marker}:end -->", lambda _: block, doc, flags=re.S
    )
    if n != 1:
        raise SystemExit(f"{path}: no <!-- {marker}:start/end --> block")
    path.write_text(new, encoding="utf-8")
