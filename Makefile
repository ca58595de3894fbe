# Thin front for CMake + Ninja. `make demo` and `make check` are the two commands in README.md.
BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= 2
CMAKE_GEN  := -G Ninja

.PHONY: all deps build asan demo check test unit format bench clean fuzz

all: build

deps:
	@scripts/install-deps.sh

build:
	@cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

asan:
	@cmake -S . -B $(BUILD_ASAN) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_ASAN) -j$(JOBS)

demo: deps build
	@scripts/demo.sh

# Every test: unit tests twice (plain and under ASan/UBSan), then integration and Node tests.
check: deps build asan fuzz
	cd $(BUILD_ASAN) && ctest -L unit --output-on-failure
	cd $(BUILD) && ctest --output-on-failure

test: build
	cd $(BUILD) && ctest --output-on-failure

unit: build
	cd $(BUILD) && ctest -L unit --output-on-failure

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

bench: build
	@scripts/install-deps.sh --bench
	bench/proxy.sh

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)

# libFuzzer targets (clang-14) over a scratch copy of the checked-in corpus; FUZZ_SECONDS each.
FUZZ_SECONDS ?= 10
fuzz:
	@CC=clang-14 cmake -S fuzz -B build-fuzz $(CMAKE_GEN) >/dev/null
	@cmake --build build-fuzz -j$(JOBS)
	@for t in $$(cd fuzz/corpus && ls); do \
		d=$$(mktemp -d); cp fuzz/corpus/$$t/* $$d/; \
		./build-fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=5 $$d >$$d.log 2>&1 \
			|| { tail -n 40 $$d.log; echo "fuzz_$$t found a crash ($$(grep -m1 -o 'Seed: [0-9]*' $$d.log); replay with -seed=N)"; exit 1; }; \
		echo "fuzz_$$t: $$(grep -o 'Done [0-9]* runs.*' $$d.log)"; rm -rf $$d $$d.log; \
	done

# The canary-judge benchmark: simulated rollouts, sluice against Flagger- and Kayenta-style judges.
.PHONY: bench-judge
bench-judge:
	@bench/judge.sh

# The drift benchmark: detector updates/s per core, memory per feature and model version, and
# `sluice drift` on 1,000,000 rows x 20 columns against SciPy (docs/BENCHMARKS.md, "Drift").
.PHONY: bench-drift
bench-drift:
	@bench/drift.sh

# The experiments benchmark: aggregator events/s and analysis time for 10 M events, 4 variants and
# 10 metrics, against NumPy/SciPy in the same run (docs/BENCHMARKS.md, "Experiments").
.PHONY: bench-experiments
bench-experiments:
	@bench/experiments.sh

# The guard benchmark: the input pipeline's MB/s per core and p99 for a 2 KB prompt, against a
# PCRE2 JIT loop over the same rules (docs/BENCHMARKS.md, "Guard").
.PHONY: bench-guard
bench-guard:
	@bench/guard.sh

# The guard's cost per gateway request, in instructions (callgrind): sluice with and without the
# guard in front of `sluice sim` (docs/BENCHMARKS.md, "The guard's cost per request, counted").
.PHONY: bench-guard-gateway
bench-guard-gateway: build
	@bench/guard_gateway.sh

# The guard's cost on streamed answers, in CPU time: sluice with and without the guard, alternated
# (docs/BENCHMARKS.md, "The guard on streamed answers").
.PHONY: bench-guard-stream
bench-guard-stream: build
	@bench/guard_stream.sh
