# Kokuho — `make demo` sets everything up and runs the main job; `make test` runs every test.
PORT ?= 8000
SERVE ?= 1
HOUSEHOLDS ?= 3000
SEED ?= 1
PG ?= postgresql://postgres@127.0.0.1:5432
VENV := .venv
KOKUHO := $(VENV)/bin/kokuho
PYTEST := $(VENV)/bin/pytest
# Tests run on every core (pytest-xdist; each worker has its own test databases).
TEST_JOBS ?= auto
PYTEST_ARGS ?= -q -n $(TEST_JOBS) --dist worksteal

# Python caches compiled modules only if allowed: this machine's environment forbids it
# (PYTHONDONTWRITEBYTECODE), so every process — each test worker, each `kokuho` a test starts
# — compiled ~1,800 modules again (4 s of a 4.5 s `kokuho scenario run`).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo test setup system-deps pg-up lint test-sqlite test-postgres bench clean

$(VENV)/.synced: pyproject.toml uv.lock scripts/bootstrap-venv.sh
	@scripts/bootstrap-venv.sh
	@touch $@

system-deps:
	@scripts/system-deps.sh

setup: system-deps $(VENV)/.synced

pg-up:
	@scripts/pg-up.sh

demo: setup
	@$(KOKUHO) migrate --noinput -v0
	@$(KOKUHO) migrate --database vault --noinput -v0
	@$(KOKUHO) demo --households $(HOUSEHOLDS) --seed $(SEED)
# Served, the demo also runs the task worker that the 取込 screen's uploads wait for
# (`kokuho db_worker`); it is stopped when the server stops (Ctrl-C, or a failed start).
ifeq ($(SERVE),1)
	@echo "==> http://127.0.0.1:$(PORT)/ で待ち受けます (Ctrl-C で終了)"
	@$(KOKUHO) db_worker --no-reload -v0 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	$(KOKUHO) runserver 127.0.0.1:$(PORT) --noreload --skip-checks
endif

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The suite runs twice: on the embedded SQLite default and on PostgreSQL (databases named
# for CI so that a developer's own databases are never touched; pytest-django creates them).
test-sqlite: setup
	env -u KOKUHO_DATABASE_URL -u KOKUHO_VAULT_DATABASE_URL $(PYTEST) $(PYTEST_ARGS)

test-postgres: setup pg-up
	KOKUHO_DATABASE_URL=$(PG)/kokuho_ci KOKUHO_VAULT_DATABASE_URL=$(PG)/kokuho_ci_vault \
		$(PYTEST) $(PYTEST_ARGS)

test: lint test-sqlite test-postgres

bench: setup pg-up
	$(VENV)/bin/python bench/demo_city.py
	$(VENV)/bin/python bench/import_changes.py
	$(VENV)/bin/python bench/city_month.py
	$(VENV)/bin/python bench/kogaku_month.py
	$(VENV)/bin/python bench/notices_pdf.py
	$(VENV)/bin/python bench/certificates.py
	$(VENV)/bin/python bench/payments.py
	$(VENV)/bin/python bench/national_feeds.py --insured 200000
	$(VENV)/bin/python bench/counter_load.py

clean:
	rm -rf var
