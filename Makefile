# Quick start: `make run` (ask questions; a Slack bot once tokens are set) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV := $(VENV)/.dev-installed
PIN := -c constraints.txt

.PHONY: run test fuzz index docs quality answerability bench bench-ab bench-update bench-neardup bench-socket stress docker-smoke clean

$(STAMP): pyproject.toml constraints.txt tools/fetch_dictionary.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(PIN) -e .
	$(BIN)/python tools/fetch_dictionary.py
	$(BIN)/python -c 'from index.lexicon import preload; preload()'  # the dictionaries' tables, made once
	$(BIN)/python -c 'from index.kernel import warm; warm()'  # the ranking loop, compiled once (about 20 s)
	touch $(STAMP)

$(DEV): $(STAMP)
	$(BIN)/pip install --quiet $(PIN) -e '.[test,bench]'
	touch $(DEV)

run: $(STAMP) ## start the bot (Slack with tokens in the environment or .env, else a local console)
	$(BIN)/newsbot serve

test: $(DEV) ## the whole test suite
	$(BIN)/python -m pytest -q

fuzz: $(DEV) ## the property tests (any question, any JSON Lines record) with 20,000 examples each
	HYPOTHESIS_PROFILE=deep $(BIN)/python -m pytest -q tests/test_fuzz_questions.py tests/test_hostile_corpus.py

index: $(STAMP) ## (re)build the index of seeds/
	$(BIN)/newsbot index build

docs: $(DEV) ## rerun the README's example commands and write what they print (the CCTV ones take minutes)
	$(BIN)/python tools/readme_examples.py $(ARGS)

quality: $(DEV) ## answer quality per mechanism on ../shared question sets → docs/quality.md, docs/quality.png
	$(BIN)/python bench/quality.py $(ARGS)

answerability: $(DEV) ## refit the no-answer model on generated questions → index/data/answerability.json (about 10 min)
	$(BIN)/pip install --quiet $(PIN) -e '.[fit]'
	$(BIN)/python tools/fit_answerability.py $(ARGS)

bench: $(DEV) ## speed and memory at 10k/100k/1M paragraphs against tantivy, Lucene, bm25s and rank-bm25 (ARGS="--sizes 10000 --json out.json")
	$(BIN)/python bench/bench.py $(ARGS)

bench-ab: $(DEV) ## the working tree's retrieval against a git revision's, interleaved in one process (ARGS="--base HEAD~1 --size 100000")
	$(BIN)/python bench/ab.py $(ARGS)

bench-update: $(DEV) ## new news at 1M paragraphs: seconds to searchable, questions during a background merge (ARGS="--size 100000")
	$(BIN)/python bench/incremental.py $(ARGS)

bench-neardup: $(DEV) ## syndicated copies made from the CCTV archive: the share grouped with their original, distinct stories merged
	$(BIN)/python bench/neardup.py $(ARGS)

bench-socket: $(DEV) ## Socket Mode against the local fake: acks right after reconnects, reconnect time
	$(BIN)/python bench/socket_mode.py $(ARGS)

stress: $(DEV) ## the server under a burst, a steady stream and slow Slack → docs/stress.md (ARGS="--seconds 10")
	$(BIN)/python bench/stress.py $(ARGS)

docker-smoke: ## run compose.yaml with podman: news from the host, index in a volume, no Slack, restart, a signed command (as root)
	bash tools/docker-smoke.sh

clean: ## remove .venv and the index of seeds/ (start over, e.g. after a failed first make run)
	rm -rf $(VENV) .newsbot-index .pytest_cache
