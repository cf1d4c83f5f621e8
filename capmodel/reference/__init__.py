"""Published figures of the CEP surveys that the simulator is calibrated to and the report
compares fits with (docs/data.md)."""
