# The two commands of the README: `make run` and `make test`. Both set up .venv from scratch.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is pinned by constraints.txt so pip never resolves a newer torch with CUDA packages.
PIP := $(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt
STAMP := $(VENV)/.installed

.PHONY: run test install bench clean

$(STAMP): pyproject.toml constraints.txt
	@# The scale-out tests start a PostgreSQL server from the Debian package's binaries.
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		(apt-get install -y -qq postgresql >/dev/null 2>&1 || sudo -n apt-get install -y -qq postgresql >/dev/null 2>&1) || \
		echo "warning: PostgreSQL could not be installed (apt-get install postgresql); tests/test_scale.py will fail"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) -e '.[dev]'
	@# BoTorch's fused qLogEHVI kernel, compiled now rather than inside the first multi-objective ask.
	$(BIN)/python scripts/build_botorch_kernel.py
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/hpo demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow" --durations=15

bench: $(STAMP)
	$(BIN)/hpo bench

clean:
	rm -rf $(VENV) build *.egg-info
