# Satchel: a plain Makefile. `make` builds build/satchel; `make test` builds
# with AddressSanitizer and UBSan and runs every test; `make bench`,
# `make fuzz` and `make soak` run the long jobs. PREFIX and DESTDIR as usual.

PREFIX	?= /usr/local
BINDIR	 = $(PREFIX)/bin
CC	?= cc
FUZZ_CC	?= clang
FUZZ_SECONDS ?= 60

# msgpack-c 6.x renamed its pkg-config file.
MSGPACK_PC := $(shell pkg-config --exists msgpack-c 2>/dev/null && echo msgpack-c || echo msgpack)
PKGS	 = libsodium $(MSGPACK_PC) lmdb libuv libutf8proc
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN	 = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wformat=2 -Wwrite-strings -Wundef -Werror
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iproto -Istore -Idaemon
OPT	?= -O2 -g
# Test builds also honour SATCHEL_CLOCK_OFFSET (store/clock.c).
SAN	 = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=all -DSATCHEL_TEST_CLOCK

PROTO_SRC  = $(wildcard proto/*.c)
STORE_SRC  = $(wildcard store/*.c)
DAEMON_SRC = $(filter-out daemon/main.c,$(wildcard daemon/*.c))
LIB_SRC	   = $(PROTO_SRC) $(STORE_SRC) $(DAEMON_SRC)
UNIT_SRC   = $(wildcard tests/unit/*_test.c)
FUZZ_SRC   = $(wildcard tests/fuzz/*_fuzz.c)
BENCH_SRC  = $(wildcard tests/bench/*_bench.c)
HEADERS	   = $(wildcard proto/*.h store/*.h daemon/*.h tests/unit/*.h)

REL_OBJ	 = $(LIB_SRC:%.c=build/rel/%.o)
TEST_OBJ = $(LIB_SRC:%.c=build/test/%.o)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=build/test/unit/%)
REPLAY_BIN = $(FUZZ_SRC:tests/fuzz/%.c=build/test/replay/%)
FUZZ_BIN = $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
BENCH_BIN = $(BENCH_SRC:tests/bench/%.c=build/rel/bench/%)
# The sync floor: run by sync_bench.sh beside each full sync, not alone.
FLOOR_BIN = build/rel/bench/sync_floor
TOOL_SRC  = $(wildcard tests/tools/*.c)
TOOL_BIN  = $(TOOL_SRC:tests/tools/%.c=build/test/tools/%)

all: build/satchel

build/satchel: build/rel/daemon/main.o $(REL_OBJ)
	$(CC) $(OPT) -o $@ $^ $(PKG_LIBS)

build/rel/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(OPT) $(CPPFLAGS) $(PKG_CFLAGS) -c -o $@ $<

build/test/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(SAN) $(CPPFLAGS) $(PKG_CFLAGS) -c -o $@ $<

build/test/satchel: build/test/daemon/main.o $(TEST_OBJ)
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS)

build/test/unit/%: tests/unit/%.c $(TEST_OBJ) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(SAN) $(CPPFLAGS) $(PKG_CFLAGS) -o $@ $< $(TEST_OBJ) $(PKG_LIBS)

build/test/tools/%: tests/tools/%.c $(TEST_OBJ) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(SAN) $(CPPFLAGS) $(PKG_CFLAGS) -o $@ $< $(TEST_OBJ) $(PKG_LIBS)

# The fuzz targets' corpora are replayed under the sanitizers by make test.
build/test/replay/%: tests/fuzz/%.c tests/fuzz/replay.c $(TEST_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(SAN) $(CPPFLAGS) $(PKG_CFLAGS) -o $@ $< tests/fuzz/replay.c $(TEST_OBJ) $(PKG_LIBS)

build/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined $(CPPFLAGS) $(PKG_CFLAGS) -o $@ $< $(LIB_SRC) $(PKG_LIBS)

build/rel/tools/%: tests/tools/%.c $(REL_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(OPT) $(CPPFLAGS) $(PKG_CFLAGS) -o $@ $< $(REL_OBJ) $(PKG_LIBS)

build/rel/bench/%: tests/bench/%.c $(REL_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(OPT) $(CPPFLAGS) $(PKG_CFLAGS) -o $@ $< $(REL_OBJ) $(PKG_LIBS)

test: build/test/satchel $(UNIT_BIN) $(REPLAY_BIN) $(TOOL_BIN)
	SATCHEL=$(CURDIR)/build/test/satchel TOOLS=$(CURDIR)/build/test/tools \
	    bash tests/run.sh

# The long versions of the kill tests, then every regression script over
# and over (tests/soak/run.sh says how to size it).
soak: build/test/satchel $(TOOL_BIN)
	SATCHEL=$(CURDIR)/build/test/satchel TOOLS=$(CURDIR)/build/test/tools \
	    bash tests/soak/run.sh

fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f _fuzz); \
	  mkdir -p build/fuzz/corpus/$$n; \
	  echo "== $$n: $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    build/fuzz/corpus/$$n tests/fuzz/corpus/$$n || exit 1; done

bench: build/satchel $(BENCH_BIN) $(FLOOR_BIN) $(TOOL_SRC:tests/tools/%.c=build/rel/tools/%)
	SATCHEL=$(CURDIR)/build/satchel bash tests/bench/run.sh

deps:
	@bash contrib/install-deps.sh

demo: deps
	$(MAKE) build/satchel
	bash contrib/demo.sh

install: build/satchel
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 build/satchel $(DESTDIR)$(BINDIR)/satchel

clean:
	rm -rf build

.PHONY: all test soak fuzz bench deps demo install clean
.SECONDARY:
