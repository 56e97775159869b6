#!/usr/bin/env bash
# The programs the test suite starts itself: Debian's Chromium (Playwright drives it; never
# `playwright install`), Dovecot (throwaway IMAP server), promtool and docker-compose (config
# checks). Installed with apt-get when missing and possible; otherwise said plainly.
#
# With --dev-mailbox (`make run`): only Dovecot, for the development mailbox `pakn up` runs
# when PAKN_IMAP_HOST is unset. Never a failure there: without it the stack runs without
# e-mail and says so.
set -euo pipefail

declare -A wanted
dev_mailbox=0
if [ "${1:-}" = "--dev-mailbox" ]; then
  dev_mailbox=1
  [ -n "${PAKN_IMAP_HOST:-}" ] && exit 0  # a real mailbox is configured
  wanted=([/usr/sbin/dovecot]=dovecot-imapd)
else
  wanted=(
    [/usr/bin/chromium]=chromium
    [/usr/sbin/dovecot]=dovecot-imapd
    [/usr/bin/promtool]=prometheus
    [/usr/bin/docker-compose]=docker-compose
  )
fi
missing=()
for path in "${!wanted[@]}"; do
  [ -x "$path" ] || missing+=("${wanted[$path]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

cannot() {
  if [ "$dev_mailbox" = 1 ]; then
    echo "No Dovecot, so no development mailbox: \`make run\` starts without e-mail." \
      "Install it with: sudo apt-get install dovecot-imapd" >&2
    exit 0
  fi
  echo "Missing for the tests: ${missing[*]}. Install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
}

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  if [ "$dev_mailbox" = 1 ]; then
    echo "Installing Dovecot from Debian for the development mailbox: ${missing[*]}…"
  else
    echo "Installing test servers from Debian: ${missing[*]}…"
  fi
  # Debian would start dovecot and prometheus as system services on install; the tests run
  # their own. A policy-rc.d answering 101 ("action forbidden") keeps invoke-rc.d from
  # starting any service, so nothing has to be stopped afterwards — and nothing is killed
  # by name, which on a shared machine could hit someone else's server.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# written by pakn scripts/ensure-test-servers.sh during apt-get install\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq || cannot
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || cannot
else
  cannot
fi
