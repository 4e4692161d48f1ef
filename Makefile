# Kushim: `make run` starts everything on loopback; `make test` runs the whole suite.
PYTHON_BIN ?= python3.11
VENV       := .venv
PY         := $(VENV)/bin/python
INSTALLED  := $(VENV)/.installed
STUBS      := gen/.stamp
PROTOS     := $(wildcard protos/kushim/*/v1/*.proto)

.PHONY: run test bench chaos fuzz lint migrate stubs venv clean

run: $(STUBS)
	$(PY) -m devstack run

test: $(STUBS)
	$(PY) -m devstack test

bench: $(STUBS) $(VENV)/.bench-installed
	$(PY) -m bench

chaos: $(STUBS)
	$(PY) -m chaos

# Bad input with a larger budget than make test's (FUZZ_EXAMPLES=1); the summary line and
# bench/results/fuzz-<UTC>.json say what was tried and answered.
FUZZ_EXAMPLES ?= 10
fuzz: $(STUBS)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m devstack test -- -q tests/integration/api/test_fuzz.py \
		tests/integration/api/test_schemathesis.py tests/unit/api/test_webhook_properties.py \
		tests/unit/graph/test_references_adversarial.py

# the bench extra (matplotlib, for the chart) only where make bench runs
$(VENV)/.bench-installed: $(INSTALLED)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev,bench]'
	@touch $@

lint: $(STUBS)
	$(VENV)/bin/ruff check .

migrate: $(STUBS)
	$(PY) -m kushim_graph.migrate

venv: $(INSTALLED)
stubs: $(STUBS)

$(INSTALLED): pyproject.toml
	@test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@# generated stubs live in gen/; the venv finds them through a .pth file
	@echo "$(CURDIR)/gen" > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/kushim_gen.pth"
	@touch $@

$(STUBS): $(INSTALLED) $(PROTOS)
	@rm -rf gen && mkdir -p gen
	$(PY) -m grpc_tools.protoc -I protos --python_out=gen --grpc_python_out=gen --pyi_out=gen $(PROTOS)
	@touch $@

clean:
	rm -rf gen $(VENV)
