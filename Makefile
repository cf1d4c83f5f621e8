# capmodel: `make demo` and `make test` are the two set-up commands (see README.md).
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SEED   ?= 1
OUT    ?= fits/demo

.PHONY: demo test lint env calibration-table clean

env: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || { BOOT=$$(tools/find-python.sh) && echo "creating $(VENV) with $$BOOT" && $$BOOT -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

## demo: simulate the cep2021 data set, fit the reference capability model, save the fit, and
## write its HTML report (a fit that fails its convergence checks still gets its report, which
## says FAILED at the top; make then exits with the fit's status)
demo: $(STAMP)
	$(PY) -m capmodel simulate --scenario cep2021 --seed $(SEED) --out $(OUT)/data --overwrite
	$(PY) -m capmodel fit models/capability.toml --data $(OUT)/data/survey.parquet \
	    --out $(OUT)/capability --overwrite; status=$$?; \
	  if [ $$status -eq 0 ] || [ $$status -eq 3 ]; then \
	    $(PY) -m capmodel report $(OUT)/capability || exit 1; fi; exit $$status

## test: lint + the test suite
test: $(STAMP)
	$(PY) -m ruff check capmodel tests benchmarks fits
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check capmodel tests benchmarks fits

## calibration-table: rewrite the target-vs-simulated table in docs/data.md
calibration-table: $(STAMP)
	$(PY) -m capmodel.simulate.calibration_table --seeds 1 2 3 --write docs/data.md

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
