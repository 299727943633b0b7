# citybot: `make demo` to try it, `make test` to check it. Both set up what is missing first.
SHELL := /bin/bash
GO ?= go
# Go lives in /usr/local/go on Debian machines set up from the official archive; not always on PATH.
export PATH := $(PATH):/usr/local/go/bin
BIN := bin/citybot
SAMPLE_BASE := https://www.musterstadt.example
SHARED ?= ../shared

.PHONY: setup build demo test test-go test-browser lint fuzz fuzz-short eval eval-auenstadt eval-realpages bench bench-towns bench-live sample-data clean

setup: ## install PostgreSQL, pgvector (built from Debian's source package), Chromium and Node.js where missing
	@bash scripts/setup-debian.sh

build:
	$(GO) build -o $(BIN) ./cmd/citybot

# Ingests the sample site (unchanged pages cost nothing) and serves it on http://localhost:8080,
# with the service desk open around the clock and a demo account for the console (agent,
# reviewer, admin), whose new password is printed at every start.
DEMO_STAFF := demo@musterstadt.example
# As root the database runs as the postgres user, which cannot enter a checkout under /root: the
# demo's data then lives in /var/lib/citybot-demo.
demo: setup build
	@data=$${CITYBOT_DATA:-./var}; \
	if [[ $$(id -u) -eq 0 && -z "$${CITYBOT_DATA:-}" ]] && ! runuser -u postgres -- test -x "$$(pwd)"; then \
		data=/var/lib/citybot-demo; mkdir -p $$data; echo "demo: data in $$data"; fi; \
	export CITYBOT_DATA=$$data CITYBOT_CITY=$${CITYBOT_CITY:-Musterstadt} \
		CITYBOT_PRIVACY_URL=$${CITYBOT_PRIVACY_URL:-$(SAMPLE_BASE)/datenschutz}; \
	$(BIN) ingest --dir sample/musterstadt --base-url $(SAMPLE_BASE) && \
	$(BIN) towns set musterstadt "desk_hours=Mo-So 00:00-24:00" >/dev/null && \
	for role in agent reviewer admin; do \
		$(BIN) users add --town musterstadt --email $(DEMO_STAFF) --name "Demo" --role $$role >/dev/null || exit 1; done && \
	echo "demo: the service console is http://localhost:8080/console/login for $(DEMO_STAFF) (agent, reviewer, admin)" && \
	$(BIN) users reset-password --email $(DEMO_STAFF) | tail -1 && \
	$(BIN) serve

test: setup lint eval test-go fuzz-short test-browser

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [[ -n $$out ]]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...

test-go:
	$(GO) test -race -count=1 -timeout 20m ./...

# The fuzz targets (package:target), each for FUZZTIME, one after the other: go test fuzzes one
# target at a time. What a target finds is written to its package's testdata/fuzz/ and fails the
# run; `go test ./...` replays those and the seeds. A run that fails without writing an input is
# Go's fuzzing coordinator racing its own -fuzztime deadline on a loaded machine (golang/go#75804,
# fixed in Go 1.27): the corpus is replayed and, clean, the run counts. fuzz-short, the quick round
# of make test, counts executions instead of time, which that race cannot reach.
FUZZ_TARGETS := chat:FuzzDecodeClientMessage privacy:FuzzRedact knowledge:FuzzExtract knowledge:FuzzParseSitemap \
	knowledge:FuzzRobots cmd/citybot:FuzzLoadConfig
FUZZTIME ?= 10m
fuzz:
	@for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t#*:}; dir=$$pkg/testdata/fuzz/$$name; \
		echo "fuzz: $$name in ./$$pkg for $(FUZZTIME)"; \
		before=$$(ls $$dir 2>/dev/null | wc -l); \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) ./$$pkg/ && continue; \
		if [[ $$(ls $$dir 2>/dev/null | wc -l) -gt $$before ]]; then echo "fuzz: $$name found a failing input, in $$dir"; exit 1; fi; \
		echo "fuzz: $$name stopped without a failing input (golang/go#75804): replaying its corpus"; \
		$(GO) test -count=1 -run "^$$name\$$" ./$$pkg/ || exit 1; \
	done

fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=20000x

# The widget in Debian's Chromium against a real server (widget/e2e); the service desk's mail
# goes to bin/mailsink (mailer/mailtest's SMTP server as a process). npm ci only when the lock
# file is newer than the installed packages.
E2E := widget/e2e
test-browser: build
	$(GO) build -o bin/mailsink ./mailer/mailtest/mailsink
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "test-browser: node and npm missing, run make setup"; exit 1; }
	@if [[ ! -f $(E2E)/node_modules/.package-lock.json || $(E2E)/package-lock.json -nt $(E2E)/node_modules/.package-lock.json ]]; then \
		cd $(E2E) && npm ci --no-audit --no-fund; fi
	cd $(E2E) && CITYBOT_BIN=$(CURDIR)/$(BIN) MAILSINK_BIN=$(CURDIR)/bin/mailsink node --test --test-concurrency=1 \
		widget.test.mjs console.test.mjs live.test.mjs desk.test.mjs

# The retrieval numbers on the dev questions, as reported in the README.
eval: build
	CITYBOT_DATA=$$(mktemp -d) bash -c 'chmod 755 "$$CITYBOT_DATA" && CITYBOT_CITY=Musterstadt $(BIN) ingest --dir sample/musterstadt --base-url $(SAMPLE_BASE) >/dev/null && \
		$(BIN) eval --questions "sample/eval/dev.*.jsonl"; rc=$$?; rm -rf "$$CITYBOT_DATA"; exit $$rc'

# The same on the second sample town (a messy legacy template, a Landkreis responsible for some
# services), tune and held-out questions apart.
eval-auenstadt: build
	CITYBOT_DATA=$$(mktemp -d) bash -c 'chmod 755 "$$CITYBOT_DATA" && CITYBOT_CITY=Auenstadt $(BIN) ingest --dir sample/auenstadt --base-url https://www.auenstadt.example >/dev/null && \
		$(BIN) eval --questions sample/eval-auenstadt/tune.jsonl && $(BIN) eval --questions sample/eval-auenstadt/holdout.jsonl; rc=$$?; rm -rf "$$CITYBOT_DATA"; exit $$rc'

# Real towns' pages, rebuilt locally from the search tool (eval/realpages/README.md); never committed.
REALPAGES ?= /work/data/realpages/site
eval-realpages: build
	@test -d $(REALPAGES) || { echo "eval-realpages: $(REALPAGES) missing, see eval/realpages/README.md"; exit 1; }
	CITYBOT_DATA=$$(mktemp -d) bash -c 'chmod 755 "$$CITYBOT_DATA" && CITYBOT_CITY=Realpages $(BIN) ingest --dir $(REALPAGES) --base-url https://realpages.invalid >/dev/null && \
		$(BIN) eval --questions eval/realpages/questions.tune.jsonl && $(BIN) eval --questions eval/realpages/questions.holdout.jsonl; rc=$$?; rm -rf "$$CITYBOT_DATA"; exit $$rc'

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 200x ./knowledge/

# The sample city and 200 towns generated from it in one deployment (README "Numbers"), in a
# private embedded cluster: about 15 minutes on two cores.
bench-towns: build
	CITYBOT_DATA=$$(mktemp -d) bash -c 'chmod 755 "$$CITYBOT_DATA" && $(BIN) bench --towns 200 --rounds 3; rc=$$?; rm -rf "$$CITYBOT_DATA"; exit $$rc'

# Live chat across two instances on one database (issue 12's target): 50 agents at one's
# console, 500 citizens at the other's chat, a minute of messages both ways; in a private
# embedded cluster, a few minutes on two cores.
bench-live: build
	CITYBOT_DATA=$$(mktemp -d) bash -c 'chmod 755 "$$CITYBOT_DATA" && $(BIN) bench --live --rounds 1; rc=$$?; rm -rf "$$CITYBOT_DATA"; exit $$rc'

# Re-copy the sample site and questions from ../shared, where they are written.
sample-data:
	@if [[ -d $(SHARED)/corpus/musterstadt ]]; then \
		rm -rf sample/musterstadt sample/eval && mkdir -p sample/eval && \
		cp -r $(SHARED)/corpus/musterstadt sample/ && cp $(SHARED)/corpus/OFFICES.md sample/ && \
		cp $(SHARED)/eval/*.jsonl sample/eval/ && \
		echo "sample-data: $$(find sample/musterstadt -name '*.html' | wc -l) pages, $$(cat sample/eval/*.jsonl | wc -l) questions"; \
	else echo "sample-data: $(SHARED) not found, keeping the copy in sample/"; fi

clean:
	rm -rf bin var
