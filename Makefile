# The two set-up commands (README.md): `make run` and `make check`.
# Both install missing Debian packages themselves (scripts/install-deps).
.PHONY: all build run check bench fuzz clean deps

all: build

deps:
	@scripts/install-deps

build: deps
	@if [ ! -f build/build.ninja ]; then meson setup build -Dwerror=true >/dev/null; fi
	@ninja -C build

# The main job: boot real firmware (OVMF + swtpm), then show and verify the
# event log it measured against the TPM's own PCR values.
run: build
	@scripts/demo

# Every suite, plain and under ASan+UBSan; ends with "N passed, N failed".
check:
	@scripts/check

# Benchmarks print ratios against baselines measured in the same run.
bench: build
	@scripts/bench

# Every libFuzzer target for a bounded time (FUZZ_SECONDS each, default 60).
fuzz: deps
	@scripts/fuzz

clean:
	rm -rf build build-asan build-fuzz
