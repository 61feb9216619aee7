#!/usr/bin/env bash
# pytest alone, with the test environment (used by scripts/test.sh; handy while developing).
source "$(dirname "$0")/env.sh"
# Saleor's own tasks (e-mails) run in-process during tests; tests of the real worker switch
# eager mode off for themselves.
export CELERY_TASK_ALWAYS_EAGER="${CELERY_TASK_ALWAYS_EAGER:-1}"
export JWT_VERIFY_EXPIRATION=False
# Tests run localstripe on 127.0.0.1 (any port): the plugin may send the test key there.
export SUBSCRIPTIONS_ALLOWED_STRIPE_API_BASES="${SUBSCRIPTIONS_ALLOWED_STRIPE_API_BASES:-http://127.0.0.1}"
cd "$ROOT"
exec "$PY" -m pytest "$@"
