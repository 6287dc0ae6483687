#!/usr/bin/env bash
# Installs what flakebox needs on a Debian/Ubuntu machine; safe to run again (it installs only
# what is missing). The Swift toolchain itself is expected on PATH (swift.org or the Docker image).
set -euo pipefail

packages=(libseccomp-dev git python3 python3-venv python3-pip python3-pytest python3-numpy util-linux bubblewrap hyperfine clang-format ca-certificates bc time)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "bootstrap: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "bootstrap: swift is not on PATH (need Swift 6.1 or later)" >&2; exit 1; }
