# capmodel: `make demo` and `make test` are the two set-up commands (see README.md).
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SEED   ?= 1
OUT    ?= fits/demo

.PHONY: demo test test-fast lint env calibration-table bench bench-brms-deps bench-brms clean

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

## test: lint (ruff check and format, the layering contracts, the mypy type check) + the test suite
## (two pytest-xdist workers: 403 s against 557 s in one process on 2 cores, 2026-12-01)
test: $(STAMP)
	$(PY) -m ruff check capmodel tests benchmarks fits
	$(PY) -m ruff format --check capmodel tests benchmarks fits
	$(VENV)/bin/lint-imports
	$(PY) -m mypy
	$(PY) -m pytest -q -n 2

## test-fast: lint + every test that runs no NUTS fit (under a minute)
test-fast: $(STAMP)
	$(PY) -m ruff check capmodel tests benchmarks fits
	$(PY) -m ruff format --check capmodel tests benchmarks fits
	$(VENV)/bin/lint-imports
	$(PY) -m mypy
	$(PY) -m pytest -q -n 2 -m "not slow"

lint: $(STAMP)
	$(PY) -m ruff check capmodel tests benchmarks fits
	$(PY) -m ruff format --check capmodel tests benchmarks fits
	$(VENV)/bin/lint-imports
	$(PY) -m mypy

## calibration-table: rewrite the target-vs-simulated table in docs/data.md
calibration-table: $(STAMP)
	$(PY) -m capmodel.validation.calibration_table --seeds 1 2 3 --write docs/data.md

## bench: the measurements behind docs/benchmarks.md, each written to its own file under
## docs/bench/ with its command, machine and versions (hours on 2 cores; BENCH_SEEDS and
## BENCH_REPEAT make it shorter): the reference fit with nutpie (the previous default) and
## numpyro (the default: float32 where safe) on each seed, cold caches, medians of BENCH_REPEAT
## runs, and numpyro in float64; float32 against float64 (posterior agreement, energy errors);
## compile times cold, warm and on other data; one gradient's cost by backend; the scaling
## curve; then capmodel against brms (bench-brms)
BENCH_SEEDS  ?= 1 2 3 4 5
BENCH_REPEAT ?= 3
BENCH_SIZES  ?= 2000 6396 20000 60000 200000
bench: $(STAMP)
	@mkdir -p docs/bench
	$(PY) benchmarks/gradient_cost.py --backends jax c numba | tee docs/bench/gradient-cost.json
	$(PY) benchmarks/reference_fit.py --samplers nutpie numpyro --seeds $(BENCH_SEEDS) \
	    --repeat $(BENCH_REPEAT) --cold --out docs/bench/reference-fit.md
	$(PY) benchmarks/reference_fit.py --samplers numpyro --seeds $(BENCH_SEEDS) \
	    --repeat $(BENCH_REPEAT) --cold --set sampling.precision=float64 \
	    --out docs/bench/reference-fit-float64.md
	$(PY) benchmarks/float32_check.py --seeds 1 2 3 --baseline 1 --fits fits/bench-float32 \
	    | tee docs/bench/float32.md
	$(PY) benchmarks/compile_cache.py --samplers numpyro nutpie pymc --n-population 197074 \
	    --warm-runs 3 | tee docs/bench/compile-cache.md
	$(PY) benchmarks/scaling.py --n $(BENCH_SIZES) --fit-up-to 20000 --out docs/bench/scaling.md
	$(MAKE) bench-brms

## bench-brms-deps: install R, brms and rstan from Debian (apt-get, needs root or sudo); does
## nothing when library(brms) already loads (tools/install-brms.sh)
bench-brms-deps:
	tools/install-brms.sh $(BRMS_DEPS_FLAGS)

## bench-brms: capmodel and brms on models/realisations.toml, same simulated data, same run;
## writes docs/benchmarks-brms.md (1-2 hours on 2 cores, nearly all of it brms's sampling)
## (where R cannot be installed, the script says that brms was skipped and make succeeds)
bench-brms: BRMS_DEPS_FLAGS = --optional
bench-brms: $(STAMP) bench-brms-deps
	$(PY) benchmarks/brms_compare.py --seed $(SEED) --out docs/benchmarks-brms.md

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache
