/*
 * blob_data.S - the runtime (build/runtime/runtime.elf), embedded in zprewrite.
 * blob.c reads it with libelf like any other ELF file.
 */
	.section .rodata
	.globl	zp_runtime_blob
	.globl	zp_runtime_blob_end
	.balign	64
zp_runtime_blob:
	.incbin	"runtime.elf"
zp_runtime_blob_end:
	.section .note.GNU-stack, "", @progbits
