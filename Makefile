# Thin wrappers over cargo and the test scripts. `make demo` and `make test`
# are the two commands of the README; both work on a fresh machine.

CARGO ?= cargo
PREFIX ?= /usr/local
CC ?= cc
CFLAGS_STRICT = -std=c11 -Wall -Wextra -Werror -pedantic -g
TARGET_DIR := $(shell $(CARGO) metadata --format-version 1 --no-deps 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null || echo target)
LIBDIR := $(TARGET_DIR)/debug
BUILD := build

.PHONY: all build demo test header deps clean install bench bench-folders bench-download bench-streams bench-many-files bench-limit-rate bench-async bench-node bench-python fuzz wheel node-pack dll dist-windows test-windows

all: build

## Set-up: anything the tests need beyond the Rust toolchain and a C compiler.
deps:
	@scripts/ensure-deps.sh

build:
	$(CARGO) build --workspace

## The seed's demo flow in C against a local wantu-server (scripts/demo.sh
## builds the library, the server and the demo itself).
demo:
	@scripts/demo.sh

## Every test: fmt, clippy, Rust unit and integration tests, C tests under
## valgrind, bindings, install (scripts/test.sh builds what it needs, and
## fails at the first stage that fails).
test: deps
	@scripts/test.sh

## Benchmark: the one-call upload against curl, and peak memory
## (release builds; takes a few minutes; see bench/README.md).
bench:
	@bench/run.sh

## Benchmark of many small files: wantu_upload_dir against a loop
## of wantu_upload_file through a 40 ms link, and peak RSS for 10,000 files
## (release builds; about two minutes; see bench/README.md).
bench-folders:
	@bench/folders.sh

## Peak RSS of `wantu` against the number of files: 20,000 and 200,000
## files of 10 bytes in 1,000 folders, `cp -r` up, `sync` again, `cp -r`
## down (release builds; COUNTS chooses; see bench/README.md).
bench-many-files:
	@bench/many_files.sh

## `wantu cp --limit-rate 2MiB` of a 12 MiB file, up and down: 6 s +- 25%
## (release builds; see bench/README.md).
bench-limit-rate:
	@bench/limit_rate.sh

## Node benchmark: 1000 uploads of 16 KiB at once through a 40 ms link,
## this package against the official pure-JS SDK, then 10,000 at once
## (failures, files/s, event-loop lag, fs.readFile waits, threads; see
## bench/README.md).
bench-node:
	@bench/node-async.sh

## Non-blocking calls: 1000 uploads in flight from one thread
## (examples-c/upload_many_async) against a sequential loop of the seed
## call, through an emulated 40 ms link (see bench/README.md).
bench-async:
	@bench/async.sh

## Fuzzing: each cargo-fuzz target in fuzz/ for FUZZ_SECONDS (default 30)
## on the nightly toolchain; installs cargo-fuzz if missing, fails loudly
## without nightly, and fails on any crash (see scripts/fuzz.sh).
fuzz:
	@scripts/fuzz.sh

## Download benchmark: 1 GiB against `curl -o` on loopback, and 1000 small
## files through an emulated 40 ms link (see bench/README.md).
bench-download:
	@bench/download.sh

## asyncio benchmark: 1000 AsyncWant.upload_content at once against a loop
## of Want.upload_content through a 40 ms link; threads and event-loop lag
## (release builds; about two minutes; see bench/README.md).
bench-python:
	@bench/python-async.sh

## Streams benchmark: `wantu cat | md5sum` against `curl | md5sum` on a
## 512 MiB file, `wantu cp -` from a pipe, a zip member through Want.open,
## a 1 MiB range (release builds; see bench/README.md).
bench-streams:
	@bench/streams.sh

## Windows (x86_64-pc-windows-gnu, docs/windows.md). Each installs its
## toolchain with apt-get first (scripts/windows/ensure-deps.sh) and builds
## in target/windows with Debian's cargo-web, apart from the Linux build.
## dll: build/windows/wantu.dll, wantu.dll.a (import library), libwantu.a.
dll:
	@scripts/windows/build.sh

## dist-windows: build/windows/wantu-VERSION-x86_64-pc-windows-gnu.zip
## (the DLL, both libraries, wantu.h, wantu.hpp and a README).
dist-windows: dll
	@scripts/windows/dist.sh

## test-windows: the C tests built with MinGW-w64 and run under Wine
## against a wantu-server on Linux (slow: a cold run builds std and the DLL).
test-windows:
	@scripts/windows/test.sh

## Regenerate the committed C header from the Rust sources.
header:
	WANTU_WRITE_HEADER=1 $(CARGO) build

## Installation: `make install PREFIX=/usr/local` (DESTDIR for staging).
## GNU-style lower-case directory variables, so they do not clash with the
## build-tree LIBDIR above.
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
MAJOR := $(firstword $(subst ., ,$(VERSION)))
libdir ?= $(PREFIX)/lib
bindir ?= $(PREFIX)/bin
includedir ?= $(PREFIX)/include
pkgconfigdir ?= $(libdir)/pkgconfig

## Builds the release library and installs libwantu.so.X.Y.Z (soname
## libwantu.so.MAJOR) with its two links, libwantu.a, both headers, wantu.pc
## and the command-line tool bin/wantu (docs/cli.md).
## The installed libraries are stripped (the .so keeps its exported symbols,
## the .a its symbol table); `make install STRIP=true` keeps everything.
STRIP ?= strip
install:
	$(CARGO) build --release -p wantu -p wantu-cli
	install -d $(DESTDIR)$(libdir) $(DESTDIR)$(includedir) $(DESTDIR)$(pkgconfigdir) $(DESTDIR)$(bindir)
	install -m 0755 $(TARGET_DIR)/release/wantu $(DESTDIR)$(bindir)/wantu
	install -m 0755 $(TARGET_DIR)/release/libwantu.so $(DESTDIR)$(libdir)/libwantu.so.$(VERSION)
	ln -sfn libwantu.so.$(VERSION) $(DESTDIR)$(libdir)/libwantu.so.$(MAJOR)
	ln -sfn libwantu.so.$(MAJOR) $(DESTDIR)$(libdir)/libwantu.so
	install -m 0644 $(TARGET_DIR)/release/libwantu.a $(DESTDIR)$(libdir)/libwantu.a
	$(STRIP) --strip-unneeded $(DESTDIR)$(libdir)/libwantu.so.$(VERSION)
	$(STRIP) --strip-debug $(DESTDIR)$(libdir)/libwantu.a
	install -m 0644 include/wantu.h include/wantu.hpp $(DESTDIR)$(includedir)/
	sed -e 's|@PREFIX@|$(PREFIX)|' \
	    -e 's|@LIBDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(libdir))|' \
	    -e 's|@INCLUDEDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(includedir))|' \
	    -e 's|@VERSION@|$(VERSION)|' wantu.pc.in > $(DESTDIR)$(pkgconfigdir)/wantu.pc
	@echo "installed libwantu $(VERSION) into $(DESTDIR)$(PREFIX)"

## Python wheel: builds the release library and leaves
## dist/wantu-VERSION-py3-none-PLATFORM.whl holding want.py and libwantu.so
## (bindings/python/pyproject.toml; docs/python.md).
## pip comes from a virtual environment of its own (build/wheel-venv), as
## Debian's python3 has no pip; pip fetches the build backend (hatchling).
WHEEL_VENV := $(BUILD)/wheel-venv
wheel:
	mkdir -p dist $(BUILD)
	[ -x $(WHEEL_VENV)/bin/python ] || python3 -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/python -m pip wheel --no-deps --disable-pip-version-check -w dist ./bindings/python

## Node package: builds the release library and leaves dist/libwantu-VERSION.tgz
## holding it (bindings/node; docs/node.md). `npm install dist/libwantu-*.tgz`.
node-pack:
	mkdir -p dist
	cd bindings/node && npm pack --pack-destination ../../dist

clean:
	$(CARGO) clean
	rm -rf $(BUILD) dist bindings/node/native
