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
# BUILD may be relative or absolute; recipes that leave the top directory use ABS_BUILD.
ABS_BUILD = $(abspath $(BUILD))

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

CFLAGS ?= -O2 -g
# -Wno-format-truncation: error and label strings are bounded on purpose; a cut message is fine.
CFLAGS += -Wall -Wextra -Werror -Wno-format-truncation -std=gnu11 -D_GNU_SOURCE -MMD -MP $(SANFLAGS)
CPPFLAGS += -I$(BUILD) -Ibpf -Iuser
LDLIBS += -lbpf -lelf -ldw -lz -lcapstone -lm -lpthread -lstdc++ -lmicrohttpd
LDFLAGS += $(SANFLAGS)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -Ivmlinux -Ibpf -MMD -MP
# <bpf/usdt.bpf.h> includes <linux/errno.h>, whose <asm/errno.h> lives in the multiarch directory.
BPF_CFLAGS += -idirafter /usr/include/$(shell $(CC) -dumpmachine)

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
# user/ is one folder per layer (docs/architecture.md); runtimes have a folder each under user/runtime/.
USER_SRCS := $(sort $(wildcard user/*/*.c user/*/*/*.c))
USER_OBJS := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(USER_SRCS)) $(BUILD)/obj/min_btf_blobs.o \
	$(BUILD)/obj/min_btf_table.o
MIN_BTFS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.min.btf,$(BPF_SRCS))
BPF_NAMES := $(patsubst bpf/%.bpf.c,%,$(BPF_SRCS))
LIB_OBJS := $(filter-out $(BUILD)/obj/cli/main.o,$(USER_OBJS))
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
# Also built with GOEXPERIMENT=sizespecializedmalloc (NAME-sizespec), for rtmon malloc's entry points.
GO_TP_SIZESPEC := $(BUILD)/testprog/go/gomemstats-sizespec
# Java programs (testprog/java/*.java) are compiled for Java 17, so that every JDK the tests find runs them.
JAVA_TP_SRCS := $(wildcard testprog/java/*.java)
JAVA_TP_CLASSES := $(patsubst testprog/java/%.java,$(BUILD)/testprog/java/%.class,$(JAVA_TP_SRCS))
JAVAC ?= javac
TP_CFLAGS := -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -pthread
# Libraries a test program links with, by name: TP_LIBS_NAME.
TP_LIBS_gc_boehm := -lgc
# sudo's secure_path leaves out /usr/local/go/bin: look there too (.ci/install-deps installs Debian's Go
# when neither exists).
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)

.SECONDARY:
.PHONY: FORCE
.PHONY: all deps test unit-test integration-test demo bench clean testprogs go-fixtures format \
	format-check
all: $(BUILD)/rtmon

deps:
	$(Q).ci/install-deps

$(BUILD) $(BUILD)/obj $(BUILD)/tests $(BUILD)/testprog $(BUILD)/testprog/go $(BUILD)/testprog/java:
	$(Q)mkdir -p $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# Minimal BTF (bpftool gen min_core_btf): only the kernel types a BPF object's CO-RE relocations use,
# cut from the build host's kernel BTF. rtmon uses it only on that same kernel (same /sys/kernel/notes,
# which holds the build id), so libbpf 1.1 need not read and copy the 5.5 MB vmlinux BTF: 11 MB less
# peak RSS and ~15 ms less attach. On any other kernel rtmon uses the running kernel's BTF as usual.
$(BUILD)/kernel.notes: FORCE | $(BUILD)
	$(Q)cat /sys/kernel/notes > $@.tmp 2>/dev/null || : > $@.tmp; \
	cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp
$(BUILD)/%.min.btf: $(BUILD)/%.bpf.o $(BUILD)/kernel.notes
	$(call msg,MIN-BTF,$@)
	$(Q)$(BPFTOOL) gen min_core_btf /sys/kernel/btf/vmlinux $@ $< 2>/dev/null || : > $@
$(BUILD)/min_btf_blobs.S: $(MIN_BTFS) $(BUILD)/kernel.notes
	$(call msg,GEN,$@)
	$(Q){ printf '\t.section .rodata\n'; \
	for f in $(BPF_NAMES) kernel; do \
	  b=$(ABS_BUILD)/$$f.min.btf; [ $$f = kernel ] && b=$(ABS_BUILD)/kernel.notes; \
	  printf '\t.globl %s_blob, %s_blob_end\n\t.balign 8\n%s_blob:\n\t.incbin "%s"\n%s_blob_end:\n' \
	    $$f $$f $$f $$b $$f; \
	done; printf '\t.section .note.GNU-stack,"",@progbits\n'; } > $@
# The list of BPF objects, rewritten only when it changes: the table depends on what it lists.
$(BUILD)/bpf_objects.list: FORCE | $(BUILD)
	$(Q)echo $(BPF_NAMES) > $@.tmp; cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp
$(BUILD)/min_btf_table.c: $(BUILD)/bpf_objects.list | $(BUILD)
	$(call msg,GEN,$@)
	$(Q){ printf '#include "trace/min_btf.h"\n'; \
	for f in $(BPF_NAMES) kernel; do printf 'extern const char %s_blob[], %s_blob_end[];\n' $$f $$f; done; \
	printf 'const struct min_btf_blob min_btf_blobs[] = {\n'; \
	for f in $(BPF_NAMES); do printf '\t{ "%s", %s_blob, %s_blob_end },\n' $$f $$f $$f; done; \
	printf '\t{ 0 },\n};\nconst char *const build_kernel_notes = kernel_blob;\n'; \
	printf 'const char *const build_kernel_notes_end = kernel_blob_end;\n'; } > $@
$(BUILD)/obj/min_btf_blobs.o: $(BUILD)/min_btf_blobs.S | $(BUILD)/obj
	$(Q)$(CC) -c $< -o $@
$(BUILD)/obj/min_btf_table.o: $(BUILD)/min_btf_table.c | $(BUILD)/obj
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# Every user object may include any skeleton: generate them all first.
$(USER_OBJS): | $(SKELS)
$(BUILD)/obj/%.o: user/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/rtmon: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS) | $(BUILD)/tests $(SKELS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $< $(LIB_OBJS) -o $@ $(LDFLAGS) $(LDLIBS) -lcmocka

$(BUILD)/testprog/%: testprog/%.c | $(BUILD)/testprog
	$(call msg,CC,$@)
	$(Q)$(CC) $(TP_CFLAGS) -fPIE -pie $< -o $@ $(TP_LIBS_$*)
$(BUILD)/testprog/%-nopie: testprog/%.c | $(BUILD)/testprog
	$(call msg,CC,$@)
	$(Q)$(CC) $(TP_CFLAGS) -fno-PIE -no-pie $< -o $@ $(TP_LIBS_$*)
$(BUILD)/testprog/%-static: testprog/%.c | $(BUILD)/testprog
	$(call msg,CC,$@)
	$(Q)$(CC) $(TP_CFLAGS) -static $< -o $@ $(TP_LIBS_$*)
$(BUILD)/testprog/%-stripped: testprog/%.c | $(BUILD)/testprog
	$(call msg,CC,$@)
	$(Q)$(CC) $(TP_CFLAGS) -fPIE -pie -s $< -o $@ $(TP_LIBS_$*)

# Go programs: the toolchain's own cache makes rebuilds cheap, so always ask go build.
$(BUILD)/testprog/go/%: testprog/go/%/main.go testprog/go/%/go.mod | $(BUILD)/testprog/go
	$(call msg,GO,$@)
	$(Q)cd testprog/go/$* && CGO_ENABLED=0 $(GO) build -o $(abspath $@) .
$(BUILD)/testprog/go/%-stripped: testprog/go/%/main.go testprog/go/%/go.mod | $(BUILD)/testprog/go
	$(call msg,GO,$@)
	$(Q)cd testprog/go/$* && CGO_ENABLED=0 $(GO) build -ldflags='-s -w' -o $(abspath $@) .
$(BUILD)/testprog/go/%-pie: testprog/go/%/main.go testprog/go/%/go.mod | $(BUILD)/testprog/go
	$(call msg,GO,$@)
	$(Q)cd testprog/go/$* && CGO_ENABLED=0 $(GO) build -buildmode=pie -o $(abspath $@) .
$(BUILD)/testprog/go/%-sizespec: testprog/go/%/main.go testprog/go/%/go.mod | $(BUILD)/testprog/go
	$(call msg,GO,$@)
	$(Q)cd testprog/go/$* && CGO_ENABLED=0 GOEXPERIMENT=sizespecializedmalloc $(GO) build \
		-o $(abspath $@) . || echo "note: $(GO) cannot build GOEXPERIMENT=sizespecializedmalloc" \
		"(Go 1.26+ has it): $@ not built, its tests skip"

$(BUILD)/testprog/java/%.class: testprog/java/%.java | $(BUILD)/testprog/java
	$(call msg,JAVAC,$@)
	$(Q)$(JAVAC) --release 17 -cp $(BUILD)/testprog/java -d $(BUILD)/testprog/java $<
# The programs use Gate (their stdin start gate): compiled first, found on the class path.
$(filter-out %/Gate.class,$(JAVA_TP_CLASSES)): $(BUILD)/testprog/java/Gate.class

testprogs: $(TP_BINS) $(GO_TP_BINS) $(GO_TP_SIZESPEC) $(JAVA_TP_CLASSES)

# The Go fixture built by older toolchains (one per goid-offset era), fetched through the Go module
# proxy's golang.org/toolchain modules; a toolchain that cannot be had is reported and skipped.
go-fixtures: $(GO_TP_BINS)
	$(Q)tests/unit/build-go-fixtures.sh $(BUILD)

unit-test: $(UNIT_BINS) testprogs go-fixtures
	$(Q)set -e; for t in $(UNIT_BINS); do RTMON_BUILD=$(BUILD) $$t; done

integration-test: $(BUILD)/rtmon testprogs
	$(Q)RTMON=$(ABS_BUILD)/rtmon RTMON_BUILD=$(ABS_BUILD) python3 -m pytest -q tests/integration

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

# The C style (.clang-format): `make format` rewrites the tree, `make format-check` (CI) fails on a
# file that clang-format would change, and on a line over 100 columns it could not fold (a string).
C_SOURCES = $(shell git ls-files 'user/*.[ch]' 'bpf/*.[ch]' 'tests/*.[ch]' 'testprog/*.[ch]' \
		2>/dev/null)
format:
	$(Q)clang-format -i $(C_SOURCES)
format-check:
	$(Q)clang-format --dry-run --Werror $(C_SOURCES)
	$(Q)for f in $(C_SOURCES); do expand -t 8 $$f | awk -v f=$$f 'length > 100 { print f ":" NR \
		": over 100 columns"; bad = 1 } END { exit bad }' || exit 1; done

# Benchmark helpers (floor loader, workloads) live with the benchmark.
-include tests/bench/bench.mk

-include $(wildcard $(BUILD)/*.d $(USER_OBJS:.o=.d) $(BUILD)/tests/*.d)
