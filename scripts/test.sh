#!/usr/bin/env bash
# The project's test command (README, .ci/run): system deps, format, lint,
# then the whole workspace's tests. `cargo test` runs last so its closing
# lines are the last thing printed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-test-deps.sh

echo "==> cargo fmt --all -- --check"
cargo fmt --all -- --check

echo "==> cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

echo "==> cargo test --workspace"
exec cargo test --workspace
