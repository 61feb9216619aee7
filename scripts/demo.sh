#!/usr/bin/env bash
# The main job: a real Saleor 2.10.1 with the plugin on PostgreSQL, a Celery worker and beat on
# Redis, a demo store with subscription products, a customer, and a simulated year of
# subscribers (simulate_subscriptions), GraphQL on http://127.0.0.1:${PORT:-8000}/graphql/.
# localstripe is the embedded Stripe unless STRIPE_SECRET_KEY (and STRIPE_PUBLISHABLE_KEY) are set;
# it keeps its state in .run/localstripe.pickle, so a restart keeps the demo's subscriptions
# renewable (delete that file only together with the demo database).
# DEMO_SUBSCRIBERS (default 1000) and DEMO_MONTHS (default 12) size the simulated history
# (DEMO_SUBSCRIBERS=0: none); it is made once per database.
# DEMO_SMOKE=1 runs a storefront purchase against the live server and exits (used to verify).
source "$(dirname "$0")/env.sh"
export DATABASE_URL="${DEMO_DATABASE_URL:-$DATABASE_URL}"
PORT="${PORT:-8000}"
STRIPE_PORT="${STRIPE_PORT:-8420}"
DEMO_SUBSCRIBERS="${DEMO_SUBSCRIBERS:-1000}"
DEMO_MONTHS="${DEMO_MONTHS:-12}"
RUN="$ROOT/.run"
mkdir -p "$RUN"
STARTED=$SECONDS
step() { log "[$1/8] $2 ($((SECONDS - STARTED)) s so far)"; }

if [ -f "$VENV/.constraints.sha" ]; then
  step 1 "Python environment .venv (ready)"
else
  step 1 "Python environment .venv: first run installs Saleor 2.10.1 and its dependencies, about 5-10 minutes"
fi
ensure_venv
step 2 "PostgreSQL and Redis (started or installed when missing)"
ensure_postgres
ensure_redis
ensure_database
cd "$ROOT"

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

step 3 "Migrating the database (first run: about 1-2 minutes)"
"$PY" -m django migrate -v0

if [ -z "${STRIPE_SECRET_KEY:-}" ]; then
  step 4 "Starting localstripe on 127.0.0.1:$STRIPE_PORT (set STRIPE_SECRET_KEY to use real Stripe)"
  (cd "$RUN" && exec "$PY" -m saleor_subscriptions.testing.localstripe_server --port "$STRIPE_PORT" \
    --state "$RUN/localstripe.pickle") >>"$RUN/localstripe.log" 2>&1 &
  pids+=($!)
  export STRIPE_SECRET_KEY="sk_test_demo"
  export STRIPE_PUBLISHABLE_KEY="${STRIPE_PUBLISHABLE_KEY:-pk_test_demo}"
  export STRIPE_API_BASE="http://127.0.0.1:$STRIPE_PORT"
  # The host allows the plugin to send the key to this localstripe (never set by staff).
  export SUBSCRIPTIONS_ALLOWED_STRIPE_API_BASES="$STRIPE_API_BASE"
  for _ in $(seq 1 30); do curl -s -o /dev/null "$STRIPE_API_BASE/v1/customers" && break; sleep 0.5; done
else
  step 4 "Using Stripe at ${STRIPE_API_BASE:-https://api.stripe.com} (STRIPE_SECRET_KEY is set)"
fi
# The simulated customers keep paying with simulated cards once the demo runs
# (gateway/simulated.py); every other card goes to Stripe (localstripe).
export SUBSCRIPTIONS_SIMULATED_CARDS=1

step 5 "Building the demo store: staff, products, plans, a customer with a subscription (first run: about 30 s)"
"$PY" -m django subscriptions_demo --stripe-secret-key "$STRIPE_SECRET_KEY" \
  --stripe-publishable-key "${STRIPE_PUBLISHABLE_KEY:?set STRIPE_PUBLISHABLE_KEY (pk_...) with STRIPE_SECRET_KEY}" \
  --stripe-api-base "${STRIPE_API_BASE:-}"

if [ "$DEMO_SUBSCRIBERS" != "0" ]; then
  step 6 "Simulating $DEMO_MONTHS months of $DEMO_SUBSCRIBERS subscribers with the renewal engine (once per database; first run: a few minutes, progress below)"
  "$PY" -m django simulate_subscriptions --once --months "$DEMO_MONTHS" \
    --subscribers "$DEMO_SUBSCRIBERS" --seed 1 --workers 2
else
  step 6 "No simulated history (DEMO_SUBSCRIBERS=0)"
fi

step 7 "Starting a Celery worker and beat (logs in .run/)"
"$PY" -m celery -A saleor.celeryconf:app worker --loglevel INFO --concurrency 2 >"$RUN/worker.log" 2>&1 &
pids+=($!)
"$PY" -m celery -A saleor.celeryconf:app beat --loglevel INFO --schedule "$RUN/celerybeat-schedule" \
  --pidfile "$RUN/celerybeat.pid" >"$RUN/beat.log" 2>&1 &
pids+=($!)

step 8 "Starting Saleor on 127.0.0.1:$PORT"
"$PY" -m django runserver "127.0.0.1:$PORT" --noreload >"$RUN/server.log" 2>&1 &
server=$!
pids+=($server)
for _ in $(seq 1 60); do
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/graphql/" -H 'Content-Type: application/json' \
    --data '{"query":"{ shop { name } }"}' && break
  sleep 1
done

API="http://127.0.0.1:$PORT/graphql/"
card="pm_card_visa"
if [ -n "${STRIPE_API_BASE:-}" ]; then
  # A fresh PaymentMethod at the embedded Stripe, ready for checkoutPaymentCreate's token.
  card=$(curl -s -u "$STRIPE_SECRET_KEY:" "$STRIPE_API_BASE/v1/payment_methods" -d type=card \
    -d 'card[number]=4242424242424242' -d 'card[exp_month]=12' -d 'card[exp_year]=2034' \
    -d 'card[cvc]=123' | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])')
fi
cat >&2 <<EOF

  Ready after $((SECONDS - STARTED)) s.
  GraphQL API       $API
  Staff console     http://127.0.0.1:$PORT/subscriptions/dashboard/
  Staff sign-in     admin@example.com / admin   (console, tokenCreate, Saleor's dashboard)
  Customer sign-in  customer@example.com / customer   (subscribed to "Club medium")
  Test card         $card   (token for checkoutPaymentCreate; one use: README "Test cards")
  Stripe            ${STRIPE_API_BASE:-https://api.stripe.com} (secret key ${STRIPE_SECRET_KEY:0:8}...)
  Logs              $RUN/{server,worker,beat,localstripe}.log
  Stop              Ctrl-C

EOF

if [ "${DEMO_SMOKE:-0}" = "1" ]; then
  log "Smoke: a storefront buys a subscription over HTTP"
  "$PY" -m django subscriptions_demo_smoke --url "$API"
  exit $?
fi
tail -n +1 -f "$RUN/server.log" &
pids+=($!)
wait "$server"
