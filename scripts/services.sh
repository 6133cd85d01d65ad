#!/usr/bin/env bash
# Make sure Redis and PostgreSQL answer on 127.0.0.1; start them if not. Under CI=true a service that
# cannot be started is an error, never a skip.
set -uo pipefail
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! up 6379 && command -v redis-server >/dev/null; then
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log >/dev/null 2>&1 || true
fi
if ! up 5432 && command -v pg_ctlcluster >/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >/dev/null 2>&1 || true
fi
for i in $(seq 1 50); do up 6379 && up 5432 && exit 0; sleep 0.2; done
msg="Redis (127.0.0.1:6379) or PostgreSQL (127.0.0.1:5432) is not reachable"
if [ "${CI:-}" = "true" ]; then echo "error: $msg" >&2; exit 1; fi
echo "warning: $msg; tests that need them will fail" >&2
