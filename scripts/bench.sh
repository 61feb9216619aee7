#!/usr/bin/env bash
# The renewal benchmark on a database of its own, with the fake gateway; prints a table.
source "$(dirname "$0")/env.sh"
ensure_all
export DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/saleor_subscriptions_bench}"
export CELERY_BROKER_URL="${BENCH_CELERY_BROKER_URL:-redis://127.0.0.1:6379/10}"
export CELERY_TASK_ALWAYS_EAGER=0
export SUBSCRIPTIONS_GATEWAY=fake
export SUBSCRIPTIONS_FAKE_GATEWAY_REDIS="${SUBSCRIPTIONS_FAKE_GATEWAY_REDIS:-redis://127.0.0.1:6379/11}"
export DEBUG=False ALLOWED_CLIENT_HOSTS=localhost ENABLE_ACCOUNT_CONFIRMATION_BY_EMAIL=False
cd "$ROOT"
case " $* " in
  *" --pacer-only "*) ;;  # no database: the budget and the fake gateway alone
  *) log "Fresh benchmark database"; fresh_bench_database ;;
esac
log "Benchmark"
"$PY" bench/bench_renewals.py "$@"
status=$?
redis-cli -u "$CELERY_BROKER_URL" flushdb >/dev/null 2>&1 || true
exit $status
