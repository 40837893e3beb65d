/* plumb.bpf.h: the few kernel types, helpers and map macros plumb's BPF programs use.
 *
 * Hand-written instead of a bpftool-generated vmlinux.h (several megabytes for 6.18) and instead of
 * libbpf-dev's headers: the programs need two task_struct fields (read through CO-RE relocations,
 * so their offsets come from the running kernel's BTF at load time) and the syscall tracepoints'
 * record layouts (a stable ABI, printed in tracefs events/syscalls/ * /format). With no system
 * headers included, the compiled objects depend only on the clang version (see build-bpf.sh).
 */
#ifndef PLUMB_BPF_H
#define PLUMB_BPF_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;
typedef long long __s64;

#define SEC(name) __attribute__((section(name), used))
#define __always_inline inline __attribute__((always_inline))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name

/* Map types, update flags (include/uapi/linux/bpf.h). */
#define BPF_MAP_TYPE_HASH 1
#define BPF_MAP_TYPE_PERCPU_ARRAY 6
#define BPF_MAP_TYPE_RINGBUF 27
#define BPF_ANY 0
#define BPF_NOEXIST 1

/* Helpers by number (include/uapi/linux/bpf.h, enum bpf_func_id). */
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)2;
static long (*bpf_map_delete_elem)(void *map, const void *key) = (void *)3;
static __u64 (*bpf_ktime_get_ns)(void) = (void *)5;
static __u64 (*bpf_get_current_pid_tgid)(void) = (void *)14;
static __u64 (*bpf_get_current_uid_gid)(void) = (void *)15;
static long (*bpf_get_current_comm)(void *buf, __u32 size_of_buf) = (void *)16;
static __u64 (*bpf_get_current_task)(void) = (void *)35;
static long (*bpf_probe_read_user)(void *dst, __u32 size, const void *unsafe_ptr) = (void *)112;
static long (*bpf_probe_read_kernel)(void *dst, __u32 size, const void *unsafe_ptr) = (void *)113;
static long (*bpf_probe_read_user_str)(void *dst, __u32 size, const void *unsafe_ptr) = (void *)114;
static long (*bpf_ringbuf_output)(void *ringbuf, void *data, __u64 size, __u64 flags) = (void *)130;
static void *(*bpf_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *)131;
static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)132;

/* The kernel types read through CO-RE: only the fields used, offsets relocated at load. */
struct task_struct {
	int tgid;
	struct task_struct *real_parent;
} __attribute__((preserve_access_index));

/* A syscalls:sys_enter_* record: 8 bytes of common fields, the syscall number, six arguments. */
struct syscall_enter_ctx {
	__u64 common;
	__s32 syscall_nr;
	__u32 pad;
	unsigned long args[6];
};

/* A syscalls:sys_exit_* record. */
struct syscall_exit_ctx {
	__u64 common;
	__s32 syscall_nr;
	__u32 pad;
	long ret;
};

/* Reads a kernel pointer field through a CO-RE relocation (BPF_CORE_READ for one level). */
#define CORE_READ_INTO(dst, src_ptr, field) \
	bpf_probe_read_kernel((dst), sizeof(*(dst)), __builtin_preserve_access_index(&(src_ptr)->field))

/* Loss counters, one slot per cause, summed over CPUs by the loader (plumb_bpf::Drops). */
#define DROP_RING_FULL 0
#define DROP_TABLE_FULL 1
#define DROP_SLOTS 2

#define DEFINE_DROPS                                   \
	struct {                                           \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);       \
		__uint(max_entries, DROP_SLOTS);               \
		__type(key, __u32);                            \
		__type(value, __u64);                          \
	} drops SEC(".maps");                              \
	static __always_inline void count_drop(__u32 slot) \
	{                                                  \
		__u64 *n = bpf_map_lookup_elem(&drops, &slot); \
		if (n)                                         \
			*n += 1;                                   \
	}

/* Block layer tracepoints (block:block_rq_insert, block_rq_issue, block_rq_complete), their record
 * layouts as printed in tracefs events/block/ * /format (6.x). `dev` is the kernel's dev_t:
 * major << 20 | minor. Used by iolatency and iosnoop, which key in-flight requests by (dev, sector).
 */
struct block_rq_ctx {
	__u64 common;
	__u32 dev;
	__u32 pad;
	__u64 sector;
	__u32 nr_sector;
	__u32 bytes;
	__u16 ioprio;
	char rwbs[10];
	char comm[16];
	__u32 cmd_loc;
};

struct block_rq_complete_ctx {
	__u64 common;
	__u32 dev;
	__u32 pad;
	__u64 sector;
	__u32 nr_sector;
	__s32 error;
	__u16 ioprio;
	char rwbs[10];
	__u32 cmd_loc;
};

struct block_rq_key {
	__u32 dev;
	__u32 pad;
	__u64 sector;
};

#endif
