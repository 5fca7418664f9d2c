#!/usr/bin/env bash
# Installs the Debian packages the tests run for real: Prometheus (with
# promtool) and headless Chromium. Skips what is present; runs apt-get update
# once, and only when something is missing. Needs root (CI runs as root) or
# passwordless sudo.
set -euo pipefail

declare -A command_of=([prometheus]=promtool [chromium]=chromium)
missing=()
for package in prometheus chromium; do
  command -v "${command_of[$package]}" >/dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
  else
    echo "debian-deps: missing ${missing[*]}; install them as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
echo "debian-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Several checkouts may install at once: wait for dpkg's lock rather than fail.
$sudo apt-get -o DPkg::Lock::Timeout=600 update -q
# No recommends: the node exporter and Chromium's extras are not needed.
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
