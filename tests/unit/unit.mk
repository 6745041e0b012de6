# tests/unit/unit.mk - `make unit`: unit tests built for the host and run,
# each printing TAP; included by the Makefile (which has `test: unit`).
#
#   unit-rewriter  decode.c, funcs.c, findsites.c and decide.c on byte
#                  strings, linked against the rewriter's own objects
#   unit-format    runtime/util.c's zp_vsnprintf against the C library's
#   unit-debugframe  debugframe.c moving hand-made .debug_frame sections
#
# They need neither page 0 nor root, and take seconds.

UNIT_DIR     := $(BUILD)/unit
UNIT_RW_OBJS := $(patsubst rewriter/%.c,$(BUILD)/rewriter/%.o,$(filter-out rewriter/main.c,$(RW_SRCS)))
UNIT_TESTS   := $(UNIT_DIR)/unit-rewriter $(UNIT_DIR)/unit-format $(UNIT_DIR)/unit-debugframe

# The rewriter without main(): the linker takes only the objects a test uses.
$(UNIT_DIR)/librewriter.a: $(UNIT_RW_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(UNIT_DIR)/unit-rewriter: tests/unit/unit-rewriter.c tests/unit/tap.h $(RW_HDRS) $(UNIT_DIR)/librewriter.a
	$(CC) $(RW_CFLAGS) -O1 -Itests/unit -o $@ $< $(UNIT_DIR)/librewriter.a $(RW_LIBS)

$(UNIT_DIR)/unit-debugframe: tests/unit/unit-debugframe.c tests/unit/tap.h $(RW_HDRS) $(UNIT_DIR)/librewriter.a
	$(CC) $(RW_CFLAGS) -O1 -Itests/unit -o $@ $< $(UNIT_DIR)/librewriter.a $(RW_LIBS)

# runtime/util.c as it is, compiled for the host; its memcpy, memset...
# are made local to it, so that they do not stand in for the C library's
# in the test program.
$(UNIT_DIR)/util.o: runtime/util.c $(wildcard runtime/*.h runtime/include/zprewrite/*.h)
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) -O2 -ffreestanding -fno-builtin -fno-stack-protector \
		-Iruntime -Iruntime/include -c -o $@.tmp $<
	objcopy $(foreach s,memcpy memmove memset memcmp,--localize-symbol=$(s)) $@.tmp $@
	rm -f $@.tmp

$(UNIT_DIR)/unit-format: tests/unit/unit-format.c tests/unit/tap.h $(UNIT_DIR)/util.o
	$(CC) $(CSTD) $(WARN) -O1 -Itests/unit -o $@ $< $(UNIT_DIR)/util.o

.PHONY: unit
unit: $(UNIT_TESTS)
	@rc=0; for t in $(UNIT_TESTS); do echo "# $$t"; $$t || rc=1; done; exit $$rc
