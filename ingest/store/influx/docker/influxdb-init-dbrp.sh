#!/bin/sh
# Runs once, inside the influxdb:2 container, after its first-start setup (DOCKER_INFLUXDB_INIT_MODE=setup)
# has created the org, the bucket and the admin token. InfluxQL on /query (what citymetrics and Grafana
# read with) finds a 2.x bucket only through a DBRP mapping: database INFLUX_DATABASE, retention policy
# "autogen" -> the bucket. The influx CLI is already configured with the admin token by the setup.
set -eu
db="${INFLUX_DATABASE:-citymetrics}"
if influx v1 dbrp list --org "${DOCKER_INFLUXDB_INIT_ORG}" --db "${db}" 2>/dev/null | grep -q "${DOCKER_INFLUXDB_INIT_BUCKET_ID}"; then
  echo "citymetrics: DBRP mapping ${db}/autogen already exists"
  exit 0
fi
influx v1 dbrp create \
  --org "${DOCKER_INFLUXDB_INIT_ORG}" \
  --bucket-id "${DOCKER_INFLUXDB_INIT_BUCKET_ID}" \
  --db "${db}" \
  --rp autogen \
  --default
echo "citymetrics: DBRP mapping ${db}/autogen -> bucket ${DOCKER_INFLUXDB_INIT_BUCKET} created"
