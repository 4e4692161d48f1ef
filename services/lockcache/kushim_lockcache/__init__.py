"""lockcache: the only component that talks to Redis (Redlock locks, TTL caches)."""
