# mk/fuzz.mk — fuzzing the FTP rewriter and the Tectia configuration
# reader; included from the Makefile.
#   make fuzz         libFuzzer (clang) for $(FUZZ_SECONDS) on the corpus
#   make fuzz-tectia  the same for daemon/tectia.c (ssh-broker-config.xml)
#   make fuzz-replay  both corpora through their targets with any compiler
# New inputs go to $(BUILD)/fuzz/corpus-ftp (corpus-tectia); crashes to
# tests/fuzz/crash-* (ignored by git): minimise one and add it to
# tests/fuzz/corpus/ftp/ (tests/fuzz/corpus/tectia/).
BUILD ?= build
FUZZ_SECONDS ?= 60
FUZZ_MAX_LEN ?= 20000
FUZZ_CC ?= clang
REPLAY_CC ?= $(CC)
FUZZ_CORPUS = tests/fuzz/corpus/ftp
FUZZ_SRC = tests/fuzz/fuzz_ftp.c daemon/ftp.c
FUZZ_TECTIA_CORPUS = tests/fuzz/corpus/tectia
FUZZ_TECTIA_SRC = tests/fuzz/fuzz_tectia.c daemon/tectia.c daemon/spec.c
FUZZ_TECTIA_HDR = daemon/tectia.h daemon/spec.h include/profile.h
EXPAT_LIBS ?= -lexpat
FUZZ_WARN = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
	    -Wmissing-prototypes -Wformat=2 -Wvla
FUZZ_CFLAGS = $(FUZZ_WARN) -g -O1 -D_GNU_SOURCE -Idaemon -Iinclude \
	      -fno-omit-frame-pointer -fno-sanitize-recover=all

$(BUILD)/fuzz/fuzz_ftp: $(FUZZ_SRC) daemon/ftp.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined \
		-o $@ $(FUZZ_SRC)

$(BUILD)/fuzz/replay_ftp: tests/fuzz/replay.c $(FUZZ_SRC) daemon/ftp.h
	@mkdir -p $(dir $@)
	$(REPLAY_CC) $(FUZZ_CFLAGS) -fsanitize=address,undefined \
		-o $@ tests/fuzz/replay.c $(FUZZ_SRC)

$(BUILD)/fuzz/fuzz_tectia: $(FUZZ_TECTIA_SRC) $(FUZZ_TECTIA_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined \
		-o $@ $(FUZZ_TECTIA_SRC) $(EXPAT_LIBS)

$(BUILD)/fuzz/replay_tectia: tests/fuzz/replay.c $(FUZZ_TECTIA_SRC) $(FUZZ_TECTIA_HDR)
	@mkdir -p $(dir $@)
	$(REPLAY_CC) $(FUZZ_CFLAGS) -fsanitize=address,undefined \
		-o $@ tests/fuzz/replay.c $(FUZZ_TECTIA_SRC) $(EXPAT_LIBS)

fuzz: $(BUILD)/fuzz/fuzz_ftp
	@mkdir -p $(BUILD)/fuzz/corpus-ftp
	$< -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) \
		-artifact_prefix=tests/fuzz/ \
		$(BUILD)/fuzz/corpus-ftp $(FUZZ_CORPUS)

# The dictionary gives the fuzzer Tectia's element and attribute names.
fuzz-tectia: $(BUILD)/fuzz/fuzz_tectia
	@mkdir -p $(BUILD)/fuzz/corpus-tectia
	$< -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) \
		-dict=tests/fuzz/tectia.dict -artifact_prefix=tests/fuzz/ \
		$(BUILD)/fuzz/corpus-tectia $(FUZZ_TECTIA_CORPUS)

fuzz-replay: $(BUILD)/fuzz/replay_ftp $(BUILD)/fuzz/replay_tectia
	$(BUILD)/fuzz/replay_ftp $(FUZZ_CORPUS)
	$(BUILD)/fuzz/replay_tectia $(FUZZ_TECTIA_CORPUS)

.PHONY: fuzz fuzz-tectia fuzz-replay
