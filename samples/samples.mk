# samples.mk - sample hooks and programs (included by the top Makefile).
#
#   samples/hooks/      hooks that travel inside a rewritten binary (hooks.mk)
#   samples/programs/   small programs the demo and the tests rewrite (programs.mk)
# Everything is built into $(BUILD)/samples/.

SAMPLES := $(BUILD)/samples
SAMPLE_HOOK_SOS :=
SAMPLE_PROGRAMS :=

-include samples/hooks/hooks.mk
-include samples/programs/programs.mk

# Programs for the golden files: assembly only, so that the binaries (and
# zprewrite's output for them) depend on nothing but binutils.
GOLDEN_SRCS := $(wildcard samples/golden/*.S)
GOLDEN_BINS := $(patsubst samples/golden/%.S,$(SAMPLES)/golden/%,$(GOLDEN_SRCS))
SAMPLE_PROGRAMS += $(GOLDEN_BINS)
$(SAMPLES)/golden/%: samples/golden/%.S
	@mkdir -p $(@D)
	$(CC) -nostdlib -static -Wl,--build-id=none -o $@ $<

.PHONY: samples
samples: $(SAMPLE_HOOK_SOS) $(SAMPLE_PROGRAMS)
