#!/usr/bin/env bash
# The system packages the test suite needs beyond the virtualenv: Debian's chromium for the
# browser tests (Playwright cannot download a browser of its own here) and libcairo2, which
# renders the lookup page's QR code for the test that decodes it.
# As root, install what is missing; otherwise print the one command to run and stop.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# ldconfig lives in /sbin, which an ordinary user's PATH may lack.
if ! PATH="$PATH:/sbin:/usr/sbin" ldconfig -p 2>/dev/null | grep -q 'libcairo\.so\.2'; then
  missing+=(libcairo2)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

install="apt-get update -qq && apt-get install -y -qq chromium libcairo2"
if [ "$(id -u)" -ne 0 ]; then
  echo "The tests need ${missing[*]}. Install as root with:" >&2
  echo "  sudo sh -c '$install'" >&2
  exit 1
fi
echo "Installing ${missing[*]} for the tests..."
export DEBIAN_FRONTEND=noninteractive
sh -c "$install" >/dev/null
