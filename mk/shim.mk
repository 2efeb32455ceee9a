# mk/shim.mk — the transparent mode: the LD_PRELOAD shim libftptunnel.so,
# ftp-tunnel-wrap, and the nbclient test helper; included from the Makefile
# (which defines WARN, BUILD, BINDIR, LIBDIR).
#   make shim      all three
# The shim links only libc, libdl and libpthread (never libssh2 or
# OpenSSL) and exports only its hooks. With SANITIZE (make check's
# sanitized pass) the shim and the wrapper get UBSan only: ASan's runtime
# would have to come before libc in every program the shim goes into, and
# preloaded so it hangs Debian's curl and lftp in setlocale() (seen with
# libasan.so.8 alone, without the shim). UBSan's runtime loads anywhere.
BUILD ?= build
BINDIR ?= /usr/local/bin
LIBDIR ?= /usr/local/lib

SHIM_LIB = $(BUILD)/libftptunnel.so
WRAP_BIN = $(BUILD)/ftp-tunnel-wrap
NBCLIENT_BIN = $(BUILD)/tests/nbclient

# Where the installed programs find each other (include/launch.h): the
# built-in paths, for the shim in a program nobody wrapped; LIBDIR as seen
# from BINDIR and the compiler's multiarch triplet, for ftp-tunnel-wrap and
# ftp-tunnel -f, which look beside themselves first (an installation moved
# elsewhere, or staged with DESTDIR and copied to another root). Given to
# common/launch.c in both its builds.
LIB_FROM_BIN := $(shell realpath -m --relative-to=$(BINDIR) $(LIBDIR) 2>/dev/null)
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
LAUNCH_DEFS = -DFTP_TUNNELD_PATH='"$(BINDIR)/ftp-tunneld"' \
	      -DFTP_TUNNEL_SHIM_PATH='"$(LIBDIR)/libftptunnel.so"' \
	      $(if $(LIB_FROM_BIN),-DFTP_TUNNEL_LIB_FROM_BIN='"$(LIB_FROM_BIN)"') \
	      $(if $(MULTIARCH),-DFTP_TUNNEL_MULTIARCH='"$(MULTIARCH)"')
$(BUILD)/common/launch.o $(BUILD)/shim/common/launch.o: FILE_DEFS = $(LAUNCH_DEFS)

# Each shim file picks its own feature macros (the hook files must not see
# _GNU_SOURCE), so none is given here; common/ is built as in the Makefile.
SHIM_CFLAGS = $(WARN) -O2 -g -fno-strict-aliasing -fPIC -fvisibility=hidden -Iinclude -Icommon \
	      $(FILE_DEFS) $(CFLAGS)
SHIM_LIBS = -ldl -pthread
ifneq (,$(findstring undefined,$(SANITIZE)))
SHIM_CFLAGS += -fsanitize=undefined -fno-omit-frame-pointer
SHIM_LIBS += -fsanitize=undefined
endif
# The shim keeps the toolchain's hardened layout (RELRO, code apart from
# data) although it costs program start-up: measured by CPU time of 3000
# starts of /bin/true, dropping them (-z noseparate-code -z norelro) took
# the shim from 1.149x to 1.096x, but the shim goes into every process
# with /etc/ld.so.preload, so it keeps them. -z now cost 1.17x.

# Shared by the shim and the wrapper (the daemon client and what it uses).
SHIM_CORE_OBJ = $(patsubst %,$(BUILD)/shim/%.o,real cfg names log reg route daemon secure) \
		$(patsubst %,$(BUILD)/shim/common/%.o,ipc addr conf conffile spec sshkeys launch)
SHIM_HOOK_OBJ = $(patsubst shim/%.c,$(BUILD)/shim/%.o,$(wildcard shim/hook_*.c))

$(BUILD)/shim/%.o: shim/%.c
	@mkdir -p $(dir $@)
	$(CC) $(SHIM_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/shim/common/%.o: common/%.c
	@mkdir -p $(dir $@)
	$(CC) $(SHIM_CFLAGS) -D_GNU_SOURCE -MMD -MP -c -o $@ $<

$(SHIM_LIB): $(SHIM_HOOK_OBJ) $(SHIM_CORE_OBJ)
	$(CC) -shared -Wl,-soname,libftptunnel.so -Wl,--no-undefined \
		$(LDFLAGS) -o $@ $^ $(SHIM_LIBS)

$(WRAP_BIN): $(BUILD)/shim/wrap.o $(SHIM_CORE_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(SHIM_LIBS)

$(NBCLIENT_BIN): tests/integration/helpers/nbclient.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -O2 -g -D_GNU_SOURCE $(CFLAGS) -MMD -MP $(LDFLAGS) \
		-o $@ $< -pthread

shim: $(SHIM_LIB) $(WRAP_BIN) $(NBCLIENT_BIN)

.PHONY: shim
