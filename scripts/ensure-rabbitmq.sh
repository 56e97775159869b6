#!/usr/bin/env bash
# Make sure RabbitMQ answers on 127.0.0.1:5672: start it if installed, install it if we can,
# otherwise say exactly how to get one. Quiet when it is already there.
set -euo pipefail

answers() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }
wait_for_it() {
  for _ in $(seq 1 60); do answers && return 0; sleep 1; done
  return 1
}

answers && exit 0
if [ -n "${PAKN_AMQP_URL:-}" ] && [[ "$PAKN_AMQP_URL" != *"127.0.0.1:5672"* && "$PAKN_AMQP_URL" != *"localhost:5672"* ]]; then
  exit 0  # a broker elsewhere was configured; the services check it themselves
fi

if ! command -v rabbitmq-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "RabbitMQ is not installed: installing Debian's rabbitmq-server…"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
  else
    cat >&2 <<'MSG'
RabbitMQ is not running on 127.0.0.1:5672 and cannot be installed from here.
Get one of:
  sudo apt-get install rabbitmq-server && sudo rabbitmq-server -detached
  docker compose up -d rabbitmq
or point PAKN_AMQP_URL at an existing broker.
MSG
    exit 1
  fi
fi

echo "Starting RabbitMQ (rabbitmq-server -detached)…"
rabbitmq-server -detached >/dev/null 2>&1 || true
if ! wait_for_it; then
  echo "RabbitMQ did not answer on 127.0.0.1:5672 within 60 s; see /var/log/rabbitmq/." >&2
  exit 1
fi
echo "RabbitMQ is up."
