# vqimage: `make demo`, `make test`, `make coverage`, `make bench`, `make docs`. Each creates .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The raccoon face (scipy.datasets.face) is downloaded by pooch on first use.
# Offline, seed a project-local pooch cache from a copy of face.dat when one is
# at FACE_DAT (see ../shared/data/README.md); otherwise the demo falls back to
# `camera` and the face-specific tests skip.
FACE_DAT ?= ../shared/data/face.dat
FACE_ENV  = $(if $(wildcard $(FACE_DAT)),XDG_CACHE_HOME=$(CURDIR)/.cache VQIMAGE_FACE_DAT=$(abspath $(FACE_DAT)),)

.PHONY: demo test fuzz coverage bench docs clean

# pip builds the compiled kernels (Cython, see setup.py) in an isolated build environment that it
# fills from pyproject.toml's [build-system]; a changed .pyx rebuilds on the next make.
KERNELS := $(wildcard src/vqimage/*.pyx src/vqimage/*/*.pyx)

$(VENV)/.installed: pyproject.toml setup.py $(KERNELS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

.cache/scipy-data/face.dat:
	@if [ -f "$(FACE_DAT)" ]; then mkdir -p .cache/scipy-data && cp "$(FACE_DAT)" $@; fi

demo: $(VENV)/.installed .cache/scipy-data/face.dat
	$(FACE_ENV) $(BIN)/vqimage demo -o demo-output --force

test: $(VENV)/.installed
	$(FACE_ENV) $(BIN)/python -m pytest

# A longer fuzzing run of the two readers of untrusted bytes (tests/test_fuzz.py: the .vq decoder and
# the image loaders, each in a child process limited to 2 GiB of address space): VQIMAGE_FUZZ_EXAMPLES
# mutated inputs per reader (`make test` runs 1500, derandomized, in about 20 s) from a new random seed, which the
# report prints (VQIMAGE_FUZZ_SEED=<int> repeats a run). A failure keeps the shrunk input; add it to tests/data/fuzz/, where every
# `make test` replays it.
VQIMAGE_FUZZ_EXAMPLES ?= 20000
fuzz: $(VENV)/.installed
	VQIMAGE_FUZZ_EXAMPLES=$(VQIMAGE_FUZZ_EXAMPLES) $(BIN)/python -m pytest -p no:cacheprovider -s -rxX \
		tests/test_fuzz.py::test_fuzz

# Line and branch coverage of src/vqimage ([tool.coverage.*] in pyproject.toml), missing lines listed,
# also when a test fails (the exit status is pytest's).
# `coverage run -m pytest`, not pytest-cov: pytest's FitWarning filter imports vqimage before a plugin
# starts. Only this process is measured (CLI runs in subprocesses are not), and compiled kernels
# (.pyx) are invisible to coverage. `$(BIN)/coverage html` then writes htmlcov/.
coverage: $(VENV)/.installed
	$(FACE_ENV) $(BIN)/python -m coverage run -m pytest; status=$$?; $(BIN)/python -m coverage report; exit $$status

# The color peers: libimagequant through the `imagequant` binding (GPL, benchmark-only extra)
# and Debian's pngquant when it is installed (`apt-get install pngquant`; otherwise its
# column reads n/a).
bench: $(VENV)/.installed .cache/scipy-data/face.dat
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	@command -v pngquant >/dev/null || echo "note: pngquant is not installed (apt-get install pngquant); its column will read n/a"
	@command -v butteraugli >/dev/null || echo "note: butteraugli is not installed (apt-get install butteraugli); part 10's butteraugli scores will read n/a"
	$(FACE_ENV) $(BIN)/python -m benchmarks.run

# The documentation (docs/): Sphinx + sphinx-gallery + numpydoc, offline, warnings are errors; the
# gallery's examples run during the build. Then tests/test_docs.py checks the built site (every local
# link and image exists; Chromium, when installed, renders two pages to non-blank screenshots).
# Open docs/_build/html/index.html. Incremental: only changed examples run again.
$(VENV)/.docs-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[docs]'
	touch $@

docs: $(VENV)/.docs-installed .cache/scipy-data/face.dat
	$(FACE_ENV) VQIMAGE_OFFLINE=1 $(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html
	$(FACE_ENV) VQIMAGE_DOCS=1 $(BIN)/python -m pytest -p no:cacheprovider tests/test_docs.py

clean:
	rm -rf $(VENV) .cache demo-output .pytest_cache .hypothesis build docs/_build docs/auto_examples docs/generated .coverage htmlcov
	find src -name '*.so' -delete -o -name '*.c' -delete
