"""Validation oracles: the simulator's true effects, parameter recovery, simulation from a
spec's own model, and the calibration table (docs/validation.md). They sit above the fitting
and effects layers, which they check; nothing in capmodel's flow imports them."""
