#!/bin/bash
# Network-namespace plant for otscope's integration test (make itest) and for poking at the scanner by hand.
# One bridge in its own namespace (otl-sw) in hub mode, so the monitor port (otl-mon, no address) sees every
# frame, and one namespace per host. 10.99.0.0/24 exists only inside these namespaces: `up` FIRST installs a
# blackhole route for it in the root namespace, so a command that forgets `ip netns exec` fails here instead
# of leaving the machine.
# usage: lab.sh up|down|status      (root)
# Servers (started by scan/probe/itest, or by hand with `ip netns exec otl-HOST ...` from this directory,
# after `npm ci` here; python must be /usr/bin/python3, the one that sees Debian's packages):
#   plc1 .11  snmpd -f -Lo -C -c snmpd.conf; /usr/bin/python3 pymodbus_server.py 10.99.0.11 502
#   plc2 .12  node node/s7server.js 10.99.0.12 102; /usr/bin/python3 dcp_responder.py eth0 ...
#   hmi  .13  node node/opcua_server.js 4840 10.99.0.13
#   hvac .14  node node/bacnet_device.js 0.0.0.0 47808 10.99.0.255 1234
#   rtu  .15  ./lmb_server 10.99.0.15 502          (gcc lmb_server.c $(pkg-config --cflags --libs libmodbus))
#   enip .16  otsim -enip 10.99.0.16:44818        (ours, scan/probe/sim/cmd/otsim: no real server installable)
#   dnp  .17  otsim -dnp3 10.99.0.17:20000 -dnp3-address 1 -iec104 10.99.0.17:2404   (ours, likewise)
#   web  .18  /usr/bin/python3 -m http.server 80 --bind 10.99.0.18
set -e
P=${OTL_PREFIX:-otl-}
SW=${P}sw
NET=10.99.0.0/24
# name:ip:mac; OUIs make the vendor lookups give ICS vendors. mon has no IP: a passive tap.
HOSTS="scan:10.99.0.10:02:00:00:00:00:10 plc1:10.99.0.11:00:80:f4:00:00:11 plc2:10.99.0.12:00:1b:1b:00:00:12
 hmi:10.99.0.13:00:0c:29:00:00:13 hvac:10.99.0.14:00:d0:6f:00:00:14 rtu:10.99.0.15:00:09:8e:00:00:15
 enip:10.99.0.16:00:00:bc:00:00:16 dnp:10.99.0.17:00:60:35:00:00:17 web:10.99.0.18:00:30:de:00:00:18 mon:-:02:00:00:00:00:99"

mkns() {
  ip netns add "$1"
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$1" link set lo up
}

up() {
  if ip netns list | grep -qw "$SW"; then echo "lab already up ($SW exists): run $0 down first" >&2; exit 1; fi
  ip route replace blackhole $NET   # the guard comes first, before any lab address exists
  mkns $SW
  ip -n $SW link add br0 type bridge ageing_time 0   # ageing 0: no learning, every frame floods (a hub)
  ip -n $SW link set br0 up
  for h in $HOSTS; do
    name=${h%%:*}; rest=${h#*:}; ip=${rest%%:*}; mac=${rest#*:}; ns=$P$name
    mkns "$ns"
    ip link add "v-$P$name" type veth peer name eth0 netns "$ns"
    ip link set "v-$P$name" netns $SW
    ip -n $SW link set "v-$P$name" master br0 up
    ip -n "$ns" link set eth0 address "$mac"
    [ "$ip" != "-" ] && ip -n "$ns" addr add "$ip/24" dev eth0
    # the monitor port must stay silent: no ARP, no IPv6 (already off), nothing of its own on the wire
    [ "$ip" = "-" ] && ip -n "$ns" link set eth0 arp off
    ip -n "$ns" link set eth0 up
  done
}

down() {
  for h in $HOSTS; do ip netns del "$P${h%%:*}" 2>/dev/null || true; done
  ip netns del $SW 2>/dev/null || true
  ip route del blackhole $NET 2>/dev/null || true
}

case "$1" in
  up) up ;;
  down) down ;;
  status) ip netns list | grep "^$P" || true; ip -n $SW -br link 2>/dev/null || true; ip route | grep blackhole || true ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
