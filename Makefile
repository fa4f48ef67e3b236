# uvmstress: plain Makefile with out-of-tree flavours.
#
#   make [release]   build/release   gcc   -O2 -g
#   make debug       build/debug     gcc   -O0 -g -DDIAGNOSTIC
#   make asan        build/asan      clang ASan + UBSan, DIAGNOSTIC
#   make tsan        build/tsan      clang ThreadSanitizer, DIAGNOSTIC
#   make coverage    build/coverage  gcc -O0 -g --coverage, DIAGNOSTIC: runs
#                    uvmstress (default scenario, COVERAGE_SECONDS=60,
#                    COVERAGE_ARGS=...) and reports vm/'s line, function and
#                    branch coverage with lcov (docs/coverage.md)
#   make test        the whole suite (unit tests in release and asan, the
#                    machine smoke under tsan); installs missing packages
#   make run         a default uvmstress job (10 s)
#   make bench       benchmarks (perf/), ratios against anchors
#   make deps        install missing Debian packages (as root)
#
# Warnings are errors (WERROR=0 to relax locally).

FLAVOURS := release debug asan tsan coverage
WERROR ?= 1
BUILD ?= build

PKGS_LIB := liburcu-memb hwloc
PKGS_TEST := criterion

COMMON_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow \
	-Wno-unused-parameter -Wmissing-prototypes -Wstrict-prototypes \
	-Wpointer-arith -Wvla -fno-strict-aliasing -pthread -MMD -MP \
	-I. $(shell pkg-config --cflags $(PKGS_LIB) 2>/dev/null)
ifeq ($(WERROR),1)
COMMON_CFLAGS += -Werror
endif
LIBS := $(shell pkg-config --libs $(PKGS_LIB) 2>/dev/null) -pthread -lm
TEST_LIBS := $(shell pkg-config --libs $(PKGS_TEST) 2>/dev/null)

release_CC := gcc
release_CFLAGS := -O2 -g
debug_CC := gcc
debug_CFLAGS := -O0 -g -DDIAGNOSTIC
asan_CC := clang
asan_CFLAGS := -O1 -g -DDIAGNOSTIC -fsanitize=address,undefined \
	-fno-omit-frame-pointer -fno-sanitize-recover=undefined
tsan_CC := clang
tsan_CFLAGS := -O1 -g -DDIAGNOSTIC -fsanitize=thread -fno-omit-frame-pointer
# --coverage reaches the link too (the link lines pass $(1)_CFLAGS).
# `make coverage` is the report (below); `make coverage-build` only builds.
coverage_CC := gcc
coverage_CFLAGS := -O0 -g -DDIAGNOSTIC --coverage
coverage_GOAL := coverage-build
COVERAGE_SECONDS ?= 60
COVERAGE_ARGS ?=

HOST_SRCS := $(sort $(wildcard host/*.c))
VM_SRCS := $(sort $(wildcard vm/*.c))
STRESS_SRCS := $(sort $(filter-out stress/main.c,$(wildcard stress/*.c)))
UNIT_SRCS := $(sort $(wildcard tests/test_*.c))
SMOKE_SRCS := $(sort $(wildcard tests/smoke_*.c))

.PHONY: all release debug asan tsan coverage coverage-build test run deps \
	clean bench
all: release

# $(call flavour_rules,name)
define flavour_rules
$(1)_OBJDIR := $(BUILD)/$(1)/obj
$(1)_HOST_OBJS := $$(patsubst %.c,$$($(1)_OBJDIR)/%.o,$(HOST_SRCS))
$(1)_VM_OBJS := $$(patsubst %.c,$$($(1)_OBJDIR)/%.o,$(VM_SRCS))
$(1)_STRESS_OBJS := $$(patsubst %.c,$$($(1)_OBJDIR)/%.o,$(STRESS_SRCS))
$(1)_LIB := $(BUILD)/$(1)/libuvmstress.a
$(1)_UNIT := $(BUILD)/$(1)/unit
$(1)_SMOKES := $$(patsubst tests/%.c,$(BUILD)/$(1)/%,$(SMOKE_SRCS))
$(1)_UVMSTRESS := $$(if $$(wildcard stress/main.c),$(BUILD)/$(1)/uvmstress)

$$($(1)_OBJDIR)/%.o: %.c
	@mkdir -p $$(@D)
	@echo "  CC [$(1)] $$<"
	@$$($(1)_CC) $(COMMON_CFLAGS) $$($(1)_CFLAGS) -c $$< -o $$@

$$($(1)_LIB): $$($(1)_HOST_OBJS) $$($(1)_VM_OBJS) $$($(1)_STRESS_OBJS)
	@mkdir -p $$(@D)
	@rm -f $$@ && ar rcs $$@ $$^

$$($(1)_UNIT): $$(patsubst %.c,$$($(1)_OBJDIR)/%.o,$(UNIT_SRCS)) $$($(1)_LIB)
	@echo "  LD [$(1)] $$@"
	@$$($(1)_CC) $(COMMON_CFLAGS) $$($(1)_CFLAGS) -o $$@ $$^ $(TEST_LIBS) $(LIBS)

$(BUILD)/$(1)/smoke_%: $$($(1)_OBJDIR)/tests/smoke_%.o $$($(1)_LIB)
	@echo "  LD [$(1)] $$@"
	@$$($(1)_CC) $(COMMON_CFLAGS) $$($(1)_CFLAGS) -o $$@ $$^ $(LIBS)

$(BUILD)/$(1)/uvmstress: $$($(1)_OBJDIR)/stress/main.o $$($(1)_LIB)
	@echo "  LD [$(1)] $$@"
	@$$($(1)_CC) $(COMMON_CFLAGS) $$($(1)_CFLAGS) -o $$@ $$^ $(LIBS)

build-$(1): $$($(1)_LIB) $$($(1)_SMOKES) $$($(1)_UVMSTRESS)
build-$(1)-unit: $$($(1)_UNIT) $$($(1)_UVMSTRESS)
$$(or $$($(1)_GOAL),$(1)): deps-ok
	@$$(MAKE) --no-print-directory build-$(1)
-include $$(shell find $(BUILD)/$(1)/obj -name '*.d' 2>/dev/null)
endef
$(foreach f,$(FLAVOURS),$(eval $(call flavour_rules,$(f))))

.PHONY: deps-ok $(addprefix build-,$(FLAVOURS)) $(addsuffix -unit,$(addprefix build-,$(FLAVOURS)))
deps-ok:
	@sh mk/deps.sh

deps: deps-ok

test: deps-ok
	@$(MAKE) --no-print-directory -j2 build-release build-release-unit \
		build-asan build-asan-unit build-tsan
	@sh mk/runtests.sh $(BUILD)

run: deps-ok
	@$(MAKE) --no-print-directory -j2 build-release
	$(BUILD)/release/uvmstress --ncpu 2 --ram 64M -t 10

bench: deps-ok
	@$(MAKE) --no-print-directory -j2 build-release
	@sh perf/bench_fault.sh $(BUILD) 5
	@sh perf/bench_cow.sh $(BUILD) 5
	@sh perf/bench_reclaim.sh $(BUILD) 10 3
	@sh perf/bench_hostmmu.sh $(BUILD)
	@sh perf/bench_lwps.sh $(BUILD) 5
	@sh perf/bench_swapper.sh $(BUILD) 12
	@sh perf/bench_sched.sh $(BUILD) 3

coverage: deps-ok
	@$(MAKE) --no-print-directory -j2 build-coverage
	@bash mk/coverage.sh $(BUILD) $(COVERAGE_SECONDS) $(COVERAGE_ARGS)

# The mutant suite across the scheduler's modes (not part of make test):
# docs/mutants.md.  MUTANTS_ARGS: run.sh's options and patches.
.PHONY: mutants
mutants: deps-ok
	@bash tests/mutants/run.sh -m "free random pct pos" $(MUTANTS_ARGS)

clean:
	rm -rf $(BUILD)
