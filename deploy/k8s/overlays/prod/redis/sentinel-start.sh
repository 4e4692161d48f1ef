#!/bin/sh
# Starts a Sentinel watching the cache master. Sentinel rewrites its own config
# file, so it lives on an emptyDir; a restarted Sentinel asks its peers for the
# current master instead of assuming redis-cache-0.
set -eu
ns="$POD_NAMESPACE"
self="$(hostname).redis-sentinel.$ns.svc"
master="redis-cache-0.redis-cache.$ns.svc"
for i in 0 1 2; do
  peer="redis-sentinel-$i.redis-sentinel.$ns.svc"
  [ "$peer" = "$self" ] && continue
  found=$(REDISCLI_AUTH="$SENTINEL_PASSWORD" timeout 3 redis-cli --tls --cacert /etc/redis-tls/ca.crt --cert /etc/redis-tls/tls.crt --key /etc/redis-tls/tls.key \
    -h "$peer" -p 26379 --raw \
    sentinel get-master-addr-by-name mymaster 2>/dev/null | head -n 1 || true)
  case "$found" in "" | *" "*) ;; *) master="$found"; break ;; esac  # an error is no answer
done
# Sentinel refuses to start on a master name that does not resolve yet.
tries=0
until getent hosts "$master" >/dev/null; do
  tries=$((tries + 1))
  [ "$tries" -ge 30 ] && break
  sleep 1
done
cat >/run/sentinel/sentinel.conf <<CONF
# TLS only, with client certificates, as the Redis servers; a password of its own
# (lockcache's REDIS_SENTINEL_PASSWORD), which the Sentinels also give each other.
port 0
tls-port 26379
tls-cert-file /etc/redis-tls/tls.crt
tls-key-file /etc/redis-tls/tls.key
tls-ca-cert-file /etc/redis-tls/ca.crt
tls-auth-clients yes
tls-replication yes
protected-mode yes
requirepass $SENTINEL_PASSWORD
sentinel sentinel-pass $SENTINEL_PASSWORD
dir /tmp
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip $self
sentinel monitor mymaster $master 6379 2
sentinel down-after-milliseconds mymaster 5000
sentinel failover-timeout mymaster 60000
sentinel parallel-syncs mymaster 1
sentinel auth-pass mymaster $REDIS_PASSWORD
sentinel rename-command mymaster CONFIG $REDIS_CONFIG_COMMAND
CONF
exec redis-server /run/sentinel/sentinel.conf --sentinel
