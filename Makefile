PYTEST_ARGS ?=

.PHONY: test demo bench bench-stats schema migrations lint

test:            ## the whole test suite (sets up venv and services itself)
	bash scripts/test.sh $(PYTEST_ARGS)

demo:            ## a real Saleor + plugin + Celery + demo store on 127.0.0.1:8000
	bash scripts/demo.sh

bench:           ## renewal benchmark (printed table)
	bash scripts/bench.sh $(BENCH_ARGS)

SIZE ?= 1000000
bench-stats:     ## metrics benchmark on SIZE bulk-loaded subscriptions (printed table)
	bash scripts/bench_stats.sh --subscriptions $(SIZE)

schema:          ## rewrite schema.graphql from the running code
	bash -c 'source scripts/env.sh && ensure_venv && $$PY -m django print_subscriptions_schema > schema.graphql'

migrations:
	bash -c 'source scripts/env.sh && ensure_all && ensure_database && $$PY -m django makemigrations saleor_subscriptions'

lint:
	.venv/bin/ruff check saleor_subscriptions tests bench
