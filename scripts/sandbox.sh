#!/usr/bin/env bash
# Sets up the machine, then runs Roster against its built-in sandbox
# (a simulated WhatsApp server and phone; no real account involved).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
run=(cargo run --release -p roster --features sandbox -- --sandbox "$@")
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "sandbox: no display found; running under a virtual X server (xvfb-run)"
  exec xvfb-run -a "${run[@]}"
fi
exec "${run[@]}"
