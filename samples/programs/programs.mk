# programs.mk - build the test programs (included from samples/samples.mk).
#
# Each program P in samples/programs/ is built four ways, because a
# rewritten static program's start-up, vfork, clone and signal paths differ
# between C libraries and between fixed and position-independent code, and a
# dynamically linked one runs from a bundle (its loader and libc rewritten):
#   $(SAMPLES)/P.static       gcc -static
#   $(SAMPLES)/P.static-pie   gcc -static-pie -fPIE
#   $(SAMPLES)/P.musl         musl-gcc -static (only if musl-gcc is installed)
#   $(SAMPLES)/P.dynamic      gcc (tests rewrite it with --bundle)
# They are the targets of the tests in tests/t-targets-*.sh, t-contract-*.sh,
# t-hook-runs.sh, t-hook-vfork.sh and t-stress.sh, which skip a build that
# does not exist.
# PROG_EXTRA_P lists assembly sources linked into P besides P.c.

PROG_DIR    := samples/programs
PROG_NAMES  := targets-basic targets-threads hook-getppid contract-process \
	contract-signals contract-registers contract-numbers contract-null stress \
	hook-vfork
PROG_EXTRA_contract-registers := $(PROG_DIR)/contract-registers-asm.S
PROG_EXTRA_contract-process   := $(PROG_DIR)/rawclone.S
PROG_EXTRA_stress             := $(PROG_DIR)/rawclone.S

# -O2 -g: realistic code, with symbols for `zprewrite --list`.
# -fno-stack-protector -U_FORTIFY_SOURCE: nothing hidden in the programs' code
# changes between distributions' compiler defaults.
PROG_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -pthread \
	-fno-stack-protector -U_FORTIFY_SOURCE -I$(PROG_DIR)
PROG_DEPS   := $(PROG_DIR)/ptest.h $(PROG_DIR)/programs.mk
MUSL_GCC    := $(shell command -v musl-gcc 2>/dev/null)

PROG_FLAVOURS := static static-pie dynamic
ifneq ($(MUSL_GCC),)
PROG_FLAVOURS += musl
endif

define prog_rules # $(1): program name
$(SAMPLES)/$(1).static: $(PROG_DIR)/$(1).c $(PROG_EXTRA_$(1)) $(PROG_DEPS)
	@mkdir -p $$(@D)
	$(CC) $(PROG_CFLAGS) -static -o $$@ $(PROG_DIR)/$(1).c $(PROG_EXTRA_$(1))
$(SAMPLES)/$(1).static-pie: $(PROG_DIR)/$(1).c $(PROG_EXTRA_$(1)) $(PROG_DEPS)
	@mkdir -p $$(@D)
	$(CC) $(PROG_CFLAGS) -static-pie -fPIE -o $$@ $(PROG_DIR)/$(1).c $(PROG_EXTRA_$(1))
$(SAMPLES)/$(1).musl: $(PROG_DIR)/$(1).c $(PROG_EXTRA_$(1)) $(PROG_DEPS)
	@mkdir -p $$(@D)
	$(MUSL_GCC) $(PROG_CFLAGS) -static -o $$@ $(PROG_DIR)/$(1).c $(PROG_EXTRA_$(1))
$(SAMPLES)/$(1).dynamic: $(PROG_DIR)/$(1).c $(PROG_EXTRA_$(1)) $(PROG_DEPS)
	@mkdir -p $$(@D)
	$(CC) $(PROG_CFLAGS) -o $$@ $(PROG_DIR)/$(1).c $(PROG_EXTRA_$(1))
endef
$(foreach p,$(PROG_NAMES),$(eval $(call prog_rules,$(p))))

TEST_PROGRAMS := $(foreach p,$(PROG_NAMES),$(foreach f,$(PROG_FLAVOURS),$(SAMPLES)/$(p).$(f)))
SAMPLE_PROGRAMS += $(TEST_PROGRAMS)

.PHONY: sample-programs
sample-programs: $(TEST_PROGRAMS)
