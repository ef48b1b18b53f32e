#!/usr/bin/env bash
# Sets up the machine, then runs every test: unit tests, the protocol tests
# against the simulator, and the GUI tests in a real window under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
export RUST_BACKTRACE=1
# The sandbox feature is what lets the client talk to the local simulator;
# GUI tests need an X display, so everything runs under xvfb-run.
xvfb-run -a cargo test --workspace --features roster/sandbox,roster-core/sandbox --no-fail-fast "$@"
# A default build verifies WhatsApp's certificate chain: prove it refuses
# the simulator (a second build of the client without the sandbox feature).
cargo test -p roster-core --test cert_refusal "$@"
