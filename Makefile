# Thin wrappers over cargo and the test scripts. `make demo` and `make test`
# are the two commands of the README; both work on a fresh machine.

CARGO ?= cargo
PREFIX ?= /usr/local
CC ?= cc
CFLAGS_STRICT = -std=c11 -Wall -Wextra -Werror -pedantic -g
TARGET_DIR := $(shell $(CARGO) metadata --format-version 1 --no-deps 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null || echo target)
LIBDIR := $(TARGET_DIR)/debug
BUILD := build

.PHONY: all build demo test header deps clean

all: build

## Set-up: anything the tests need beyond the Rust toolchain and a C compiler.
deps:
	@scripts/ensure-deps.sh

build:
	$(CARGO) build --workspace

## The seed's demo flow in C against a local wantu-server.
demo: build
	@scripts/demo.sh

## Every test: Rust unit and integration tests, C tests under valgrind,
## bindings, install.
test: deps build
	@scripts/test.sh

## Regenerate the committed C header from the Rust sources.
header:
	WANTU_WRITE_HEADER=1 $(CARGO) build

clean:
	$(CARGO) clean
	rm -rf $(BUILD)
