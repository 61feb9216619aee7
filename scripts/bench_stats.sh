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
fresh_bench_database
fi
log "Benchmark"
"$PY" bench/bench_stats.py "$@"
status=$?
exit $status
