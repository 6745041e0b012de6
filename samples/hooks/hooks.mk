# hooks.mk - build the sample hooks (included from samples/samples.mk).
#
# Each samples/hooks/NAME.c becomes $(BUILD)/samples/NAME.so, a freestanding
# position-independent object for `zprewrite --hook`.  ZP_HOOK_CFLAGS are the
# flags any hook needs (see runtime/include/zprewrite/hook.h); the samples add
# warnings and a per-function stack check, since a hook may run on a small
# signal stack (ZP_HOOK_STACK_BUDGET), and what debuggers and profilers need
# to walk through a hook: -g for its unwind tables (.debug_frame, which
# zprewrite carries into the rewritten file; no .eh_frame is loaded) and
# frame pointers for perf's default call graphs (docs/hooks.md).

ZP_HOOK_CFLAGS ?= -fPIC -shared -nostdlib -ffreestanding -fno-stack-protector \
	-mgeneral-regs-only -fvisibility=hidden -fno-asynchronous-unwind-tables \
	-Iruntime/include
ZP_SAMPLE_HOOK_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -Wframe-larger-than=1024 \
	-g -fno-omit-frame-pointer

ZP_SAMPLE_HOOKS    := trace count deny fakepid example-openlog
ZP_SAMPLE_HOOK_SOS := $(patsubst %,$(BUILD)/samples/%.so,$(ZP_SAMPLE_HOOKS))
ZP_SAMPLE_HOOK_DEPS := runtime/include/zprewrite/hook.h samples/hooks/hookutil.h samples/hooks/hooks.mk
SAMPLE_HOOK_SOS    += $(ZP_SAMPLE_HOOK_SOS)

$(ZP_SAMPLE_HOOK_SOS): $(BUILD)/samples/%.so: samples/hooks/%.c $(ZP_SAMPLE_HOOK_DEPS)
	@mkdir -p $(@D)
	$(CC) $(ZP_SAMPLE_HOOK_CFLAGS) $(ZP_HOOK_CFLAGS) -o $@ $<

.PHONY: sample-hooks
sample-hooks: $(ZP_SAMPLE_HOOK_SOS)
