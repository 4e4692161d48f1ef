# Kushim: `make run` starts everything on loopback; `make test` runs the whole suite.
PYTHON_BIN ?= python3.11
VENV       := .venv
PY         := $(VENV)/bin/python
INSTALLED  := $(VENV)/.installed
STUBS      := gen/.stamp
PROTOS     := $(wildcard protos/kushim/*/v1/*.proto)

.PHONY: run test bench chaos lint migrate stubs venv clean

run: $(STUBS)
	$(PY) -m devstack run

test: $(STUBS)
	$(PY) -m devstack test

bench: $(STUBS) $(VENV)/.bench-installed
	$(PY) -m bench

chaos: $(STUBS)
	$(PY) -m chaos

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
