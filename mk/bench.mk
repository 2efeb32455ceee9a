# mk/bench.mk — `make bench`: side-by-side throughput, latency, memory and
# CPU figures (bench/run.sh, see bench/README.md); never part of `make check`.
# Included from the Makefile (which defines WARN, BUILD, SSH_CFLAGS, SSH_LIBS).
BENCH_BIN = $(BUILD)/bench/raw_libssh2 $(BUILD)/bench/connect_loop $(BUILD)/bench/spawn_loop \
	$(BUILD)/bench/delay_relay

$(BUILD)/bench/raw_libssh2: bench/raw_libssh2.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -O2 -g $(SSH_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(SSH_LIBS)

$(BUILD)/bench/connect_loop: bench/connect_loop.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -O2 -g $(CFLAGS) $(LDFLAGS) -o $@ $<

$(BUILD)/bench/spawn_loop: bench/spawn_loop.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -O2 -g $(CFLAGS) $(LDFLAGS) -o $@ $<

$(BUILD)/bench/delay_relay: bench/delay_relay.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -O2 -g -pthread $(CFLAGS) $(LDFLAGS) -o $@ $<

# Installs what the benchmarks need first (scripts/deps.sh test), then
# builds in a new make, which asks pkg-config again after an install.
bench:
	@sh scripts/deps.sh test
	@$(MAKE) --no-print-directory bench-run

bench-run: all $(BENCH_BIN)
	@bash bench/run.sh

.PHONY: bench bench-run
