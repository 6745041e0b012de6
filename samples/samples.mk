# samples.mk - sample hooks and programs (included by the top Makefile).
#
#   samples/hooks/      hooks that travel inside a rewritten binary (hooks.mk)
#   samples/programs/   small programs the demo and the tests rewrite (programs.mk)
# Everything is built into $(BUILD)/samples/.

SAMPLES := $(BUILD)/samples
SAMPLE_HOOKS :=
SAMPLE_PROGRAMS :=

-include samples/hooks/hooks.mk
-include samples/programs/programs.mk

.PHONY: samples
samples: $(SAMPLE_HOOKS) $(SAMPLE_PROGRAMS)
