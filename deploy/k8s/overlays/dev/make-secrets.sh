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
printf 'DATABASE_URL=postgresql://kushim:%s@postgres:5432/kushim\nNEO4J_PASSWORD=%s\n' \
  "$pg_pw" "$neo4j_pw" >"$dir/graph.env"
printf 'REDIS_PASSWORD=%s\n' "$redis_pw" >"$dir/redis.env"
printf 'POSTGRES_PASSWORD=%s\n' "$pg_pw" >"$dir/postgres.env"
printf 'NEO4J_AUTH=neo4j/%s\n' "$neo4j_pw" >"$dir/neo4j.env"
echo "wrote $dir/{api,lockcache,graph,redis,postgres,neo4j}.env"
