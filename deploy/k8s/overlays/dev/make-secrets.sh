#!/usr/bin/env sh
# Writes secrets/*.env with fresh random values for the dev overlay (git-ignored).
# Existing files are kept unless --force is given; after --force, re-apply and
# the hashed Secret names roll every pod that reads them.
set -eu
dir="$(cd "$(dirname "$0")" && pwd)/secrets"
mkdir -p "$dir"
if [ -f "$dir/api.env" ] && [ "${1:-}" != "--force" ]; then
  echo "secrets exist in $dir (use --force to regenerate)"
  exit 0
fi
rand() { od -An -tx1 -N24 /dev/urandom | tr -d ' \n'; }
umask 077
token=$(rand); redis_pw=$(rand); pg_pw=$(rand); neo4j_pw=$(rand)
printf 'AUTH_TOKEN_SECRET=%s\n' "$token" >"$dir/api.env"
printf 'REDIS_URL=redis://:%s@redis:6379/0\nREDLOCK_URLS=redis://:%s@redis:6379/0\n' \
  "$redis_pw" "$redis_pw" >"$dir/lockcache.env"
webhook_key=$(head -c 32 /dev/urandom | base64)
printf 'DATABASE_URL=postgresql://kushim:%s@postgres:5432/kushim\nNEO4J_PASSWORD=%s\n' \
  "$pg_pw" "$neo4j_pw" >"$dir/graph.env"
printf 'WEBHOOK_SECRET_KEY=%s\n' "$webhook_key" >>"$dir/graph.env"
# dev: one database role, so migrations and the service share it.
printf 'MIGRATION_DATABASE_URL=postgresql://kushim:%s@postgres:5432/kushim\n' "$pg_pw" \
  >>"$dir/graph.env"
printf 'REDIS_PASSWORD=%s\n' "$redis_pw" >"$dir/redis.env"
printf 'POSTGRES_PASSWORD=%s\n' "$pg_pw" >"$dir/postgres.env"
printf 'NEO4J_AUTH=neo4j/%s\n' "$neo4j_pw" >"$dir/neo4j.env"
# Mutual TLS between the services: a CA and one certificate per service, named for
# its Service (and loopback), good for both serving and calling.
tls="$dir/tls"
mkdir -p "$tls"
curve="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
# shellcheck disable=SC2086
openssl req -x509 $curve -keyout "$tls/ca.key" -out "$tls/ca.crt" -days 825 \
  -subj "/CN=kushim dev CA" 2>/dev/null
for svc in api graph lockcache; do
  printf 'subjectAltName = DNS:%s, DNS:%s.kushim, DNS:%s.kushim.svc, DNS:localhost, IP:127.0.0.1\n' \
    "$svc" "$svc" "$svc" >"$tls/$svc.ext"
  printf 'extendedKeyUsage = serverAuth, clientAuth\n' >>"$tls/$svc.ext"
  # shellcheck disable=SC2086
  openssl req $curve -keyout "$tls/$svc.key" -out "$tls/$svc.csr" -subj "/CN=$svc" 2>/dev/null
  openssl x509 -req -in "$tls/$svc.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" \
    -CAcreateserial -out "$tls/$svc.crt" -days 825 -extfile "$tls/$svc.ext" 2>/dev/null
done
echo "wrote $dir/{api,lockcache,graph,redis,postgres,neo4j}.env and $tls/"
