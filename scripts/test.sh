#!/usr/bin/env bash
# Sets up the machine, then runs every test: unit tests, the protocol tests
# against the simulator, the GUI tests in a real window under Xvfb, and the
# default build's certificate check. Every step runs even when an earlier one
# fails; the summary at the end names each failed step, and the exit code is
# non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
export PATH="$HOME/.cargo/bin:$PATH"
export RUST_BACKTRACE=1

failed=()
step() {
  local name=$1
  shift
  echo "== test step: $name"
  local started=$SECONDS
  if "$@"; then
    echo "== test step passed: $name ($((SECONDS - started)) s)"
  else
    echo "== test step FAILED: $name ($((SECONDS - started)) s)"
    failed+=("$name")
  fi
}

# The sandbox feature is what lets the client talk to the local simulator;
# GUI tests need an X display, so everything runs under xvfb-run.
step "workspace tests" xvfb-run -a cargo test --workspace --features roster/sandbox,roster-core/sandbox \
  --no-fail-fast "$@"
# A default build verifies WhatsApp's certificate chain: prove it refuses
# the simulator (a second build of the client without the sandbox feature).
step "certificate refusal (default build)" cargo test -p roster-core --test cert_refusal "$@"
# The installable package: built (from the dev builds above, to keep CI
# short; a release package is the same script without --profile), installed
# with apt, started as an operator starts it, removed.
step "installable package" bash -c 'bash scripts/package.sh --profile dev &&
  xvfb-run -a cargo test --workspace --features roster/sandbox,roster-core/sandbox \
    --test installed_package -- --ignored'

if ((${#failed[@]})); then
  echo "== FAILED steps: ${failed[*]}"
  exit 1
fi
echo "== all test steps passed"
