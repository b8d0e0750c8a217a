# Benchmark helpers, included by the Makefile. tests/bench/run.sh builds them with
# `make $(BUILD)/bench/floor $(BUILD)/bench/malloc_workload` and, for its Go section,
# `make $(BUILD)/bench/gomalloc` (or `make bench-tools`).

BENCH_DIR := $(BUILD)/bench
BENCH_TOOLS := $(BENCH_DIR)/floor $(BENCH_DIR)/malloc_workload $(BENCH_DIR)/gomalloc $(BENCH_DIR)/goevents

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

# A ~100 MB stripped Go binary (100,000 generated functions) for the attach-time measurement. It takes a
# few minutes to compile, once: it is rebuilt only when its generator changes, and only for the bench.
GOBIG_PKGS ?= 40
GOBIG_FUNCS ?= 2500
$(BENCH_DIR)/gobig: tests/bench/gobig_gen.py | $(BENCH_DIR)
	$(call msg,GO,$@ ($(GOBIG_PKGS) x $(GOBIG_FUNCS) functions; a few minutes, once))
	$(Q)rm -rf $(BENCH_DIR)/gobig-src && python3 tests/bench/gobig_gen.py $(BENCH_DIR)/gobig-src $(GOBIG_PKGS) \
		$(GOBIG_FUNCS) && cd $(BENCH_DIR)/gobig-src && CGO_ENABLED=0 $(GO) build -ldflags='-s -w' \
		-o $(abspath $@).tmp . && mv $(abspath $@).tmp $(abspath $@) && rm -rf $(abspath $(BENCH_DIR))/gobig-src

# The Go workload (the toolchain's own cache makes rebuilds cheap); static, no cgo.
$(BENCH_DIR)/gomalloc: tests/bench/gomalloc/main.go tests/bench/gomalloc/go.mod | $(BENCH_DIR)
	$(call msg,GO,$@)
	$(Q)cd tests/bench/gomalloc && CGO_ENABLED=0 $(GO) build -o $(abspath $@) .

# Goroutine creation and GC cycles, for the per-event cost of rtmon thr, lat and gc on Go programs.
$(BENCH_DIR)/goevents: tests/bench/goevents/main.go tests/bench/goevents/go.mod | $(BENCH_DIR)
	$(call msg,GO,$@)
	$(Q)cd tests/bench/goevents && CGO_ENABLED=0 $(GO) build -o $(abspath $@) .

# Finding a JVM's GC cause (run by hand: tests/bench/jvm_cause_find.c), on rtmon's own objects.
$(BENCH_DIR)/jvm_cause_find: tests/bench/jvm_cause_find.c $(LIB_OBJS) | $(BENCH_DIR) $(SKELS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $< $(LIB_OBJS) -o $@ $(LDFLAGS) $(LDLIBS)

-include $(wildcard $(BENCH_DIR)/*.d)
