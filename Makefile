# Satchel: a plain Makefile. `make` builds build/satchel; `make test` builds
# with AddressSanitizer and UBSan and runs every test; `make bench`,
# `make fuzz` and `make soak` run the long jobs. PREFIX and DESTDIR as usual.

PREFIX	?= /usr/local
BINDIR	 = $(PREFIX)/bin
MANDIR	 = $(PREFIX)/share/man
COMPDIR	 = $(PREFIX)/share/bash-completion/completions
UNITDIR	 = $(PREFIX)/lib/systemd/system
USERUNITDIR = $(PREFIX)/lib/systemd/user
SYSUSERSDIR = $(PREFIX)/lib/sysusers.d
CC	?= cc
FUZZ_CC	?= clang
FUZZ_SECONDS ?= 60

# msgpack-c 6.x renamed its pkg-config file.
MSGPACK_PC := $(shell pkg-config --exists msgpack-c 2>/dev/null && echo msgpack-c || echo msgpack)
PKGS	 = libsodium $(MSGPACK_PC) lmdb libuv libutf8proc jansson libqrencode
# Opened with dlopen when first used (daemon/dl.h), not linked: the page's
# server (libmicrohttpd, and GnuTLS behind it) and the desktop keyring
# (libsecret, GLib, GIO), which cost every command ~9 ms of start-up.
# Their headers are needed to build; their SONAMEs are read from the
# development links.
DL_PKGS	 = libmicrohttpd
soname	 = $(shell objdump -p $$(pkg-config --variable=libdir $(1))/$(2) \
	   2>/dev/null | sed -n 's/^ *SONAME *//p')
MHD_SONAME := $(call soname,libmicrohttpd,libmicrohttpd.so)
CPPFLAGS += -DMHD_SONAME='"$(or $(MHD_SONAME),libmicrohttpd.so.12)"'
# The desktop keyring (daemon/keys/secret.c) where libsecret is installed;
# without it the passphrase is the only way to unlock the keys.
ifeq ($(shell pkg-config --exists libsecret-1 2>/dev/null && echo y),y)
DL_PKGS	+= libsecret-1
SECRET_SONAME := $(call soname,libsecret-1,libsecret-1.so)
CPPFLAGS += -DSATCHEL_LIBSECRET \
	    -DLIBSECRET_SONAME='"$(or $(SECRET_SONAME),libsecret-1.so.0)"'
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(DL_PKGS) 2>/dev/null)
# libcsv (libcsv-dev) ships no pkg-config file.
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv -ldl

WARN	 = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wformat=2 -Wwrite-strings -Wundef -Werror
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iproto -Istore -Idaemon \
	    -Idaemon/cli -Idaemon/net -Idaemon/team -Idaemon/keys -Idaemon/http
OPT	?= -O2 -g
# Test builds also honour SATCHEL_CLOCK_OFFSET (store/clock.c) and
# SATCHEL_TEST_FAST_KDF (daemon/keys/keys.c).
SAN	 = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=all -DSATCHEL_TEST_CLOCK

PROTO_SRC  = $(wildcard proto/*.c)
STORE_SRC  = $(wildcard store/*.c)
# The page's files are compiled in (daemon/http/embed.sh).
PAGE_FILES = $(shell find daemon/http/page -type f ! -name '.*' 2>/dev/null)
PAGE_SRC   = build/gen/page.c
DAEMON_SRC = $(filter-out daemon/cli/main.c,$(wildcard daemon/*.c daemon/*/*.c)) \
	     $(PAGE_SRC)
LIB_SRC	   = $(PROTO_SRC) $(STORE_SRC) $(DAEMON_SRC)
UNIT_SRC   = $(wildcard tests/unit/*_test.c)
FUZZ_SRC   = $(wildcard tests/fuzz/*_fuzz.c)
BENCH_SRC  = $(wildcard tests/bench/*_bench.c)
HEADERS	   = $(wildcard proto/*.h store/*.h daemon/*.h daemon/*/*.h \
	     tests/unit/*.h)

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
FUZZ_HDR  = $(wildcard tests/fuzz/*.h)
BENCH_HDR = $(wildcard tests/bench/*.h)

all: build/satchel

$(PAGE_SRC): daemon/http/embed.sh $(PAGE_FILES)
	@mkdir -p $(dir $@)
	sh daemon/http/embed.sh daemon/http/page $@

build/satchel: build/rel/daemon/cli/main.o $(REL_OBJ)
	$(CC) $(OPT) -o $@ $^ $(PKG_LIBS)

build/rel/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(OPT) $(CPPFLAGS) $(PKG_CFLAGS) -c -o $@ $<

build/test/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(SAN) $(CPPFLAGS) $(PKG_CFLAGS) -c -o $@ $<

build/test/satchel: build/test/daemon/cli/main.o $(TEST_OBJ)
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS)

build/test/unit/%: tests/unit/%.c $(TEST_OBJ) $(HEADERS) $(FUZZ_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(SAN) $(CPPFLAGS) $(PKG_CFLAGS) -o $@ $< $(TEST_OBJ) $(PKG_LIBS)

build/test/tools/%: tests/tools/%.c $(TEST_OBJ) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(SAN) $(CPPFLAGS) $(PKG_CFLAGS) -o $@ $< $(TEST_OBJ) $(PKG_LIBS)

# The fuzz targets' corpora are replayed under the sanitizers by make test.
build/test/replay/%: tests/fuzz/%.c tests/fuzz/replay.c $(TEST_OBJ) $(FUZZ_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(SAN) $(CPPFLAGS) $(PKG_CFLAGS) -o $@ $< tests/fuzz/replay.c $(TEST_OBJ) $(PKG_LIBS)

build/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(HEADERS) $(FUZZ_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined $(CPPFLAGS) $(PKG_CFLAGS) -o $@ $< $(LIB_SRC) $(PKG_LIBS)

build/rel/tools/%: tests/tools/%.c $(REL_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(OPT) $(CPPFLAGS) $(PKG_CFLAGS) -o $@ $< $(REL_OBJ) $(PKG_LIBS)

# tests/bench/common.c: what the drivers share.
build/rel/bench/%: tests/bench/%.c tests/bench/common.c $(BENCH_HDR) $(REL_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(OPT) $(CPPFLAGS) $(PKG_CFLAGS) -o $@ $< \
	    tests/bench/common.c $(REL_OBJ) $(PKG_LIBS)

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

build/satchel.1: contrib/satchel.1.scd
	@mkdir -p build
	scdoc <contrib/satchel.1.scd >$@

# The binary, the man page (scdoc), bash completion, the box's hardened
# system unit with its user (sysusers.d), and the laptops' user unit.
# The units name the binary where it is installed. On a box, then:
#   systemd-sysusers && systemctl daemon-reload (the Debian package does it)
install: build/satchel build/satchel.1
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(COMPDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(USERUNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	install -m 755 build/satchel $(DESTDIR)$(BINDIR)/satchel
	install -m 644 build/satchel.1 $(DESTDIR)$(MANDIR)/man1/satchel.1
	install -m 644 contrib/satchel.bash-completion $(DESTDIR)$(COMPDIR)/satchel
	sed 's|/usr/local/bin/satchel|$(BINDIR)/satchel|' \
	    contrib/satchel-box.service >$(DESTDIR)$(UNITDIR)/satchel-box.service
	sed 's|/usr/local/bin/satchel|$(BINDIR)/satchel|' \
	    contrib/satchel.service >$(DESTDIR)$(USERUNITDIR)/satchel.service
	chmod 644 $(DESTDIR)$(UNITDIR)/satchel-box.service \
	    $(DESTDIR)$(USERUNITDIR)/satchel.service
	install -m 644 contrib/satchel.sysusers $(DESTDIR)$(SYSUSERSDIR)/satchel.conf

# The box unit must rate "OK" (2.0 or lower) in systemd-analyze security;
# skipped, saying so, where systemd-analyze is not installed.
check-units:
	@bash contrib/check-units.sh contrib/satchel-box.service

# A Debian package of `make install` with PREFIX=/usr, its dependencies
# from the libraries the binary links (dpkg-shlibdeps).
deb: build/satchel build/satchel.1
	bash contrib/mkdeb.sh

# Installs and removes the package in a fresh Debian 12 chroot (root,
# debootstrap or DEB_TEST_ROOT; not part of make test).
deb-test: deb
	bash contrib/deb-test.sh

clean:
	rm -rf build

.PHONY: all test soak fuzz bench deps demo install check-units deb deb-test clean
.SECONDARY:
