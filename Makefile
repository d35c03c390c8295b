# The two commands of the README: `make run` and `make test`. Both install what is missing first.
BUILD_TYPE_DIR := build
TEST_DIR       := build-test
JOBS           ?= $(shell nproc)

.PHONY: deps build build-test run test tsan fuzz lint format bench microbench image image-test clean

deps:
	@bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD_TYPE_DIR) -DCMAKE_BUILD_TYPE=Release -DMGW_BUILD_TESTS=OFF >/dev/null
	cmake --build $(BUILD_TYPE_DIR) -j $(JOBS) --target matomo-gateway

run: build
	@bash scripts/run-local.sh $(BUILD_TYPE_DIR)/matomo-gateway $(ARGS)

# Tests build with assertions and AddressSanitizer + UndefinedBehaviorSanitizer, so every
# integration test also runs the real gateway binary under the sanitizers.
build-test: deps
	cmake -S . -B $(TEST_DIR) -DCMAKE_BUILD_TYPE=Debug -DMGW_SANITIZE=address,undefined >/dev/null
	cmake --build $(TEST_DIR) -j $(JOBS)

# The Release build is part of the test: warnings that only appear with optimisation (and break
# `make run` and the Docker image) fail here first.
test: build build-test
	cd $(TEST_DIR) && ctest --output-on-failure --timeout 600

# The multi-threaded server and writer tests under ThreadSanitizer (the gateway binary they start
# is built with it too).
tsan: deps
	cmake --preset tsan >/dev/null
	cmake --build --preset tsan -j $(JOBS) --target matomo-gateway mgw_tests_integration mgw_tests_queue
	cd build-tsan && ctest --output-on-failure --timeout 600 -R "^(integration|queue):"

# libFuzzer (clang-14 from Debian) over every fuzz/ target, FUZZ_SECONDS each, one after another, in
# build-fuzz. `make test` already replays the committed corpora without clang.
FUZZ_SECONDS ?= 600
fuzz: deps
	@bash scripts/install-deps.sh --fuzz
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS) --target $$(sed "s/^/mgw_fuzz_/" build-fuzz/fuzz-targets.txt)
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh build-fuzz

# clang-format (check only) and clang-tidy over our sources, with build-lint/compile_commands.json.
# LINT_FILES narrows it, e.g. `make lint LINT_FILES="php/parse_str.cpp gateway/session.cpp"`.
lint: deps
	@bash scripts/install-deps.sh --lint
	cmake -S . -B build-lint -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@bash scripts/lint.sh build-lint $(LINT_FILES)

# Applies clang-format to LINT_FILES (default: every C++ source of the project).
format:
	@bash scripts/install-deps.sh --lint
	@bash scripts/lint.sh --format $(LINT_FILES)

# The performance run of docs/performance.md: gateway and an nginx `return 204` reference on this box.
bench: deps
	@bash scripts/install-deps.sh --bench
	@BUILD_DIR=$(BUILD_TYPE_DIR) JOBS=$(JOBS) STOCK_URL='$(STOCK_URL)' STOCK_REDIS='$(STOCK_REDIS)' bash scripts/bench.sh

# Catch2 micro-benchmarks (parse, queue choice, JSON, compression per level, writer hits/s against
# a local redis-server), Release build.
microbench: deps
	cmake -S . -B $(BUILD_TYPE_DIR) -DCMAKE_BUILD_TYPE=Release -DMGW_BUILD_TESTS=OFF >/dev/null
	cmake --build $(BUILD_TYPE_DIR) -j $(JOBS) --target matomo-microbench
	$(BUILD_TYPE_DIR)/matomo-microbench --benchmark-samples 20

# The Dockerfile built with Debian's podman on a local debootstrapped Debian 12 base (no Docker engine,
# no registry), and the check of the built image's file system. Root; minutes, so not part of `make test`.
image:
	@bash scripts/install-deps.sh --image
	bash scripts/image.sh

image-test:
	bash scripts/image-test.sh

clean:
	rm -rf $(BUILD_TYPE_DIR) $(TEST_DIR) build-fuzz build-lint
