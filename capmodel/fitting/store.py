"""Saving and loading fits: netCDF (the DataTree) + a JSON manifest, written atomically.

Layout of a fit directory::

    fit.nc          the DataTree: posterior, sample_stats, observed_data, data (h5netcdf)
    manifest.json   spec, data hash, schema, seed, versions, settings, timings, diagnostics,
                    and the sha256 of fit.nc (checked on load: a modified or truncated file
                    is refused)

No pickle anywhere: a fit loads with xarray and json only. ``fit.nc`` opens with plain
``az.from_netcdf`` and ``xr.open_datatree`` at their defaults: a ``units`` attribute that CF
decoding would read as a time (``months since exit`` on the wave) is stored as
``capmodel_units`` and put back on load.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xarray as xr

from capmodel.atomic import atomic_directory, sha256_file
from capmodel.spec import Spec, spec_from_dict, spec_with

if TYPE_CHECKING:
    from capmodel.fitting.fit import Fit

FORMAT_VERSION = 1

NETCDF = "fit.nc"
MANIFEST = "manifest.json"


# a `units` attribute that xarray's CF decoding reads as a time ("<unit> since <origin>")
_CF_TIME = re.compile(r"\bsince\b", re.IGNORECASE)
_STORED_UNITS = "capmodel_units"


class FitFileError(ValueError):
    """A fit directory is missing, incomplete, modified or of an unknown format."""


def save_fit(f: Fit, path: Path, overwrite: bool = False) -> Path:
    """Write ``f`` to the directory ``path`` (temporary directory, then rename)."""
    with atomic_directory(path, overwrite=overwrite) as tmp:
        cf_safe(f.idata).to_netcdf(tmp / NETCDF, engine="h5netcdf")
        manifest = dict(f.manifest)
        manifest["files"] = {NETCDF: sha256_file(tmp / NETCDF)}
        (tmp / MANIFEST).write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8"
        )
    return path


def read_fit(path: str | Path) -> tuple[xr.DataTree, Spec, dict[str, Any]]:
    """The (idata, spec, manifest) of a fit saved by :meth:`Fit.save`
    (:func:`capmodel.fitting.load_fit` makes the :class:`Fit`); refuses a tampered, truncated
    or foreign one."""
    path = Path(path)
    if not path.is_dir():
        raise FitFileError(f"{path}: no such fit directory")
    mpath, npath = path / MANIFEST, path / NETCDF
    for p in (mpath, npath):
        if not p.is_file():
            raise FitFileError(f"{path}: incomplete fit, {p.name} is missing")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FitFileError(f"{mpath}: not a valid manifest (corrupt JSON: {exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        found = manifest.get("format_version") if isinstance(manifest, dict) else "?"
        raise FitFileError(
            f"{mpath}: unknown fit format version {found} "
            f"(this capmodel reads version {FORMAT_VERSION})"
        )
    expected = manifest.get("files", {}).get(NETCDF)
    actual = sha256_file(npath)
    if expected != actual:
        raise FitFileError(
            f"{npath}: the file was modified or truncated after it was saved "
            f"(sha256 {actual[:12]}... does not match the manifest's "
            f"{str(expected)[:12]}...)"
        )
    try:
        with xr.open_datatree(
            npath, engine="h5netcdf", decode_times=False, decode_timedelta=False
        ) as tree:
            idata = restore_units(tree.load().copy())
    except Exception as exc:  # h5py/h5netcdf errors for unreadable files
        raise FitFileError(f"{npath}: cannot be read as netCDF ({exc})") from None
    spec = spec_from_dict(manifest["spec"])
    if "capability_change" not in manifest:  # saved before measurement.change existed
        spec = _as_sampled(spec, idata)
    manifest.pop("files", None)
    return idata, spec, manifest


def _as_sampled(spec: Spec, idata: xr.DataTree) -> Spec:
    """``spec`` as its fit was sampled: a posterior without capability growth comes from a
    model whose capability is the same at every wave (a fit saved before
    ``measurement.change`` existed, whose ``"auto"`` would now turn it on for panel data), so
    its model is rebuilt with ``change = false``."""
    post = idata["posterior"] if "posterior" in idata.children else None
    if (
        spec.latent
        and spec.change == "auto"
        and post is not None
        and "capability_growth_support" not in post.data_vars
    ):
        return spec_with(spec, {"measurement.change": False})
    return spec


def _move_attr(tree: xr.DataTree, old: str, new: str, only_cf_time: bool) -> xr.DataTree:
    """``tree`` with the variable attribute ``old`` renamed ``new`` wherever it is set (and
    reads as a CF time, with ``only_cf_time``); the data are shared, not copied."""
    nodes: dict[str, xr.Dataset] = {}
    changed = False
    for node in tree.subtree:
        ds = node.to_dataset(inherit=False).copy(deep=False)  # its own variables and attrs
        for name, var in ds.variables.items():
            value = var.attrs.get(old)
            if value is None or (only_cf_time and not _CF_TIME.search(str(value))):
                continue
            attrs = {k: v for k, v in var.attrs.items() if k != old}
            attrs[new] = value
            ds.variables[name].attrs = attrs
            changed = True
        nodes[node.path] = ds
    return xr.DataTree.from_dict(nodes) if changed else tree


def cf_safe(tree: xr.DataTree) -> xr.DataTree:
    """``tree`` as written to ``fit.nc``: ``units`` read as a CF time moved to
    ``capmodel_units``, so that default xarray/ArviZ decoding opens the file."""
    return _move_attr(tree, "units", _STORED_UNITS, only_cf_time=True)


def restore_units(tree: xr.DataTree) -> xr.DataTree:
    """``tree`` as it was before :func:`cf_safe` (the data hash covers the attributes)."""
    return _move_attr(tree, _STORED_UNITS, "units", only_cf_time=False)
