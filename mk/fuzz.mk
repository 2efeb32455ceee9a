# mk/fuzz.mk — fuzzing the FTP rewriter; included from the Makefile.
#   make fuzz         libFuzzer (clang) for $(FUZZ_SECONDS) on the corpus
#   make fuzz-replay  the corpus through the target with any compiler
# New inputs go to $(BUILD)/fuzz/corpus-ftp; crashes to tests/fuzz/crash-*
# (ignored by git): minimise one and add it to tests/fuzz/corpus/ftp/.
BUILD ?= build
FUZZ_SECONDS ?= 60
FUZZ_MAX_LEN ?= 20000
FUZZ_CC ?= clang
REPLAY_CC ?= $(CC)
FUZZ_CORPUS = tests/fuzz/corpus/ftp
FUZZ_SRC = tests/fuzz/fuzz_ftp.c daemon/ftp.c
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

fuzz: $(BUILD)/fuzz/fuzz_ftp
	@mkdir -p $(BUILD)/fuzz/corpus-ftp
	$< -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) \
		-artifact_prefix=tests/fuzz/ \
		$(BUILD)/fuzz/corpus-ftp $(FUZZ_CORPUS)

fuzz-replay: $(BUILD)/fuzz/replay_ftp
	$< $(FUZZ_CORPUS)

.PHONY: fuzz fuzz-replay
