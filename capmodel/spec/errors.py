"""The error of an invalid model spec."""

from __future__ import annotations

from capmodel.data.schema import SchemaError


class SpecError(SchemaError):
    """A model spec (TOML or dict) that cannot be used: the message names the section, key and
    value, and what was expected. A subclass of :class:`~capmodel.data.schema.SchemaError`, so
    code that catches that (e.g. the CLI) catches both; a bad ``[schema]`` table inside a spec
    is a SpecError too."""
