"""The inputs of a fit read and checked before any sampling: the data validated against the
spec's schema, then the design and the PyMC model built (``capmodel validate`` stops there)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from capmodel.data import Data, encode, read_table, validate
from capmodel.model import BuiltModel, build_design, build_model
from capmodel.model.design import Design
from capmodel.spec import Spec, load_spec


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def checked_data(
    data: Data | pd.DataFrame | str | Path, spec: Spec, say: Callable[[str], None] = _stderr
) -> Data:
    """``data`` read, validated and encoded as :func:`capmodel.data.load_data` does, saying
    how long each step took and each of the validator's warnings (``say``: one line each)."""
    if isinstance(data, Data):
        ds = data.dataset
        say(
            f"data {int(ds.attrs['n_persons']):,} persons, {int(ds.attrs['n_rows']):,} rows "
            "(validated before)"
        )
    else:
        t0 = time.perf_counter()
        frame = read_table(data, schema=spec.schema)
        what = "DataFrame" if isinstance(data, pd.DataFrame) else str(data)
        say(f"read {time.perf_counter() - t0:.1f} s ({what}: {len(frame):,} rows)")
        t0 = time.perf_counter()
        validated = validate(frame, spec.schema)
        data = Data(validated=validated, dataset=encode(validated))
        ds = data.dataset
        dropped = int(ds.attrs.get("dropped_rows", 0))
        say(
            f"validate {time.perf_counter() - t0:.1f} s ({int(ds.attrs['n_persons']):,} "
            f"persons, {int(ds.attrs['n_rows']):,} rows"
            + (f", {dropped:,} rows dropped" if dropped else "")
            + ")"
        )
    for w in data.validated.warnings:
        say(f"warning: {w}")
    return data


def check_inputs(
    spec: Spec | str | Path,
    data: Data | pd.DataFrame | str | Path,
    say: Callable[[str], None] = _stderr,
) -> tuple[Spec, Data, Design, BuiltModel]:
    """Everything :func:`capmodel.fit` does before sampling, with the same messages: the spec
    loaded, the data read and validated against its schema, the design and the PyMC model
    built (not compiled). Raises on the first input that is wrong."""
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    checked = checked_data(data, spec, say)
    design = build_design(spec, checked)
    return spec, checked, design, build_model(spec, design)
