#!/bin/sh
# Starts one independent Redlock master; secrets go into a file, not argv.
set -eu
printf 'requirepass %s\nrename-command CONFIG %s\n' \
  "$REDIS_PASSWORD" "$REDIS_CONFIG_COMMAND" >/run/redis/runtime.conf
# lockcache signs in as its own ACL user, allowed only the commands it sends (lockcache.acl).
printf 'user lockcache on >%s %s\n' "$LOCKCACHE_REDIS_PASSWORD" "$(cat /etc/redis/lockcache.acl)" \
  >>/run/redis/runtime.conf
exec redis-server /etc/redis/lock.conf
