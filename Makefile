# Kushim: `make run` starts everything on loopback; `make test` runs the whole suite.
PYTHON_BIN ?= python3.11
VENV       := .venv
PY         := $(VENV)/bin/python
INSTALLED  := $(VENV)/.installed
STUBS      := gen/.stamp
# Pinned Go tools (deploy/tools/install.sh, into var/tools/bin): buf, the protoc plugins of
# the Go example, ghz, and the manifest checkers; plus the Go example's modules.
GO_TOOLS   := var/tools/.installed
PROTOS     := $(wildcard protos/kushim/*/v1/*.proto)

.PHONY: run test bench chaos fuzz lint migrate stubs venv go-tools clean

run: $(STUBS)
	$(PY) -m devstack run

test: $(STUBS) $(GO_TOOLS)
	$(PY) -m devstack test

bench: $(STUBS) $(GO_TOOLS) $(VENV)/.bench-installed
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

# ruff, then buf lint and buf breaking against the main branch's protos/
lint: $(STUBS) $(GO_TOOLS)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -p no:cacheprovider tests/deploy/test_protos.py

migrate: $(STUBS)
	$(PY) -m kushim_graph.migrate

venv: $(INSTALLED)
stubs: $(STUBS)
go-tools: $(GO_TOOLS)

$(INSTALLED): pyproject.toml
	@test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@# generated stubs live in gen/; the venv finds them through a .pth file
	@echo "$(CURDIR)/gen" > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/kushim_gen.pth"
	@touch $@

$(GO_TOOLS): $(INSTALLED) deploy/tools/install.sh clients/go/go.mod
	deploy/tools/install.sh >/dev/null
	cd clients/go && go mod download
	@touch $@

$(STUBS): $(INSTALLED) $(PROTOS)
	@rm -rf gen && mkdir -p gen
	$(PY) -m grpc_tools.protoc -I protos --python_out=gen --grpc_python_out=gen --pyi_out=gen $(PROTOS)
	@touch $@

clean:
	rm -rf gen $(VENV)
