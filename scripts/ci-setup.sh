#!/usr/bin/env bash
# Installs what the tests need beyond the Rust toolchain, on a fresh machine: Debian's chromium,
# which the browser test of the HTML reports runs headless (crates/snowfunnel/tests/cli/browser.rs),
# and what building the `isal` feature needs (nasm and autotools: isal-rs builds ISA-L from its
# source). Installs only what is missing. Needs root and apt-get (as on CI); without them it says
# so and fails.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v nasm >/dev/null 2>&1 || missing+=(nasm)
command -v autoreconf >/dev/null 2>&1 || missing+=(autoconf)
command -v automake >/dev/null 2>&1 || missing+=(automake)
command -v libtoolize >/dev/null 2>&1 || missing+=(libtool)
command -v make >/dev/null 2>&1 || missing+=(make)
if [ ${#missing[@]} = 0 ]; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "ci-setup: installing ${missing[*]} (apt-get) for the browser test and the isal build" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if command -v chromium >/dev/null 2>&1; then chromium --version >&2; fi
else
  echo "ci-setup: ${missing[*]} missing and cannot be installed here (needs root and apt-get);" \
    "without chromium the browser test skips, without nasm and autotools the isal build fails" >&2
  exit 1
fi
