#!/usr/bin/env bash
# The programs the test suite starts itself: Debian's Chromium (Playwright drives it; never
# `playwright install`), Dovecot (throwaway IMAP server), promtool and docker-compose (config
# checks). Installed with apt-get when missing and possible; otherwise said plainly.
set -euo pipefail

declare -A wanted=(
  [/usr/bin/chromium]=chromium
  [/usr/sbin/dovecot]=dovecot-imapd
  [/usr/bin/promtool]=prometheus
  [/usr/bin/docker-compose]=docker-compose
)
missing=()
for path in "${!wanted[@]}"; do
  [ -x "$path" ] || missing+=("${wanted[$path]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing test servers from Debian: ${missing[*]}…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts dovecot and prometheus as system services on install; tests run their own.
  for svc in dovecot prometheus; do
    (command -v systemctl >/dev/null && systemctl stop "$svc" 2>/dev/null) || true
    pkill -x "$svc" 2>/dev/null || true
  done
else
  echo "Missing for the tests: ${missing[*]}. Install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
