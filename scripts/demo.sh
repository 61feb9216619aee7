#!/usr/bin/env bash
# The main job: a real Saleor 2.10.1 with the plugin on PostgreSQL, a Celery worker and beat on
# Redis, a demo store with subscription products, GraphQL on http://127.0.0.1:${PORT:-8000}/graphql/.
# localstripe is the embedded Stripe unless STRIPE_SECRET_KEY (and STRIPE_PUBLISHABLE_KEY) are set;
# it keeps its state in .run/localstripe.pickle, so a restart keeps the demo's subscriptions
# renewable (delete that file only together with the demo database).
# DEMO_SMOKE=1 runs a storefront purchase against the live server and exits (used to verify).
source "$(dirname "$0")/env.sh"
export DATABASE_URL="${DEMO_DATABASE_URL:-$DATABASE_URL}"
PORT="${PORT:-8000}"
STRIPE_PORT="${STRIPE_PORT:-8420}"
RUN="$ROOT/.run"
mkdir -p "$RUN"
ensure_all
ensure_database
cd "$ROOT"

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

log "Migrating the database"
"$PY" -m django migrate -v0

if [ -z "${STRIPE_SECRET_KEY:-}" ]; then
  log "Starting localstripe on 127.0.0.1:$STRIPE_PORT (set STRIPE_SECRET_KEY to use real Stripe)"
  (cd "$RUN" && exec "$PY" -m saleor_subscriptions.testing.localstripe_server --port "$STRIPE_PORT" \
    --state "$RUN/localstripe.pickle") >>"$RUN/localstripe.log" 2>&1 &
  pids+=($!)
  export STRIPE_SECRET_KEY="sk_test_demo"
  export STRIPE_PUBLISHABLE_KEY="${STRIPE_PUBLISHABLE_KEY:-pk_test_demo}"
  export STRIPE_API_BASE="http://127.0.0.1:$STRIPE_PORT"
  # The host allows the plugin to send the key to this localstripe (never set by staff).
  export SUBSCRIPTIONS_ALLOWED_STRIPE_API_BASES="$STRIPE_API_BASE"
  for _ in $(seq 1 30); do curl -s -o /dev/null "$STRIPE_API_BASE/v1/customers" && break; sleep 0.5; done
fi

log "Building the demo store"
"$PY" -m django subscriptions_demo --stripe-secret-key "$STRIPE_SECRET_KEY" \
  --stripe-publishable-key "${STRIPE_PUBLISHABLE_KEY:?set STRIPE_PUBLISHABLE_KEY (pk_...) with STRIPE_SECRET_KEY}" \
  --stripe-api-base "${STRIPE_API_BASE:-}"

log "Starting a Celery worker and beat"
"$PY" -m celery -A saleor.celeryconf:app worker --loglevel INFO --concurrency 2 >"$RUN/worker.log" 2>&1 &
pids+=($!)
"$PY" -m celery -A saleor.celeryconf:app beat --loglevel INFO --schedule "$RUN/celerybeat-schedule" \
  --pidfile "$RUN/celerybeat.pid" >"$RUN/beat.log" 2>&1 &
pids+=($!)

log "Saleor + subscriptions on http://127.0.0.1:$PORT/graphql/ (staff: admin@example.com / admin)"
"$PY" -m django runserver "127.0.0.1:$PORT" --noreload >"$RUN/server.log" 2>&1 &
server=$!
pids+=($server)
for _ in $(seq 1 60); do
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/graphql/" -H 'Content-Type: application/json' \
    --data '{"query":"{ shop { name } }"}' && break
  sleep 1
done

if [ "${DEMO_SMOKE:-0}" = "1" ]; then
  log "Smoke: a storefront buys a subscription over HTTP"
  "$PY" -m django subscriptions_demo_smoke --url "http://127.0.0.1:$PORT/graphql/"
  exit $?
fi
tail -n +1 -f "$RUN/server.log" &
pids+=($!)
wait "$server"
