	.section .rodata
	.globl alloc_blob, alloc_blob_end
	.balign 8
alloc_blob:
	.incbin "/work/main/build-m/alloc.min.btf"
alloc_blob_end:
	.globl cpu_samples_blob, cpu_samples_blob_end
	.balign 8
cpu_samples_blob:
	.incbin "/work/main/build-m/cpu_samples.min.btf"
cpu_samples_blob_end:
	.globl go_gc_blob, go_gc_blob_end
	.balign 8
go_gc_blob:
	.incbin "/work/main/build-m/go_gc.min.btf"
go_gc_blob_end:
	.globl native_gc_blob, native_gc_blob_end
	.balign 8
native_gc_blob:
	.incbin "/work/main/build-m/native_gc.min.btf"
native_gc_blob_end:
	.globl thread_events_blob, thread_events_blob_end
	.balign 8
thread_events_blob:
	.incbin "/work/main/build-m/thread_events.min.btf"
thread_events_blob_end:
	.globl thread_lifetimes_blob, thread_lifetimes_blob_end
	.balign 8
thread_lifetimes_blob:
	.incbin "/work/main/build-m/thread_lifetimes.min.btf"
thread_lifetimes_blob_end:
	.globl usdt_gc_blob, usdt_gc_blob_end
	.balign 8
usdt_gc_blob:
	.incbin "/work/main/build-m/usdt_gc.min.btf"
usdt_gc_blob_end:
	.globl kernel_blob, kernel_blob_end
	.balign 8
kernel_blob:
	.incbin "/work/main/build-m/kernel.notes"
kernel_blob_end:
	.section .note.GNU-stack,"",@progbits
