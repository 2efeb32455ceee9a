# mk/fuzz.mk — libFuzzer targets; included from the Makefile.
#   make fuzz         each target (libFuzzer, clang) for $(FUZZ_SECONDS),
#                     one after another, on its corpus
#   make fuzz FUZZ_TARGETS="ipc conf" FUZZ_SECONDS=600
#   make fuzz-replay  every corpus through its target with any compiler
#                     (ASan/UBSan), as `make check` does
# A target is tests/fuzz/fuzz_<t>.c, its corpus tests/fuzz/corpus/<t>/ and
# one FUZZ_SRC_<t> line below naming the sources it tests (and, if there
# is one, a libFuzzer dictionary tests/fuzz/<t>.dict). New inputs go to
# $(BUILD)/fuzz/corpus-<t>; crashes to tests/fuzz/crash-<t>-* (ignored by
# git): minimise one and add it to tests/fuzz/corpus/<t>/.
BUILD ?= build
FUZZ_SECONDS ?= 60
FUZZ_MAX_LEN ?= 20000
FUZZ_CC ?= clang
REPLAY_CC ?= $(CC)
FUZZ_TARGETS ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

FUZZ_SRC_ftp = daemon/ftp/ftp.c daemon/ftp/ftp_parse.c common/addr.c
FUZZ_SRC_ipc = common/ipc.c
FUZZ_SRC_conf = common/conf.c common/spec.c common/sshkeys.c
FUZZ_SRC_spec = common/spec.c common/conf.c common/addr.c common/sshkeys.c
FUZZ_SRC_tectia = daemon/config/tectia.c common/spec.c common/conffile.c
FUZZ_SRC_knownhosts = daemon/ssh/knownhosts.c
FUZZ_SRC_ftpcmd = daemon/sftp/ftpcmd.c daemon/sftp/ftppath.c \
	daemon/sftp/listing.c daemon/sftp/textmode.c daemon/sftp/ftpreply.c \
	daemon/sftp/feat.c
FUZZ_SRC_sftpbulk = daemon/sftp/sftpbulk.c
# Defines a target's sources need (FUZZ_DEFS_<t>).
FUZZ_DEFS_sftpbulk = -DSFTPBULK_SELFCHECK
# Libraries a target needs beyond libc (FUZZ_LIBS_<t>).
FUZZ_LIBS_tectia = -lexpat
FUZZ_LIBS_knownhosts = -lcrypto

FUZZ_HDR = $(wildcard include/*.h $(ENGINE_DIRS:%=%/*.h))
# The Makefile's warnings (and -Werror with WERROR=1).
FUZZ_WARN = $(WARN)
# -fno-strict-aliasing as in the daemon's build: common/addr.c reads a
# sockaddr_storage through struct sockaddr_in pointers.
FUZZ_CFLAGS = $(FUZZ_WARN) -g -O1 -fno-strict-aliasing -D_GNU_SOURCE $(ENGINE_DIRS:%=-I%) -Iinclude -Icommon \
	      -fno-omit-frame-pointer -fno-sanitize-recover=all

# Each target's sources are known only from its stem.
.SECONDEXPANSION:

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(FUZZ_SRC_$$*) $(FUZZ_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_DEFS_$*) -fsanitize=fuzzer,address,undefined \
		-o $@ $< $(FUZZ_SRC_$*) $(FUZZ_LIBS_$*)

$(BUILD)/fuzz/replay_%: tests/fuzz/replay.c tests/fuzz/fuzz_%.c \
		$$(FUZZ_SRC_$$*) $(FUZZ_HDR)
	@mkdir -p $(dir $@)
	$(REPLAY_CC) $(FUZZ_CFLAGS) $(FUZZ_DEFS_$*) -fsanitize=address,undefined \
		-o $@ tests/fuzz/replay.c tests/fuzz/fuzz_$*.c $(FUZZ_SRC_$*) \
		$(FUZZ_LIBS_$*)

fuzz: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== fuzz_$$t for $(FUZZ_SECONDS)s"; \
		mkdir -p $(BUILD)/fuzz/corpus-$$t; \
		$(BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
			-max_len=$(FUZZ_MAX_LEN) \
			-artifact_prefix=tests/fuzz/crash-$$t- \
			$$(test -f tests/fuzz/$$t.dict && \
			   echo -dict=tests/fuzz/$$t.dict) \
			$(BUILD)/fuzz/corpus-$$t tests/fuzz/corpus/$$t; \
	done

fuzz-replay: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/replay_%)
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== replay_$$t"; \
		$(BUILD)/fuzz/replay_$$t tests/fuzz/corpus/$$t; \
	done

.PHONY: fuzz fuzz-replay
