#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the interop lab's peer daemons (see interop/README.md): BIRD 2, GoBGP, FRR and
# iproute2 from Debian, and BIRD 1.6.8 (Debian package `bird`, which conflicts with bird2)
# unpacked, not installed, into interop/.cache/bird1. Idempotent and quick when already done;
# runs apt-get update only when a package is missing. Needs root. FRR's own service is kept
# from running: the lab starts zebra/bgpd itself, inside network namespaces. Also pmacct (its
# `pmbmpd` is the BMP collector of interop/bmp.test.ts) and bgpdump (reads Tern's MRT dumps).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bird1_dir="$root/interop/.cache/bird1"
export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" -ne 0 ]; then
  echo "install-peers: needs root" >&2
  exit 1
fi

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing=()
for pkg in bird2 gobgpd frr iproute2 pmacct bgpdump; do
  have_pkg "$pkg" || missing+=("$pkg")
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-peers: installing ${missing[*]}"
  # Keep FRR (and anything else) from being started by the package scripts: the lab runs the
  # daemons itself. policy-rc.d 101 = "action forbidden"; removed again afterwards.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    created_policy=1
  fi
  trap 'if [ "$created_policy" = 1 ]; then rm -f "$policy"; fi' EXIT
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# FRR's service must not be left running (it would hold port 179 and the default sockets).
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now frr >/dev/null 2>&1 || true
fi
if [ -x /usr/lib/frr/frrinit.sh ] && pgrep -x watchfrr >/dev/null 2>&1; then
  /usr/lib/frr/frrinit.sh stop >/dev/null 2>&1 || true
fi

if [ ! -x "$bird1_dir/usr/sbin/bird" ] || [ ! -x "$bird1_dir/usr/sbin/bird6" ]; then
  echo "install-peers: unpacking BIRD 1.6 into $bird1_dir"
  tmp="$(mktemp -d)"
  chmod 755 "$tmp"   # apt's _apt user downloads into it
  (
    cd "$tmp"
    if ! apt-get download bird >/dev/null 2>&1; then
      apt-get update -qq
      apt-get download bird
    fi
    rm -rf "$bird1_dir"
    mkdir -p "$bird1_dir"
    dpkg -x bird_*.deb "$bird1_dir"
  )
  rm -rf "$tmp"
fi

for bin in bird bird6 birdc birdc6; do
  if ldd "$bird1_dir/usr/sbin/$bin" | grep -q 'not found'; then
    echo "install-peers: $bin has unresolved libraries:" >&2
    ldd "$bird1_dir/usr/sbin/$bin" | grep 'not found' >&2
    exit 1
  fi
done

echo "install-peers: $("$bird1_dir/usr/sbin/bird" --version 2>&1), $(/usr/sbin/bird --version 2>&1), $(gobgpd --version), $(/usr/lib/frr/bgpd --version | head -1)"
