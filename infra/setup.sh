#!/usr/bin/env bash
# Set up a fresh Debian machine for Cadenza: Debian packages (when root), the .venv, the Kafka, S3Proxy and
# Apicurio Registry jars.
# Idempotent; `make setup` runs it when pyproject.toml or infra/apt-packages.txt changed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=$(sed -e 's/#.*//' infra/apt-packages.txt | tr -s ' \t' '\n' | grep -v '^$' | sort -u | tr '\n' ' ')
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "setup: missing Debian packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
    exit 1
  fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -U pip >/dev/null
echo "setup: installing Python dependencies"
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'

echo "setup: fetching the Kafka broker from Maven Central (cached in .cache/kafka)"
.venv/bin/python -c "from infra.kafka.broker import LocalBroker; from infra.settings import ServiceSettings; LocalBroker.from_settings(ServiceSettings()).fetch()"
echo "setup: fetching S3Proxy from Maven Central (cached in .cache/s3proxy)"
.venv/bin/python -c "from infra.s3proxy.server import LocalS3Proxy; from infra.settings import ServiceSettings; LocalS3Proxy.from_settings(ServiceSettings()).fetch()"
echo "setup: fetching Apicurio Registry from Maven Central (cached in .cache/registry)"
.venv/bin/python -c "from infra.registry.server import LocalRegistry; from infra.settings import ServiceSettings; LocalRegistry.from_settings(ServiceSettings()).fetch()"
echo "setup: done"
