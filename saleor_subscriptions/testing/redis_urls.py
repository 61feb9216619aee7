"""Redis databases the tests use, on one server: SUBSCRIPTIONS_TEST_REDIS (default the local
Redis) lets parallel runs of the suite each use a Redis server of their own."""
import os


def redis_url(database: int) -> str:
    base = os.environ.get("SUBSCRIPTIONS_TEST_REDIS", "redis://127.0.0.1:6379").rstrip("/")
    return "%s/%d" % (base, database)
