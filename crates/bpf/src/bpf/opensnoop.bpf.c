/* opensnoop: every open, openat and openat2, with its result (fd or -errno) and path.
 *
 * The enter tracepoints keep the path pointer and flags per thread; the exit tracepoints read
 * the path from user memory (already faulted in by the syscall itself) into a ring buffer
 * record. Filters by process and by failure run here, so filtered opens cost no ring space.
 * A full ring or a full slot table is counted in `drops`. The record layout is decoded by
 * plumb-trace's open.rs: keep the two in step.
 */
#include "plumb.bpf.h"

#define PATH_MAX_LEN 256

enum open_call { CALL_OPEN = 0, CALL_OPENAT = 1, CALL_OPENAT2 = 2 };

struct open_args {
	const char *path;
	__s32 flags;
	__u32 call;
};

struct open_event {
	__u64 ts_ns;
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__s32 ret;
	__s32 flags;
	__u32 call;
	char comm[16];
	char path[PATH_MAX_LEN];
};

const volatile __u32 targ_tgid = 0;    /* 0: every process */
const volatile __u8 targ_failed = 0;   /* 1: failed opens only */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct open_args);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
} events SEC(".maps");

DEFINE_DROPS

static __always_inline int enter(const char *path, long flags, __u32 call)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct open_args args = { .path = path, .flags = (__s32)flags, .call = call };

	if (targ_tgid && targ_tgid != (__u32)(id >> 32))
		return 0;
	if (bpf_map_update_elem(&inflight, &tid, &args, BPF_ANY))
		count_drop(DROP_TABLE_FULL);
	return 0;
}

static __always_inline int leave(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct open_args *args;
	struct open_event *e;

	args = bpf_map_lookup_elem(&inflight, &tid);
	if (!args)
		return 0;
	if (targ_failed && ret >= 0)
		goto done;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop(DROP_RING_FULL);
		goto done;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = id >> 32;
	e->tid = tid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->ret = (__s32)ret;
	e->flags = args->flags;
	e->call = args->call;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	if (bpf_probe_read_user_str(&e->path, sizeof(e->path), args->path) < 0)
		e->path[0] = 0;
	bpf_ringbuf_submit(e, 0);
done:
	bpf_map_delete_elem(&inflight, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_open")
int sys_enter_open(struct syscall_enter_ctx *ctx)
{
	return enter((const char *)ctx->args[0], ctx->args[1], CALL_OPEN);
}

SEC("tracepoint/syscalls/sys_enter_openat")
int sys_enter_openat(struct syscall_enter_ctx *ctx)
{
	return enter((const char *)ctx->args[1], ctx->args[2], CALL_OPENAT);
}

SEC("tracepoint/syscalls/sys_enter_openat2")
int sys_enter_openat2(struct syscall_enter_ctx *ctx)
{
	/* openat2's flags live in struct open_how (its first field, a __u64). */
	__u64 flags = 0;

	bpf_probe_read_user(&flags, sizeof(flags), (const void *)ctx->args[2]);
	return enter((const char *)ctx->args[1], (long)flags, CALL_OPENAT2);
}

SEC("tracepoint/syscalls/sys_exit_open")
int sys_exit_open(struct syscall_exit_ctx *ctx)
{
	return leave(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int sys_exit_openat(struct syscall_exit_ctx *ctx)
{
	return leave(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int sys_exit_openat2(struct syscall_exit_ctx *ctx)
{
	return leave(ctx->ret);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
