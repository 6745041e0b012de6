# zprewrite - offline system-call rewriting for Linux/x86-64.
#
#   make           build build/zprewrite, the sample hooks and the example program
#   make demo      rewrite programs and show their calls going through a hook
#   make test      build (and the test programs), then run every test (also the
#                  rewriter under ASan+UBSan)
#   make asan      build the rewriter with AddressSanitizer+UBSan and run its tests
#   make unit      build and run the unit tests (tests/unit/; make test runs them)
#   make golden    regenerate tests/golden/ from the current build
#   make bench     run the benchmarks and write docs/performance.md
#   make check-real  run Go's and CPython's own test suites natively and
#                  rewritten, and compare (docs/real-suites.md; not in make test)
#   make install   install zprewrite, the hook header and its pkg-config file
#
# Missing Debian packages are installed by scripts/deps.sh (as root).

BUILD   ?= build
PREFIX  ?= /usr/local
CC      ?= gcc
ifeq ($(origin CC),default)
CC      := gcc
endif
VERSION := 0.1.0

WARN    := -Wall -Wextra -Werror
CSTD    := -std=gnu11

# ---- dependencies --------------------------------------------------------
#
# The packages a goal needs (scripts/deps.sh: build < test < real, bench) are
# installed through an included makefile: make remakes it first and then
# reads the Makefile again, so that everything below, $(shell $(CC) ...)
# included, sees an installed system even on a fresh machine.

DEPS_SET := $(if $(filter bench,$(MAKECMDGOALS)),bench,$(if \
	$(filter check-real,$(MAKECMDGOALS)),real,$(if \
	$(filter test asan golden demo,$(MAKECMDGOALS)),test,build)))
ifneq ($(MAKECMDGOALS),clean)
include $(BUILD)/.deps-$(DEPS_SET).mk
endif
$(BUILD)/.deps-%.mk: scripts/deps.sh
	@mkdir -p $(@D)
	@scripts/deps.sh $*
	@echo '# packages of the $* set: installed' > $@

# ---- runtime: the freestanding code copied into every rewritten file -----

# Unwind information: -g1 without unwind tables makes gcc put its CFI into
# .debug_frame rather than .eh_frame; runtime.ld keeps that one debugging
# section and drops the others (the CFI is the same, precise at every
# instruction, as gcc's .eh_frame would be).  zprewrite puts it into every
# rewritten file for gdb and perf.  Frame pointers: perf's default call
# graphs (-g) follow rbp, through the runtime's own stack too, so a profile
# of a hooked call still reaches the application's frames (a few bytes and
# one register, on the slow path only: entry.S does not use rbp).
RT_DIR    := $(BUILD)/runtime
RT_CFLAGS := $(CSTD) $(WARN) -O2 -g1 -fno-omit-frame-pointer -ffreestanding -fno-builtin -fPIE \
	-fvisibility=hidden -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fno-unwind-tables -mgeneral-regs-only -mno-red-zone -fcf-protection=none \
	-fno-strict-aliasing -nostdinc -isystem $(shell $(CC) -print-file-name=include 2>/dev/null) \
	-isystem /usr/include -isystem /usr/include/x86_64-linux-gnu \
	-Iruntime -Iruntime/include -I$(RT_DIR)
RT_SRCS   := $(filter-out runtime/asm-offsets.c,$(wildcard runtime/*.c))
RT_ASMS   := $(wildcard runtime/*.S)
RT_OBJS   := $(patsubst runtime/%,$(RT_DIR)/%.o,$(RT_SRCS) $(RT_ASMS))
RT_GEN    := $(RT_DIR)/sysnames.h $(RT_DIR)/errnames.h

$(RT_DIR)/sysnames.h: scripts/gen-sysnames.sh /usr/include/x86_64-linux-gnu/asm/unistd_64.h
	@mkdir -p $(@D)
	scripts/gen-sysnames.sh /usr/include/x86_64-linux-gnu/asm/unistd_64.h > $@.tmp && mv $@.tmp $@

$(RT_DIR)/errnames.h: scripts/gen-errnames.c
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) -o $(RT_DIR)/gen-errnames $<
	$(RT_DIR)/gen-errnames > $@.tmp && mv $@.tmp $@

# (The objects depend on this Makefile too: RT_CFLAGS decides what they hold,
# the unwind tables among it.)
$(RT_DIR)/%.c.o: runtime/%.c $(wildcard runtime/*.h runtime/include/zprewrite/*.h) $(RT_GEN) Makefile
	@mkdir -p $(@D)
	$(CC) $(RT_CFLAGS) -c -o $@ $<

# Every number entry.S takes from C (struct offsets, enum values, sizes) is
# generated from runtime/asm-offsets.c, as the kernel's asm-offsets.h is:
# a change on the C side changes entry.S, and nothing is copied by hand.
$(RT_DIR)/asm-offsets.h: runtime/asm-offsets.c $(wildcard runtime/*.h runtime/include/zprewrite/*.h) scripts/gen-asm-offsets.sh
	@mkdir -p $(@D)
	$(CC) $(RT_CFLAGS) -S -o $(RT_DIR)/asm-offsets.s $<
	scripts/gen-asm-offsets.sh $(RT_DIR)/asm-offsets.s > $@.tmp && mv $@.tmp $@

$(RT_DIR)/%.S.o: runtime/%.S $(wildcard runtime/*.h) $(RT_DIR)/asm-offsets.h Makefile
	@mkdir -p $(@D)
	$(CC) $(RT_CFLAGS) -c -o $@ $<

# Linked at 0 with --emit-relocs so that the check below can prove that the
# blob needs no relocation: only PC-relative references are allowed.
$(RT_DIR)/runtime.elf: $(RT_OBJS) runtime/runtime.ld scripts/check-blob.sh
	ld -static -nostdlib --emit-relocs -z noexecstack -T runtime/runtime.ld -o $@.tmp $(RT_OBJS)
	scripts/check-blob.sh $@.tmp
	mv $@.tmp $@

# ---- rewriter ------------------------------------------------------------

RW_LIBS   := -lelf -ldw -lZydis -lopcodes -lbfd -lz
RW_CFLAGS := $(CSTD) $(WARN) -g -Irewriter -Iruntime -Iruntime/include \
	-DZP_VERSION='"$(VERSION)"'
RW_SRCS   := $(wildcard rewriter/*.c)
RW_HDRS   := $(wildcard rewriter/*.h) runtime/zp_abi.h runtime/include/zprewrite/hook.h

define rewriter_build # $(1): output dir, $(2): extra flags
$(1)/rewriter/%.o: rewriter/%.c $(RW_HDRS)
	@mkdir -p $$(@D)
	$(CC) $(RW_CFLAGS) $(2) -c -o $$@ $$<
$(1)/rewriter/blob_data.o: rewriter/blob_data.S $(RT_DIR)/runtime.elf
	@mkdir -p $$(@D)
	$(CC) -c -I$(RT_DIR) -o $$@ $$<
$(1)/zprewrite: $(patsubst rewriter/%.c,$(1)/rewriter/%.o,$(RW_SRCS)) $(1)/rewriter/blob_data.o
	$(CC) $(2) -o $$@ $$^ $(RW_LIBS)
endef

# (Flags with commas go through a variable: $(call) splits on commas.)
ASAN_FLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
$(eval $(call rewriter_build,$(BUILD),-O2))
$(eval $(call rewriter_build,$(BUILD)/asan,$$(ASAN_FLAGS)))

# ---- unit tests: tests/unit/ (make test runs them first) -----------------
# (-include: a tree without tests/, such as t-install.sh's, can still build
# and install; `make test` there stops at the missing `unit`.)

-include tests/unit/unit.mk
test: unit

# ---- samples (hooks, an example program) and the test programs -----------

include samples/samples.mk
include tests/programs/programs.mk

# ---- top-level targets ---------------------------------------------------

.PHONY: all demo test asan golden bench check-real install clean
.DEFAULT_GOAL := all

all: $(BUILD)/zprewrite samples

demo: all
	@scripts/demo.sh $(BUILD)

test: all test-programs $(BUILD)/asan/zprewrite
	@tests/run.sh $(BUILD)

asan: $(BUILD)/asan/zprewrite samples test-programs
	@ZP_ONLY_REWRITER=1 ZPREWRITE=$(BUILD)/asan/zprewrite tests/run.sh $(BUILD)

golden: all test-programs
	@tests/golden.sh --update $(BUILD)

bench: all
	@bench/run.sh $(BUILD)

# About 20 minutes here: not part of make test.  One suite or
# hook: make check-real ZP_REAL_SUITES=go:net ZP_REAL_HOOKS=trace
check-real: all
	@tests/real/run.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include/zprewrite \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BUILD)/zprewrite $(DESTDIR)$(PREFIX)/bin/zprewrite
	install -m 644 runtime/include/zprewrite/hook.h $(DESTDIR)$(PREFIX)/include/zprewrite/hook.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
		docs/zprewrite-hook.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/zprewrite-hook.pc
	install -m 644 docs/zprewrite.1 $(DESTDIR)$(PREFIX)/share/man/man1/zprewrite.1

clean:
	rm -rf $(BUILD)
