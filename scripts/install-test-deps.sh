#!/usr/bin/env bash
# Install the system packages the Fulcrum test suite (and benches/) need.
#
# Idempotent and fast on a warm machine: packages already installed
# (per `dpkg -s`) are skipped, and `apt-get update` runs at most once, only
# when something is actually missing. Non-interactive; must run as root
# (or via sudo when available).
#
# Add packages to TEST_DEPS below (e.g. keepalived, mariadb-server).
# Extra packages can also be passed as arguments or via $EXTRA_TEST_DEPS.
set -euo pipefail

TEST_DEPS=(
    haproxy    # reference implementation, config checks (haproxy -c -f)
    wrk        # HTTP load generator (benches/)
    curl       # end-to-end checks
    iproute2   # ss, ip
    python3    # helper upstreams (examples/quickstart, tests)
    procps     # ps, pkill/pgrep for diagnostics
    util-linux # taskset
    keepalived     # fulcrum-ha interoperability tests (ha/tests/netns.rs)
    resource-agents # ocf-tester for the Pacemaker agents (etc/ocf)
    libxml2-utils  # xmllint, used by ocf-tester
)

# shellcheck disable=SC2206 # word splitting of the extra list is intended
TEST_DEPS+=(${EXTRA_TEST_DEPS:-} "$@")

export DEBIAN_FRONTEND=noninteractive

is_installed() {
    # dpkg -s exits 0 for a package in any state it knows of; make sure it
    # is really installed (not just "deinstall"/config-files).
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}

missing=()
for pkg in "${TEST_DEPS[@]}"; do
    [ -n "$pkg" ] || continue
    if ! is_installed "$pkg"; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-test-deps: all ${#TEST_DEPS[@]} packages already installed"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-test-deps: missing packages (${missing[*]}) and no apt-get; install them by hand" >&2
    exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo -n)
    else
        echo "install-test-deps: need root to install: ${missing[*]}" >&2
        exit 1
    fi
fi

echo "install-test-deps: installing ${missing[*]}"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    --no-install-recommends "${missing[@]}"
echo "install-test-deps: done"
