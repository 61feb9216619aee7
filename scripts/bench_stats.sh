#!/usr/bin/env bash
# The metrics benchmark on a database of its own (bulk loaded); prints a table.
source "$(dirname "$0")/env.sh"
ensure_all
export DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/saleor_subscriptions_bench}"
export CELERY_BROKER_URL="${BENCH_CELERY_BROKER_URL:-redis://127.0.0.1:6379/10}"
export CELERY_TASK_ALWAYS_EAGER=0
export DEBUG=False ALLOWED_CLIENT_HOSTS=localhost ENABLE_ACCOUNT_CONFIRMATION_BY_EMAIL=False
cd "$ROOT"
if [[ " $* " != *" --queries-only "* ]]; then
log "Fresh benchmark database"
"$PY" - <<'PYEOF'
import os, psycopg2, dj_database_url
cfg = dj_database_url.parse(os.environ["DATABASE_URL"])
conn = psycopg2.connect(dbname="postgres", user=cfg["USER"] or "postgres",
                        host=cfg["HOST"] or "127.0.0.1", port=cfg["PORT"] or 5432)
conn.autocommit = True
with conn.cursor() as cur:
    cur.execute('DROP DATABASE IF EXISTS "%s"' % cfg["NAME"])
    cur.execute('CREATE DATABASE "%s"' % cfg["NAME"])
PYEOF
"$PY" -m django migrate -v0
fi
log "Benchmark"
"$PY" bench/bench_stats.py "$@"
status=$?
exit $status
