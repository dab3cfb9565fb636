#!/usr/bin/env bash
# Installs what the tests need beyond the Rust toolchain, on a fresh machine: Debian's chromium,
# which the browser test of the HTML reports runs headless (crates/snowfunnel/tests/cli/browser.rs).
# Does nothing when it is there already. Needs root and apt-get (as on CI); without them it says
# so and leaves the browser test to skip, loudly, outside CI.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "ci-setup: installing chromium (apt-get) for the browser test" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  chromium --version >&2
else
  echo "ci-setup: chromium is missing and cannot be installed here (needs root and apt-get);" \
    "the browser test will skip" >&2
  exit 1
fi
