# Benchmark helpers, included by the Makefile. tests/bench/run.sh builds them with
# `make $(BUILD)/bench/floor $(BUILD)/bench/malloc_workload` and, for its Go section,
# `make $(BUILD)/bench/gomalloc` (or `make bench-tools`).

BENCH_DIR := $(BUILD)/bench
BENCH_TOOLS := $(BENCH_DIR)/floor $(BENCH_DIR)/malloc_workload $(BENCH_DIR)/gomalloc

.PHONY: bench-tools
bench-tools: $(BENCH_TOOLS)

$(BENCH_DIR):
	$(Q)mkdir -p $@

$(BENCH_DIR)/floor.bpf.o: tests/bench/floor.bpf.c | $(BENCH_DIR)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BENCH_DIR)/floor.skel.h: $(BENCH_DIR)/floor.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name floor_bpf > $@.tmp && mv $@.tmp $@

$(BENCH_DIR)/floor: tests/bench/floor.c $(BENCH_DIR)/floor.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) -I$(BENCH_DIR) $(CFLAGS) $< -o $@ $(LDFLAGS) -lbpf -lelf -lz

# Plain -O2 (no sanitizers even with SANITIZE=1: it is the thing being measured); -fno-builtin keeps
# every malloc/free call.
$(BENCH_DIR)/malloc_workload: tests/bench/malloc_workload.c testprog/tp_gate.h | $(BENCH_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -fno-builtin -Itestprog $< -o $@

# The Go workload (the toolchain's own cache makes rebuilds cheap); static, no cgo.
$(BENCH_DIR)/gomalloc: tests/bench/gomalloc/main.go tests/bench/gomalloc/go.mod | $(BENCH_DIR)
	$(call msg,GO,$@)
	$(Q)cd tests/bench/gomalloc && CGO_ENABLED=0 $(GO) build -o $(CURDIR)/$@ .

-include $(wildcard $(BENCH_DIR)/*.d)
