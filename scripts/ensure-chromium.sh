#!/usr/bin/env sh
# Make sure Debian's chromium is installed (the dashboard's browser test drives it with
# Playwright). Does nothing when `chromium` is already on PATH; otherwise installs it with
# apt-get, as root or through sudo if that works without a password. Exits 1 with a warning
# when it cannot (not Debian, no root): the browser test is then skipped locally, failed in CI.
set -eu
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: no apt-get here; install chromium yourself for the browser test" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root="sudo -n"
else
  echo "ensure-chromium: chromium is missing and installing it needs root" \
       "(sudo apt-get install chromium)" >&2
  exit 1
fi
echo "ensure-chromium: installing chromium with apt-get ..." >&2
log="${TMPDIR:-/tmp}/ensure-chromium.$$.log"
if $as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1 \
  && $as_root env DEBIAN_FRONTEND=noninteractive \
       apt-get install -y -qq --no-install-recommends chromium >>"$log" 2>&1 \
  && command -v chromium >/dev/null 2>&1; then
  rm -f "$log"
  exit 0
fi
echo "ensure-chromium: apt-get could not install chromium; its output:" >&2
cat "$log" >&2
rm -f "$log"
exit 1
