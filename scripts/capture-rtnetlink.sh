#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Captures real rtnetlink bytes from the kernel for the codec's golden tests
# (test/kernel-sync/rtnetlink-kernel.test.ts). In a throwaway network namespace it builds
# routes like Calico's (IPIP-style onlink via a veth named tunl0 — this kernel has no IPIP
# module — blackholes, a workload route on a cali* veth, ECMP, IPv6, a table > 255, metrics)
# and runs iproute2 under strace, whose `-e read=all` / `-e write=all` hex dumps are the raw
# datagrams. Beside each NAME.hex (one datagram per line, kernel → user) it stores what iproute2
# printed for those same bytes (NAME.json / NAME.txt / NAME.stderr) as the oracle, and for
# requests iproute2 sent, NAME.request.hex. The namespace is always deleted.
# Usage: sudo scripts/capture-rtnetlink.sh [OUTDIR]   (default test/fixtures/rtnetlink)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/test/fixtures/rtnetlink}"

if [ "$(id -u)" -ne 0 ]; then
  echo "capture-rtnetlink: needs root (network namespaces)" >&2
  exit 1
fi
if ! command -v strace >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y strace >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y strace >/dev/null; }
fi

ns="tern-rtnl-$$"
tmp="$(mktemp -d)"
monitor_pid=""
cleanup() {
  if [ -n "$monitor_pid" ]; then
    local s; s="$(pgrep -P "$monitor_pid" || true)"
    if [ -n "$s" ]; then kill $(pgrep -P "$s") "$s" 2>/dev/null || true; fi
  fi
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

in_ns() { ip netns exec "$ns" "$@"; }
trace() { in_ns strace -f -o "$1" -e trace=sendmsg,sendto,recvmsg -e read=all -e write=all -xx -s 65536 "${@:2}"; }

# strace's hex dumps ("* N bytes in buffer 0" then " | 00000  3c 00 ...  |ascii|" rows) → one
# hex line per datagram, split by direction: sendmsg/sendto → requests, recvmsg → replies.
to_hex() { # strace-file replies-file requests-file comment
  node - "$@" <<'EOF'
const [file, repliesOut, requestsOut, comment] = process.argv.slice(2);
const fs = require('node:fs');
const dirs = { recv: [], send: [] };
let dir = null, current = null, expected = 0;
// sendto dumps its buffer right after the call line; sendmsg/recvmsg dumps each iov buffer after
// "* N bytes in buffer K". A MSG_PEEK recvmsg with a NULL iov dumps nothing and is skipped.
const flush = () => {
  if (current === null || current.length === 0) return (current = null);
  if (current.length !== expected * 2) throw new Error(`${file}: dump has ${current.length / 2} bytes, strace said ${expected}`);
  dirs[dir].push(current);
  current = null;
};
for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
  const call = /\b(sendmsg|sendto|recvmsg)\(.*= (\d+)$/.exec(line);
  if (call) { flush(); dir = call[1] === 'recvmsg' ? 'recv' : 'send'; current = ''; expected = Number(call[2]); continue; }
  if (/^(\[pid +\d+\] |\d+ +)?[a-z_0-9]+\(/.test(line)) { flush(); continue; } // any other syscall line
  const head = /\* (\d+) bytes in buffer (\d+)/.exec(line);
  if (head) { if (head[2] === '0') { current = ''; expected = 0; } expected += Number(head[1]); continue; }
  const row = /\| ([0-9a-f]{5})  (.{1,48})/.exec(line);
  if (row && current !== null) current += (row[2].slice(0, 48).match(/[0-9a-f]{2}/g) ?? []).join('');
}
flush();
const header = `# ${comment}\n`;
fs.writeFileSync(repliesOut, header + dirs.recv.map((h) => h + '\n').join(''));
if (requestsOut !== '-' && dirs.send.length) fs.writeFileSync(requestsOut, header + dirs.send.map((h) => h + '\n').join(''));
EOF
}

kernel="$(uname -r)"
iproute="$(ip -V | sed 's/ip utility, //')"
capture() { # name command... ; stdout → NAME.json (if -json) else NAME.txt, stderr → NAME.stderr if non-empty
  local name="$1"; shift
  local status=0
  trace "$tmp/$name.strace" "$@" >"$tmp/$name.stdout" 2>"$tmp/$name.stderr" || status=$?
  to_hex "$tmp/$name.strace" "$out/$name.hex" "$out/$name.request.hex" "$* | exit $status | kernel $kernel | $iproute"
  case " $* " in
    *" -json "*) node -e 'process.stdout.write(JSON.stringify(JSON.parse(require("fs").readFileSync(0,"utf8")),null,1)+"\n")' <"$tmp/$name.stdout" >"$out/$name.json" ;;
    *) [ -s "$tmp/$name.stdout" ] && cp "$tmp/$name.stdout" "$out/$name.txt" ;;
  esac
  if [ -s "$tmp/$name.stderr" ]; then cp "$tmp/$name.stderr" "$out/$name.stderr"; fi
  return 0
}

# Capture into the temp dir and replace the fixtures only once everything worked.
final="$out"
out="$tmp/out"
mkdir -p "$out" "$final"

ip netns add "$ns"
# No DAD in the namespace, so link-local addresses are not "tentative" at capture time.
in_ns sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
in_ns ip link set lo up
in_ns ip link add tunl0 type veth peer name tunl0-peer
in_ns ip link add eth0 mtu 1450 type veth peer name eth0-peer
in_ns ip link add cali123 type veth peer name cali123-peer
for l in tunl0 tunl0-peer eth0 eth0-peer cali123 cali123-peer; do in_ns ip link set "$l" up; done
in_ns ip link add down0 type veth peer name down0-peer # stays down: IFF_UP clear
in_ns ip addr add 10.0.0.1/24 dev eth0
in_ns ip addr add 10.0.0.100/24 dev eth0 label eth0:vip
in_ns ip addr add 192.168.1.10/32 dev tunl0
in_ns ip addr add fd00::1/64 dev eth0

# Calico's routes: IPIP-style onlink, blackholed local IPAM blocks, workload routes, ECMP.
in_ns ip route add 10.244.1.0/26 via 10.0.0.2 dev tunl0 onlink proto bird
in_ns ip route add blackhole 10.244.0.0/26 proto bird
in_ns ip route add 10.244.0.5 dev cali123 proto boot scope link
in_ns ip route add 10.244.2.0/26 proto bird nexthop via 10.0.0.2 dev eth0 weight 1 nexthop via 10.0.0.3 dev eth0 weight 3
in_ns ip route add 10.244.3.0/26 via 10.0.0.2 dev eth0 proto bird table 1000
in_ns ip route add 10.244.4.0/26 via 10.0.0.2 dev eth0 proto bird metric 512
in_ns ip route add 10.244.5.0/26 via 10.0.0.2 dev eth0 proto bird src 10.0.0.1
in_ns ip route add unreachable 10.244.6.0/26 proto bird
in_ns ip route add prohibit 10.244.7.0/26 proto bird
in_ns ip route add 10.244.8.0/26 via inet6 fe80::2 dev eth0 proto bird
in_ns ip route add default via 10.0.0.254 dev eth0
in_ns ip -6 route add fd00:10:244:1::/122 via fe80::1 dev eth0 proto bird
in_ns ip -6 route add fd00:10:244:2::/122 via fd00::2 dev eth0 proto bird metric 512
in_ns ip -6 route add blackhole fd00:10:244::/122 proto bird
in_ns ip -6 route add fd00:10:244:3::/122 proto bird nexthop via fd00::2 dev eth0 nexthop via fd00::3 dev eth0
in_ns ip -6 route add fd00:10:244:4::/122 via fd00::2 dev eth0 proto bird table 1000

capture route-dump ip -json route show table all
capture link-dump ip -d -json link show
capture addr-dump ip -json addr show

# One notification each way, from a second socket subscribed like kernel sync's monitor.
trace "$tmp/route-monitor.strace" ip monitor route >"$tmp/route-monitor.stdout" 2>&1 &
monitor_pid=$!
sleep 1
in_ns ip route add 10.244.9.0/26 via 10.0.0.2 dev tunl0 onlink proto bird
in_ns ip -6 route add blackhole fd00:10:244:9::/122 proto bird
in_ns ip route del 10.244.9.0/26 via 10.0.0.2 dev tunl0 onlink proto bird
sleep 1
# subshell → strace (ip netns exec execs it) → ip: stop ip itself, and strace exits with it.
strace_pid="$(pgrep -P "$monitor_pid" || true)"
if [ -n "$strace_pid" ]; then kill -INT $(pgrep -P "$strace_pid") 2>/dev/null || true; fi
wait "$monitor_pid" || true
monitor_pid=""
to_hex "$tmp/route-monitor.strace" "$out/route-monitor.hex" - "ip monitor route | kernel $kernel | $iproute"
cp "$tmp/route-monitor.stdout" "$out/route-monitor.txt"

# Requests iproute2 sends (compared with our encoder) and the kernel's acks and errors.
capture request-add-onlink ip route add 10.244.10.0/26 via 10.0.0.2 dev tunl0 onlink proto bird
capture request-replace-blackhole ip route replace blackhole 10.244.10.0/26 proto bird
capture request-add-multipath ip route add 10.244.11.0/26 proto bird nexthop via 10.0.0.2 dev eth0 weight 2 nexthop via 10.0.0.3 dev eth0 onlink
capture request-add-v6-table ip -6 route add fd00:10:244:5::/122 via fe80::1 dev eth0 proto bird table 1000 metric 512
capture request-del ip route del 10.244.10.0/26 proto bird
capture route-add-exists ip route add blackhole 10.244.0.0/26 proto bird
capture route-add-error ip route add 10.9.9.0/24 via 10.99.99.99

rm -f "$final"/*.hex "$final"/*.json "$final"/*.txt "$final"/*.stderr
cp "$out"/* "$final"/
echo "capture-rtnetlink: wrote $(ls "$out" | wc -l) files to $final"
