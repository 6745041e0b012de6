# samples.mk - what a user would copy: the sample hooks and a small example
# program (included by the top Makefile).
#
#   samples/hooks/   hooks that travel inside a rewritten binary (hooks.mk)
#   samples/hello.c  a small program with a few system calls, for `make demo`
# Everything is built into $(BUILD)/samples/.  (The programs the tests
# rewrite are in tests/programs/.)

SAMPLES := $(BUILD)/samples
SAMPLE_HOOK_SOS :=

-include samples/hooks/hooks.mk

# Static, so that `zprewrite IN OUT` rewrites it without --bundle.
$(SAMPLES)/hello: samples/hello.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -static -o $@ $<

.PHONY: samples
samples: $(SAMPLE_HOOK_SOS) $(SAMPLES)/hello
