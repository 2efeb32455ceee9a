# ftp-tunnel — build, test, install.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
MANDIR ?= $(PREFIX)/share/man

CC ?= cc
PKG_CONFIG ?= pkg-config
WARN = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
       -Wmissing-prototypes -Wformat=2 -Wvla
ifeq ($(WERROR),1)
WARN += -Werror
endif
ifdef SANITIZE
SANFLAGS = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
endif
SSH_CFLAGS := $(shell $(PKG_CONFIG) --cflags libssh2)
SSH_LIBS   := $(shell $(PKG_CONFIG) --libs libssh2)
# expat reads Tectia's ssh-broker-config.xml (daemon/config/tectia.c).
EXPAT_LIBS := $(shell $(PKG_CONFIG) --libs expat 2>/dev/null || echo -lexpat)
BASE_CFLAGS = $(WARN) -O2 -g -fno-strict-aliasing -D_GNU_SOURCE -Iinclude -Icommon \
	      $(ENGINE_INC) $(PART_INC) $(FILE_DEFS) $(SANFLAGS)
ALL_CFLAGS = $(BASE_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

BUILD = build
COMMON_SRC = $(wildcard common/*.c)
# daemon/ holds one folder per part, each using only the ones before it
# (README.md, "Source tree"). The engine is what both programs share; a new
# engine part is one more word in ENGINE_PARTS. Each program adds its own
# folder: nothing of cli/ goes into ftp-tunneld, nothing of server/ into
# ftp-tunnel, and the unit tests link the engine alone.
ENGINE_PARTS = core ssh config ftp sftp tunnel
ENGINE_DIRS = $(ENGINE_PARTS:%=daemon/%)
DAEMON_DIRS = $(ENGINE_DIRS) daemon/server daemon/cli
ENGINE_SRC = $(foreach d,$(ENGINE_DIRS),$(wildcard $(d)/*.c))
ENGINE_OBJ = $(patsubst %.c,$(BUILD)/%.o,$(ENGINE_SRC) $(COMMON_SRC))
SERVER_OBJ = $(patsubst %.c,$(BUILD)/%.o,$(wildcard daemon/server/*.c))
CLI_OBJ = $(patsubst %.c,$(BUILD)/%.o,$(wildcard daemon/cli/*.c))
# Only a program's own files see its folder's headers: the engine cannot
# include them (#include "ssh.h" finds daemon/ssh/ssh.h by -I).
$(BUILD)/daemon/server/%.o: PART_INC = -Idaemon/server
$(BUILD)/daemon/cli/%.o: PART_INC = -Idaemon/cli
# The engine's folders in the same way: a folder's objects see its own
# headers and those of the folders before it in ENGINE_PARTS, none after,
# so an include against the order (ftp/ using tunnel/) fails to compile.
# Everything else (the programs, the tests) sees every engine folder.
ENGINE_INC = $(ENGINE_DIRS:%=-I%)
parts_upto = $(firstword $(2)) $(if $(filter $(1),$(firstword $(2))),,\
	$(call parts_upto,$(1),$(wordlist 2,$(words $(2)),$(2))))
$(foreach p,$(ENGINE_PARTS),$(eval $(BUILD)/daemon/$(p)/%.o: \
	ENGINE_INC = $(patsubst %,-Idaemon/%,$(call parts_upto,$(p),$(ENGINE_PARTS)))))

PROGS = $(BUILD)/ftp-tunnel $(BUILD)/ftp-tunneld

.DEFAULT_GOAL := all
include mk/fuzz.mk
include mk/shim.mk
include mk/install.mk
include mk/bench.mk
include mk/deb.mk

all: $(PROGS) $(SHIM_LIB) $(WRAP_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SSH_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/ftp-tunnel: $(CLI_OBJ) $(ENGINE_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(SSH_LIBS) -lcrypto $(EXPAT_LIBS) -pthread

$(BUILD)/ftp-tunneld: $(SERVER_OBJ) $(ENGINE_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(SSH_LIBS) -lcrypto $(EXPAT_LIBS) -pthread

# --- tests -------------------------------------------------------------
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

# A unit test links the engine, plus any object UNIT_OBJ_<name> names
# from a program's folder (test_json tests the command's JSON escaping).
UNIT_OBJ_json = $(BUILD)/daemon/cli/json.o
$(BUILD)/tests/test_json: PART_INC = -Idaemon/cli

.SECONDEXPANSION:
$(BUILD)/tests/test_%: tests/unit/test_%.c $(ENGINE_OBJ) $$(UNIT_OBJ_$$*)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SSH_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(SSH_LIBS) -lcrypto $(EXPAT_LIBS) -pthread

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

# Every test, in two passes, after the fuzz corpus went through its
# targets under ASan/UBSan:
#  - the plain build: the unit tests and the tests that need it as shipped
#    (valgrind's memcheck, which also slows ftp-tunnel for t_active_order;
#    memory back to baseline, which ASan's shadow memory hides; the
#    demo, as `make demo` runs it);
#  - check-asan: the unit tests and the whole integration suite again, with
#    ftp-tunnel and ftp-tunneld built with ASan+UBSan and the shim and the
#    wrapper with UBSan (mk/shim.mk says why not ASan).
PLAIN_TESTS = ^test_|t_valgrind|t_active_order|t_hostile|t_soak|t_forward|t_faults|t_demo
# `make check` first installs what the tests need (deps-test: nothing when
# all is there), then builds and runs them in a new make, which asks
# pkg-config again after a fresh install.
check:
	@sh scripts/deps.sh test
	@$(MAKE) --no-print-directory check-run

check-run: all $(UNIT_BIN) $(NBCLIENT_BIN) fuzz-replay
	@echo "== plain build: unit tests, $(PLAIN_TESTS)"
	@TESTS_WITHIN='$(PLAIN_TESTS)' sh tests/run.sh; rc=$$?; \
	echo "== ASan+UBSan build: every test"; \
	$(MAKE) --no-print-directory check-asan || rc=1; \
	exit $$rc

# Any sanitizer report fails check-asan, even one a test did not notice;
# leaks inside other people's libraries listed, with the reason, in
# tests/san-known-leaks.txt are dropped first (tests/san_known.sh). With
# /etc/ld.so.preload (t_shim_system) the shim comes before ASan's runtime,
# which verify_asan_link_order=0 allows.
SAN_BUILD = build-asan
check-asan:
	@$(MAKE) --no-print-directory -j$$(nproc) BUILD=$(SAN_BUILD) SANITIZE=address,undefined all \
		$(patsubst $(BUILD)/%,$(SAN_BUILD)/%,$(UNIT_BIN) $(NBCLIENT_BIN))
	@rm -rf $(SAN_BUILD)/san-logs && mkdir -p $(SAN_BUILD)/san-logs
	@ASAN_OPTIONS=log_path=$(CURDIR)/$(SAN_BUILD)/san-logs/asan:detect_leaks=1:verify_asan_link_order=0 \
	UBSAN_OPTIONS=log_path=$(CURDIR)/$(SAN_BUILD)/san-logs/ubsan:print_stacktrace=1:halt_on_error=1 \
	TT_SANITIZED=1 TT_BUILD=$(CURDIR)/$(SAN_BUILD) TT_LOGDIR=$(CURDIR)/$(SAN_BUILD)/test-logs \
	TESTS_EXCLUDE='t_valgrind' sh tests/run.sh; rc=$$?; \
	sh tests/san_known.sh tests/san-known-leaks.txt $(SAN_BUILD)/san-logs; \
	if ls $(SAN_BUILD)/san-logs | grep -q .; then \
		echo "sanitizer reports:"; head -50 $(SAN_BUILD)/san-logs/*; exit 1; fi; \
	exit $$rc

# The long soak (make check runs 20 x 5 x 3): 100 concurrent FTP sessions
# of 20 transfers each, three rounds, over one SSH connection.
soak: all
	@TESTS=t_soak TT_SOAK_SESSIONS=100 TT_SOAK_TRANSFERS=20 \
		TT_SOAK_ROUNDS=3 sh tests/run.sh

# The built-in demo: a private sshd and vsftpd, curl through -L ftp/ and
# inetutils-ftp through ftp-tunnel-wrap. Installs what it needs first (as
# check does), then builds.
demo:
	@sh scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@bash scripts/demo.sh

# What `make` and `make demo` need; deps-test adds what the tests and the
# benchmarks need (scripts/deps.sh says which packages and why).
deps:
	sh scripts/deps.sh

deps-test:
	sh scripts/deps.sh test

clean:
	rm -rf $(BUILD)

install: all install-extra
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(BUILD)/ftp-tunnel $(DESTDIR)$(BINDIR)/ftp-tunnel
	install -m 755 $(BUILD)/ftp-tunneld $(DESTDIR)$(BINDIR)/ftp-tunneld
	install -m 755 $(WRAP_BIN) $(DESTDIR)$(BINDIR)/ftp-tunnel-wrap
	install -d $(DESTDIR)$(LIBDIR)
	install -m 755 $(SHIM_LIB) $(DESTDIR)$(LIBDIR)/libftptunnel.so
	install -m 644 man/ftp-tunnel.1 $(DESTDIR)$(MANDIR)/man1/ftp-tunnel.1

# Our C sources, for clang-format with the repo's .clang-format.
FORMAT_SRC = $(wildcard $(DAEMON_DIRS:%=%/*.[ch]) common/*.[ch] include/*.h \
	     shim/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c \
	     tests/integration/helpers/*.c bench/*.c)

format:
	clang-format -i $(FORMAT_SRC)

# Fails, naming each file and line, where a file differs from what
# `make format` would make of it.
format-check:
	clang-format --dry-run -Werror $(FORMAT_SRC)

.PHONY: all unit check check-run check-asan soak demo deps deps-test clean install format format-check
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
