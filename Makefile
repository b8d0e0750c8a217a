# rtmon build. `make` builds build/rtmon; `make test`, `make demo`, `make bench`.
# V=1 shows every command. SANITIZE=1 builds userspace with ASan+UBSan (into build-san/).

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

SANITIZE ?= 0
ifeq ($(SANITIZE),1)
BUILD ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD ?= build
SANFLAGS :=
endif

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

CFLAGS ?= -O2 -g
# -Wno-format-truncation: error and label strings are bounded on purpose; a cut message is fine.
CFLAGS += -Wall -Wextra -Werror -Wno-format-truncation -std=gnu11 -D_GNU_SOURCE -MMD -MP $(SANFLAGS)
CPPFLAGS += -I$(BUILD) -Ibpf -Iuser
LDLIBS += -lbpf -lelf -ldw -lz -lcapstone -lm -lpthread
LDFLAGS += $(SANFLAGS)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -Ivmlinux -Ibpf -MMD -MP

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
USER_SRCS := $(wildcard user/*.c)
USER_OBJS := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(USER_SRCS))
LIB_OBJS := $(filter-out $(BUILD)/obj/main.o,$(USER_OBJS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

# Programs the tests monitor: every testprog/*.c is built dynamic PIE (NAME), non-PIE (NAME-nopie),
# static (NAME-static) and stripped (NAME-stripped). Go programs in testprog/go/NAME/ are built plain,
# stripped (-s -w) and PIE.
TP_SRCS := $(wildcard testprog/*.c)
TP_NAMES := $(patsubst testprog/%.c,%,$(TP_SRCS))
TP_BINS := $(foreach n,$(TP_NAMES),$(BUILD)/testprog/$(n) $(BUILD)/testprog/$(n)-nopie \
	$(BUILD)/testprog/$(n)-static $(BUILD)/testprog/$(n)-stripped)
GO_TP_DIRS := $(patsubst %/main.go,%,$(wildcard testprog/go/*/main.go))
GO_TP_NAMES := $(notdir $(GO_TP_DIRS))
GO_TP_BINS := $(foreach n,$(GO_TP_NAMES),$(BUILD)/testprog/go/$(n) $(BUILD)/testprog/go/$(n)-stripped \
	$(BUILD)/testprog/go/$(n)-pie)
TP_CFLAGS := -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -pthread
GO ?= go

.SECONDARY:
.PHONY: all deps test unit-test integration-test demo bench clean testprogs go-fixtures
all: $(BUILD)/rtmon

deps:
	$(Q).ci/install-deps

$(BUILD) $(BUILD)/obj $(BUILD)/tests $(BUILD)/testprog $(BUILD)/testprog/go:
	$(Q)mkdir -p $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# Every user object may include any skeleton: generate them all first.
$(USER_OBJS): | $(SKELS)
$(BUILD)/obj/%.o: user/%.c | $(BUILD)/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/rtmon: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS) | $(BUILD)/tests $(SKELS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $< $(LIB_OBJS) -o $@ $(LDFLAGS) $(LDLIBS) -lcmocka

$(BUILD)/testprog/%: testprog/%.c | $(BUILD)/testprog
	$(call msg,CC,$@)
	$(Q)$(CC) $(TP_CFLAGS) -fPIE -pie $< -o $@
$(BUILD)/testprog/%-nopie: testprog/%.c | $(BUILD)/testprog
	$(call msg,CC,$@)
	$(Q)$(CC) $(TP_CFLAGS) -fno-PIE -no-pie $< -o $@
$(BUILD)/testprog/%-static: testprog/%.c | $(BUILD)/testprog
	$(call msg,CC,$@)
	$(Q)$(CC) $(TP_CFLAGS) -static $< -o $@
$(BUILD)/testprog/%-stripped: testprog/%.c | $(BUILD)/testprog
	$(call msg,CC,$@)
	$(Q)$(CC) $(TP_CFLAGS) -fPIE -pie -s $< -o $@

# Go programs: the toolchain's own cache makes rebuilds cheap, so always ask go build.
$(BUILD)/testprog/go/%: testprog/go/%/main.go testprog/go/%/go.mod | $(BUILD)/testprog/go
	$(call msg,GO,$@)
	$(Q)cd testprog/go/$* && CGO_ENABLED=0 $(GO) build -o $(CURDIR)/$@ .
$(BUILD)/testprog/go/%-stripped: testprog/go/%/main.go testprog/go/%/go.mod | $(BUILD)/testprog/go
	$(call msg,GO,$@)
	$(Q)cd testprog/go/$* && CGO_ENABLED=0 $(GO) build -ldflags='-s -w' -o $(CURDIR)/$@ .
$(BUILD)/testprog/go/%-pie: testprog/go/%/main.go testprog/go/%/go.mod | $(BUILD)/testprog/go
	$(call msg,GO,$@)
	$(Q)cd testprog/go/$* && CGO_ENABLED=0 $(GO) build -buildmode=pie -o $(CURDIR)/$@ .

testprogs: $(TP_BINS) $(GO_TP_BINS)

# The Go fixture built by older toolchains (one per goid-offset era), fetched through the Go module
# proxy's golang.org/toolchain modules; a toolchain that cannot be had is reported and skipped.
go-fixtures: $(GO_TP_BINS)
	$(Q)tests/unit/build-go-fixtures.sh $(BUILD)

unit-test: $(UNIT_BINS) testprogs go-fixtures
	$(Q)set -e; for t in $(UNIT_BINS); do RTMON_BUILD=$(BUILD) $$t; done

integration-test: $(BUILD)/rtmon testprogs
	$(Q)RTMON=$(CURDIR)/$(BUILD)/rtmon RTMON_BUILD=$(CURDIR)/$(BUILD) python3 -m pytest -q tests/integration

# `make test` installs what is missing, then runs the unit and integration tests.
test: deps
	$(Q)$(MAKE) --no-print-directory unit-test integration-test

demo: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/rtmon $(BUILD)/testprog/demo
	$(Q)tests/demo.sh $(BUILD)

bench: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/rtmon testprogs
	$(Q)tests/bench/run.sh $(BUILD)

clean:
	$(Q)rm -rf build build-san

# Benchmark helpers (floor loader, workloads) live with the benchmark.
-include tests/bench/bench.mk

-include $(wildcard $(BUILD)/*.d $(BUILD)/obj/*.d $(BUILD)/tests/*.d)
