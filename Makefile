# Two commands do everything on a machine with python3 (>= 3.11), pip and make:
#   make run    set up .venv and run the headline job on the built-in defaults
#   make test   set up .venv and pass the whole test suite, then (when a second Python is on the
#               machine) every test not marked slow or main_line under the other Python/Mesa pair:
#               mesa 3.3.1 on Python 3.11, mesa 3.5.1 on 3.12+. Slow tests are statistics on rows,
#               main_line ones what is made from rows (report, figures, guide); and
#               tests/test_cross_version.py holds the rows equal on both pairs.
PYTHON ?= python3
VENV   ?= .venv
# the other line skips cluster: its tests run on the main line only
EXTRAS ?= test,ema,cluster
PY      = $(VENV)/bin/python
# a second interpreter for the other Mesa line: the first of python3.11/3.12/3.13 (or pyenv's)
# whose minor version differs from $(PYTHON)'s and that is on one side of the 3.12 boundary
OTHER_PY ?= $(shell bash .ci/other-python "$(PYTHON)")

.PHONY: run test test-main test-other other-venv browser bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	@touch $@

run: $(VENV)/.installed
	$(VENV)/bin/guarantee-sim -m experiment=headline hydra.sweep.dir=results/headline
	$(VENV)/bin/guarantee-sim-report results/headline

# chromium and both virtual environments are set up at once (they wait on downloads and the disk,
# not the CPUs); then each line's tests have both CPUs
test:
	$(MAKE) -j3 browser $(VENV)/.installed other-venv
	$(MAKE) test-main
	$(MAKE) test-other

other-venv:
ifneq ($(strip $(OTHER_PY)),)
	$(MAKE) $(VENV)-other/.installed PYTHON="$(OTHER_PY)" VENV="$(VENV)-other" EXTRAS=test,ema
endif

# the dashboard's browser test drives Debian's chromium (playwright cannot download its own here)
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium is not installed and cannot be installed here: the browser test will be skipped"; fi

test-main: $(VENV)/.installed
	$(PY) -c "import mesa, sys; print(f'Python {sys.version.split()[0]}, mesa {mesa.__version__}')"
	$(PY) -m pytest $(PYTEST_ARGS)

test-other:
ifeq ($(strip $(OTHER_PY)),)
	@echo "No second Python (3.11 vs 3.12+) on this machine: the other Mesa line is not tested here."
else
	$(MAKE) test-main PYTHON="$(OTHER_PY)" VENV="$(VENV)-other" PYTEST_ARGS='-m "not slow and not main_line"'
endif

bench: $(VENV)/.installed
	$(PY) benchmarks/bench_model.py

clean:
	rm -rf $(VENV) $(VENV)-other .pytest_cache
