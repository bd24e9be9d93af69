# kdc — the two Quick start commands are `make demo` and `make test`.
SHELL := /bin/bash
SWIFT ?= swift
CONFIG ?= samples/digits/config.yaml
OUT ?= out/digits
# The tests also need clang, valgrind, for the Cortex-M4 firmware (samples/firmware) the
# arm-none-eabi toolchain and QEMU, for the riscv32 target the riscv64-unknown-elf toolchain,
# picolibc and qemu-system-misc, and chromium (headless) for the report page's browser test.

.PHONY: setup setup-run venv build release demo check test test-swift test-runtime fuzz-tflite bench lint lint-setup clean

# Installs the Debian packages kdc needs, if any is missing (needs root or sudo). apt-get's output
# goes to a log printed only when it fails. `make demo` needs only the first list.
RUN_PACKAGES := zlib1g-dev libopenblas-dev gcc make
DEB_PACKAGES := $(RUN_PACKAGES) clang valgrind gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm \
	gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc chromium
define install_missing
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; log=$$(mktemp); \
	  if ! { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; } >$$log 2>&1; then \
	    cat $$log; rm -f $$log; echo "apt-get failed (output above)"; exit 1; \
	  fi; rm -f $$log; \
	fi
endef

setup:
	$(call install_missing,$(DEB_PACKAGES))

setup-run:
	$(call install_missing,$(RUN_PACKAGES))

# The project venv (.venv, not in git): LiteRT, the oracle for TensorFlow Lite arithmetic
# (scripts/litert_oracle.py), with the pins of scripts/oracle-requirements.txt. Made again when that
# file changes; the stamp records that every pin installed.
VENV := .venv
VENV_STAMP := $(VENV)/.kdc-oracle-stamp
venv: $(VENV_STAMP)

$(VENV_STAMP): scripts/oracle-requirements.txt
	@python3 -c 'import venv, ensurepip' 2>/dev/null || { SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-venv; }
	python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check -r scripts/oracle-requirements.txt
	$(VENV)/bin/python -c 'from ai_edge_litert.interpreter import Interpreter'
	@touch $@

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

# The main job on the bundled sample: only what it needs, and quiet until something fails.
demo: setup-run
	@echo "building kdc (release; about a minute the first time)"
	$(SWIFT) build -c release --quiet
	.build/release/kdc build $(CONFIG) --out $(OUT)

# The fast tier (docs/TESTING.md): the Swift unit tests and the C runtime's tests under gcc and
# clang, without QEMU, whole builds or the fuzzer. Under 3 minutes on a warm build.
CHECK_SKIP := FirmwareTests TargetMatrixTests DeviceRunTests InterruptionTests PipelineTests ExportHostLatencyTests \
	DataCommandTests TFLiteOracleTests TFLiteTeacherBuildTests ReportPageBuildTests ReportBrowserTests \
	AudioFirmwareTests SensorFirmwareTests DeviceBenchCLITests StudentSearchBuildTests InstructionModelTests
check: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build $(addprefix --skip ,$(CHECK_SKIP))
	$(MAKE) -C runtime test

# Everything: the README's test command and what CI runs. The venv comes first: the oracle tests
# compare with LiteRT.
test: setup venv test-swift test-runtime fuzz-tflite

test-swift:
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

test-runtime:
	$(MAKE) -C runtime ci

# The TensorFlow Lite reader's libFuzzer target (fuzz/tflite/README.md), built with swiftc
# -sanitize=fuzzer,address from the reader's sources: TFLITE_FUZZ_SECONDS of fuzzing (30 in
# make test) from the committed seeds and the MLPerf Tiny files; a finding fails.
TFLITE_FUZZ_SECONDS ?= 30
fuzz-tflite:
	sh fuzz/tflite/run.sh fuzz $(TFLITE_FUZZ_SECONDS)

# Formatting: one configuration per language (.swift-format, .clang-format, ruff.toml), applied to
# the whole tree; generated files (golden data, exported arrays) are left out.
RUFF_VERSION := 0.17.6
LINT_C = $(shell git ls-files '*.c' '*.h' | grep -v -E 'runtime/tests/(golden_|kdc_exported)')
LINT_PY = $(shell git ls-files '*.py')
lint-setup: setup
	@command -v clang-format >/dev/null || { SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get install -y -qq clang-format; }
	@ruff --version 2>/dev/null | grep -q ' $(RUFF_VERSION)$$' || python3 -m pip install -q ruff==$(RUFF_VERSION)

lint: lint-setup
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift
	clang-format --dry-run --Werror $(LINT_C)
	ruff format --check --quiet $(LINT_PY)

bench: release
	.build/release/kdc bench

clean:
	rm -rf .build out fuzz/tflite/bin fuzz/tflite/work
	@if [ -f runtime/Makefile ]; then $(MAKE) -C runtime clean; fi
