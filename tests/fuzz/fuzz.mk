# libFuzzer harnesses for the parsers of the target's files (docs/fuzzing.md). Included by the
# Makefile. `make fuzz` builds them with clang under ASan and UBSan, makes the seed corpus from the
# test programs, runs each harness's regression seeds, then fuzzes each for FUZZ_SECONDS.
# FUZZ=NAME... runs only those harnesses.

FUZZ_SECONDS ?= 180
FUZZ_CC ?= clang
FUZZ_HARNESSES := objfile buildinfo gosymtab runtime_id maps perfdata
FUZZ ?= $(FUZZ_HARNESSES)
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) -fsanitize=fuzzer-no-link -Wall -Wextra \
	-Werror -std=gnu11 -D_GNU_SOURCE -MMD -MP -Iuser -Itests/fuzz
FUZZ_DIR = $(BUILD)/fuzz

# The rtmon sources each harness runs.
FUZZ_SRCS_objfile := binary/objfile.c binary/target_file.c
FUZZ_SRCS_buildinfo := runtime/go/buildinfo.c runtime/go/goelf.c binary/objfile.c binary/target_file.c
FUZZ_SRCS_gosymtab := runtime/go/symtab.c runtime/go/goelf.c runtime/go/ret_sites.c binary/disasm.c \
	binary/objfile.c binary/target_file.c runtime/go/pcline.c
FUZZ_SRCS_runtime_id := runtime/runtime_id.c binary/objfile.c binary/target_file.c proc/image.c \
	proc/procinfo.c runtime/go/buildinfo.c runtime/go/goelf.c runtime/node/node_id.c
FUZZ_SRCS_maps := proc/procinfo.c
FUZZ_SRCS_perfdata := runtime/java/perfdata.c proc/procmem.c proc/procinfo.c
FUZZ_LIBS := -lelf -lcapstone

FUZZ_BINS := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_HARNESSES))
$(foreach h,$(FUZZ_HARNESSES),$(eval FUZZ_OBJS_$(h) := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,\
	$(FUZZ_SRCS_$(h)))))

.PHONY: fuzz fuzz-build fuzz-seeds fuzz-coverage
$(FUZZ_DIR)/obj/%.o: user/%.c
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D) && $(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@
$(FUZZ_DIR)/obj/fuzz_%.o: tests/fuzz/fuzz_%.c
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D) && $(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@
.SECONDEXPANSION:
$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/fuzz_%.o $(FUZZ_DIR)/obj/fuzz_file.o $$(FUZZ_OBJS_$$*)
	$(call msg,FUZZ-LD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $^ -o $@ $(FUZZ_LIBS)

fuzz-build: $(FUZZ_BINS)

# `make fuzz-coverage` (after `make fuzz`): the line coverage of the parsers by the corpus grown
# and the seeds, per file (llvm-cov report), with harnesses built for source-based coverage.
$(FUZZ_DIR)/cov/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_file.c \
		$$(addprefix user/,$$(FUZZ_SRCS_$$*))
	$(call msg,FUZZ-COV,$@)
	$(Q)mkdir -p $(@D) && $(FUZZ_CC) -g -O0 -fprofile-instr-generate -fcoverage-mapping \
		-fsanitize=fuzzer -std=gnu11 -D_GNU_SOURCE -Iuser -Itests/fuzz $^ -o $@ $(FUZZ_LIBS)
fuzz-coverage: $(patsubst %,$(FUZZ_DIR)/cov/fuzz_%,$(FUZZ))
	$(Q)$(foreach h,$(FUZZ),rm -f $(FUZZ_DIR)/cov/$(h).profraw && \
	  LLVM_PROFILE_FILE=$(FUZZ_DIR)/cov/$(h).profraw $(FUZZ_DIR)/cov/fuzz_$(h) -runs=0 \
	    $(FUZZ_DIR)/corpus/$(h) $(FUZZ_DIR)/seeds/$(h) </dev/null >/dev/null 2>&1 && \
	  llvm-profdata merge -o $(FUZZ_DIR)/cov/$(h).profdata $(FUZZ_DIR)/cov/$(h).profraw && \
	  echo "fuzz_$(h) (line coverage: Lines, Missed Lines, Cover):" && \
	  llvm-cov report $(FUZZ_DIR)/cov/fuzz_$(h) -instr-profile=$(FUZZ_DIR)/cov/$(h).profdata \
	    $(addprefix user/,$(FUZZ_SRCS_$(h))) | awk '$$1 ~ /\.c$$/ || $$1 == "TOTAL" { \
	      print "  " $$1, $$8, $$9, $$10 }' && ) true

# The seeds are made from the test programs each time (they are not committed).
fuzz-seeds: testprogs go-fixtures
	$(Q)python3 tests/fuzz/mkseeds.py $(BUILD) $(FUZZ_DIR)/seeds

fuzz: deps
	$(Q)$(MAKE) --no-print-directory fuzz-build fuzz-seeds
	$(Q)tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ)

-include $(wildcard $(FUZZ_DIR)/obj/*.d $(FUZZ_DIR)/obj/*/*.d $(FUZZ_DIR)/obj/*/*/*.d)
