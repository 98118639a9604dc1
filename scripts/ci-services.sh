#!/usr/bin/env bash
# The real servers the InfluxDB store and Grafana dashboard tests run against, from Debian's packages:
#   influxdb 1.6.x          v1 /write and InfluxQL /query  (contract suite, outage test, every panel query)
#   victoria-metrics 1.79.x InfluxDB v2 /api/v2/write       (the client's WriteApi path)
#   docker-compose 1.29.x   `docker-compose config` validates docker-compose.yml
#
# The tests start their own server processes (test/servers/*.ts): 127.0.0.1, free ports, data in a temp
# dir, stopped after each test file. This script installs the packages, keeps the packages' own services
# from holding ports or memory, and checks that each server starts and answers, so a broken install fails
# CI here with a clear message rather than as skipped tests (under CI=true a missing binary fails the tests).
#
#   scripts/ci-services.sh install   apt-get install the packages, stop their system services
#   scripts/ci-services.sh verify    start each server once in a temp dir, ping it, stop it; validate compose
#   scripts/ci-services.sh           both
set -euo pipefail
cd "$(dirname "$0")/.."

INFLUXD=/usr/bin/influxd
VM=/usr/bin/victoria-metrics

install_packages() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends influxdb victoria-metrics docker-compose >/dev/null
  # The packages may start system-wide services on 8086/8088/8428; the tests use their own processes.
  for svc in influxdb victoria-metrics; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
      systemctl stop "$svc" || true
    elif command -v service >/dev/null 2>&1; then
      service "$svc" stop >/dev/null 2>&1 || true
    fi
  done
}

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# wait_http URL: up to ~15 s for a 2xx answer
wait_http() {
  for _ in $(seq 1 150); do
    if node -e "fetch('$1').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then return 0; fi
    sleep 0.1
  done
  return 1
}

PIDS=()
TMP=""
cleanup() {
  local status=$?
  for pid in "${PIDS[@]:-}"; do if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi; done
  for pid in "${PIDS[@]:-}"; do if [ -n "$pid" ]; then wait "$pid" 2>/dev/null || true; fi; done
  if [ -n "$TMP" ]; then rm -rf "$TMP"; fi
  exit "$status"
}
trap cleanup EXIT

verify() {
  [ -x "$INFLUXD" ] || { echo "ci-services: $INFLUXD missing (package influxdb)" >&2; exit 1; }
  [ -x "$VM" ] || { echo "ci-services: $VM missing (package victoria-metrics)" >&2; exit 1; }
  TMP="$(mktemp -d)"

  local http rpc vm
  http="$(free_port)"; rpc="$(free_port)"; vm="$(free_port)"
  cat >"$TMP/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$rpc"
[meta]
  dir = "$TMP/influx/meta"
[data]
  dir = "$TMP/influx/data"
  wal-dir = "$TMP/influx/wal"
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:$http"
  log-enabled = false
CONF
  "$INFLUXD" run -config "$TMP/influxdb.conf" >"$TMP/influxd.log" 2>&1 &
  PIDS+=($!)
  "$VM" -httpListenAddr="127.0.0.1:$vm" -storageDataPath="$TMP/vm" -retentionPeriod=100y \
    -search.latencyOffset=0s -loggerLevel=ERROR >"$TMP/vm.log" 2>&1 &
  PIDS+=($!)

  wait_http "http://127.0.0.1:$http/ping" || { cat "$TMP/influxd.log" >&2; echo "ci-services: influxd did not start" >&2; exit 1; }
  wait_http "http://127.0.0.1:$vm/health" || { cat "$TMP/vm.log" >&2; echo "ci-services: victoria-metrics did not start" >&2; exit 1; }
  echo "ci-services: $("$INFLUXD" version) answers on 127.0.0.1:$http"
  echo "ci-services: victoria-metrics $(dpkg-query -W -f='${Version}' victoria-metrics 2>/dev/null || echo '?') answers on 127.0.0.1:$vm"

  docker-compose config -q
  echo "ci-services: docker-compose.yml is valid ($(docker-compose version --short 2>/dev/null || echo docker-compose))"
  docker-compose -f docker-compose.cluster.yml config -q
  echo "ci-services: docker-compose.cluster.yml is valid"
}

case "${1:-all}" in
  install) install_packages ;;
  verify) verify ;;
  all) install_packages; verify ;;
  *) echo "usage: $0 [install|verify|all]" >&2; exit 2 ;;
esac
