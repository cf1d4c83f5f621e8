"""The capmodel demo, as a script to copy: simulate the CEP survey, fit the reference
capability model, save the fit, and print what a statistician looks at first.

Run from the repository root:  .venv/bin/python fits/demo.py   (or `make demo`)
Outputs go to fits/demo/ (git-ignored).
"""

from pathlib import Path

import capmodel
from capmodel.data import load_data
from capmodel.simulate import simulate

OUT = Path("fits/demo")

# 1. Data: the simulated cep2021 scenario (population, 6-month survey, known truth).
#    With real data, skip this step and point load_data at your CSV/Parquet file.
sim = simulate("cep2021", seed=1)
sim.write(OUT / "data", overwrite=True)

# 2. The model: a TOML spec (roles of the columns, structure, priors, sampler settings).
spec = capmodel.load_spec("models/capability.toml")

# 3. Validate and encode the data against the spec's schema (clear errors on bad data).
data = load_data(OUT / "data" / "survey.parquet", spec.schema)

# 4. Fit by NUTS (nutpie). Prints timings and a convergence verdict with its reasons.
fit = capmodel.fit(spec, data)

# 5. Save (netCDF + manifest.json, atomically) and reload without pickle.
fit.save(OUT / "capability", overwrite=True)
fit = capmodel.load(OUT / "capability")

# 6. Look: support effects on capability (90% equal-tailed intervals) next to the truth.
print(fit.summary(["support_effect", "capability_loading"]))
print("true support effects:", sim.params["capability"]["support_effect"])
