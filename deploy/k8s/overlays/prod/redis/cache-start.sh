#!/bin/sh
# Starts a cache Redis as the replica of whatever master Sentinel reports;
# with no Sentinel answering yet (first start), redis-cache-0 is the master.
set -eu
ns="$POD_NAMESPACE"
self="$(hostname).redis-cache.$ns.svc"
master=""
for i in 0 1 2; do
  # Sentinels have their own password (SENTINEL_PASSWORD), and speak TLS only.
  master=$(REDISCLI_AUTH="$SENTINEL_PASSWORD" timeout 3 redis-cli --tls --cacert /etc/redis-tls/ca.crt --cert /etc/redis-tls/tls.crt --key /etc/redis-tls/tls.key \
    -h "redis-sentinel-$i.redis-sentinel.$ns.svc" -p 26379 --raw \
    sentinel get-master-addr-by-name mymaster 2>/dev/null | head -n 1 || true)
  case "$master" in "" | *" "*) master="" ;; *) break ;; esac  # an error is no answer
done
if [ -z "$master" ] && [ "$(hostname)" != redis-cache-0 ]; then
  master="redis-cache-0.redis-cache.$ns.svc"
fi
{
  printf 'requirepass %s\nmasterauth %s\n' "$REDIS_PASSWORD" "$REDIS_PASSWORD"
  printf 'rename-command CONFIG %s\n' "$REDIS_CONFIG_COMMAND"
  printf 'replica-announce-ip %s\n' "$self"
  if [ -n "$master" ] && [ "$master" != "$self" ]; then
    printf 'replicaof %s 6379\n' "$master"
  fi
} >/run/redis/runtime.conf
# lockcache signs in as its own ACL user, allowed only the commands it sends (lockcache.acl).
printf 'user lockcache on >%s %s\n' "$LOCKCACHE_REDIS_PASSWORD" "$(cat /etc/redis/lockcache.acl)" \
  >>/run/redis/runtime.conf
exec redis-server /etc/redis/cache.conf
