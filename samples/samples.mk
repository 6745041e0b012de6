# samples.mk - sample hooks and programs (included by the top Makefile).
.PHONY: samples
samples:
