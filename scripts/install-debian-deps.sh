#!/usr/bin/env bash
# Debian packages the engine uses: espeak-ng + sox build prompts, Asterisk's sound files and music on
# hold give the simulator (and a real Asterisk) their audio, chromium runs the browser tests (tests/browser,
# Playwright with executable_path), PostgreSQL for the tests of that database.
# Skips what is already installed; uses sudo when not root.
set -euo pipefail
pkgs=(python3-venv espeak-ng sox asterisk-core-sounds-ru-wav asterisk-core-sounds-en-wav asterisk-moh-opsound-wav chromium)
if [ "${WITH_POSTGRES:-0}" = 1 ]; then pkgs+=(postgresql); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
