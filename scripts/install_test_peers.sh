#!/usr/bin/env bash
# The real peers the tests drive: Debian's Chromium (browser tests), Prometheus Alertmanager
# (alert webhook tests), Dovecot (IMAP tests), nginx (several servers behind one proxy) and
# Prometheus (scraping /metrics and firing the shipped rules). Installs whatever is missing.
set -euo pipefail

# The OpenID provider the SSO tests sign in against (oidc-provider, run by Node), pinned by
# tests/fixtures/oidc/package-lock.json; the tests themselves never download anything.
oidc_dir="$(dirname "$0")/../tests/fixtures/oidc"
[ -d "$oidc_dir/node_modules/oidc-provider" ] || (cd "$oidc_dir" && npm ci --no-audit --no-fund --silent)

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/prometheus-alertmanager ] || need+=(prometheus-alertmanager)
[ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)
[ -x /usr/sbin/nginx ] || need+=(nginx)
[ -x /usr/bin/prometheus ] || need+=(prometheus)
[ "${#need[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "The tests need these Debian packages: ${need[*]}" >&2
    echo "Install them with: sudo apt-get install ${need[*]}" >&2
    exit 1
fi
# Packages must not start their own services here: the tests start what they need.
policy_added=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    policy_added=1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
[ -z "$policy_added" ] || rm -f /usr/sbin/policy-rc.d
