# programs.mk - build the test programs (included from the top Makefile).
#
# The programs in tests/programs/ are what the tests rewrite and run; they
# are built into $(TESTPROG_OUT) = $(BUILD)/tests/.  Each program P is built
# four ways, because a rewritten static program's start-up, vfork, clone and
# signal paths differ between C libraries and between fixed and
# position-independent code, and a dynamically linked one runs from a bundle
# (its loader and libc rewritten):
#   $(TESTPROG_OUT)/P.static       gcc -static
#   $(TESTPROG_OUT)/P.static-pie   gcc -static-pie -fPIE
#   $(TESTPROG_OUT)/P.musl         musl-gcc -static (only if musl-gcc is installed)
#   $(TESTPROG_OUT)/P.dynamic      gcc (tests rewrite it with --bundle)
# They are the targets of the tests in tests/t-targets-*.sh, t-contract-*.sh,
# t-hook-*.sh, t-net.sh and t-stress.sh, which skip a build that does not
# exist.
# PROG_EXTRA_P lists assembly sources linked into P besides P.c.
# tests/programs/golden/*.S are the programs of the golden files
# (tests/golden.sh), built into $(TESTPROG_OUT)/golden/.

PROG_DIR     := tests/programs
TESTPROG_OUT := $(BUILD)/tests
PROG_NAMES   := targets-basic targets-threads hook-getppid contract-process \
	contract-signals contract-registers contract-numbers contract-null stress \
	hook-vfork net tinystack
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
$(TESTPROG_OUT)/$(1).static: $(PROG_DIR)/$(1).c $(PROG_EXTRA_$(1)) $(PROG_DEPS)
	@mkdir -p $$(@D)
	$(CC) $(PROG_CFLAGS) -static -o $$@ $(PROG_DIR)/$(1).c $(PROG_EXTRA_$(1))
$(TESTPROG_OUT)/$(1).static-pie: $(PROG_DIR)/$(1).c $(PROG_EXTRA_$(1)) $(PROG_DEPS)
	@mkdir -p $$(@D)
	$(CC) $(PROG_CFLAGS) -static-pie -fPIE -o $$@ $(PROG_DIR)/$(1).c $(PROG_EXTRA_$(1))
$(TESTPROG_OUT)/$(1).musl: $(PROG_DIR)/$(1).c $(PROG_EXTRA_$(1)) $(PROG_DEPS)
	@mkdir -p $$(@D)
	$(MUSL_GCC) $(PROG_CFLAGS) -static -o $$@ $(PROG_DIR)/$(1).c $(PROG_EXTRA_$(1))
$(TESTPROG_OUT)/$(1).dynamic: $(PROG_DIR)/$(1).c $(PROG_EXTRA_$(1)) $(PROG_DEPS)
	@mkdir -p $$(@D)
	$(CC) $(PROG_CFLAGS) -o $$@ $(PROG_DIR)/$(1).c $(PROG_EXTRA_$(1))
endef
$(foreach p,$(PROG_NAMES),$(eval $(call prog_rules,$(p))))

# The golden files' programs: assembly only, so that the binaries (and
# zprewrite's output for them) depend on nothing but binutils.
GOLDEN_SRCS := $(wildcard $(PROG_DIR)/golden/*.S)
GOLDEN_BINS := $(patsubst $(PROG_DIR)/golden/%.S,$(TESTPROG_OUT)/golden/%,$(GOLDEN_SRCS))
$(TESTPROG_OUT)/golden/%: $(PROG_DIR)/golden/%.S
	@mkdir -p $(@D)
	$(CC) -nostdlib -static -Wl,--build-id=none -o $@ $<

# net's dlopen mode loads this library from outside the bundle
# (tests/t-net.sh): its raw system calls are in no rewritten file.
$(TESTPROG_OUT)/libnetlib.so: $(PROG_DIR)/net-lib.c $(PROG_DEPS)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -fPIC -shared -o $@ $<

TEST_PROGRAMS := $(foreach p,$(PROG_NAMES),$(foreach f,$(PROG_FLAVOURS),$(TESTPROG_OUT)/$(p).$(f))) \
	$(GOLDEN_BINS) $(TESTPROG_OUT)/libnetlib.so

.PHONY: test-programs
test-programs: $(TEST_PROGRAMS)
