#!/usr/bin/env bash
# Builds a small inventory with the clusto CLI only, then queries it.
# Usage: inventory.sh [DATABASE_DIR]   (CLUSTO=path/to/clusto to pick the binary)
set -euo pipefail

CLUSTO=${CLUSTO:-clusto}
export CLUSTODSN=${1:-demo-db-sh}
c() { "$CLUSTO" --user ops -m "shell demo" "$@"; }

if ! c info sjc2 >/dev/null 2>&1; then
    c initdb >/dev/null
    c create basicdatacenter sjc2 >/dev/null
    c create basicrack sjc2-r01 --prop maxu=12 >/dev/null
    c pool insert sjc2 sjc2-r01
    c create ipmanager sjc2-mgmt --prop baseip=10.12.0.0 --prop netmask=255.255.255.0 --prop gateway=10.12.0.1 >/dev/null
    c create basicnetworkswitch sjc2-r01-sw >/dev/null
    c rack insert sjc2-r01 sjc2-r01-sw --ru 12
    c pool create web >/dev/null
    for n in 1 2 3; do
        c create basicserver "sjc2-web0$n" --prop model="DL360" >/dev/null
        c rack insert sjc2-r01 "sjc2-web0$n" --ru "$((n * 2))-$((n * 2 + 1))"
        c attr add "sjc2-web0$n" -k owner -v web-team >/dev/null
        c pool insert web "sjc2-web0$n"
        c port connect "sjc2-web0$n" nic-eth 1 sjc2-r01-sw "$n"
        c ip allocate "sjc2-web0$n" --manager sjc2-mgmt >/dev/null
    done
fi

echo "== rack elevation"
c rack show sjc2-r01
echo "== members of web with their IPs"
c list-pool web
echo "== who owns what (json)"
c query owner=web-team --format json
echo "== sjc2-web02"
c info sjc2-web02
echo "== containment"
c tree sjc2 owner
echo "== last versions"
c history --format csv | tail -n 3
c check --format yaml | grep status

echo "== the same inventory over HTTP (clusto serve; the URLs of clusto-apiserver)"
fetch() {
    if command -v curl >/dev/null; then
        curl -s -H 'Clusto-Minify: true' "$@"
    else
        python3 -c 'import sys, urllib.request as u; r = u.Request(sys.argv[1], headers={"Clusto-Minify": "true"}); print(u.urlopen(r).read().decode())' "$@"
    fi
}
log=$(mktemp)
"$CLUSTO" serve --listen 127.0.0.1:0 --quiet 2>"$log" &
server=$!
trap 'kill -TERM $server 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.05; done
url=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$log")
echo "\$ curl $url/by-name/sjc2-web02"
fetch "$url/by-name/sjc2-web02"; echo
echo "\$ curl '$url/from-pools?pool=web'"
fetch "$url/from-pools?pool=web"; echo
kill -TERM $server
wait $server
