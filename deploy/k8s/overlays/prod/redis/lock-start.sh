#!/bin/sh
# Starts one independent Redlock master; secrets go into a file, not argv.
set -eu
printf 'requirepass %s\nrename-command CONFIG %s\n' \
  "$REDIS_PASSWORD" "$REDIS_CONFIG_COMMAND" >/run/redis/runtime.conf
exec redis-server /etc/redis/lock.conf
