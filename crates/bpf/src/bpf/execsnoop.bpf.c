/* execsnoop: every execve, with its pid, parent, return value and argv.
 *
 * sys_enter_execve copies argv into a per-thread slot while the old image still exists;
 * sys_exit_execve adds the return value and the (new) command name and sends the used part of
 * the record to the ring buffer. A full ring or a full slot table is counted in `drops`, never
 * silent. The record layout is decoded by plumb-trace's exec.rs: keep the two in step.
 */
#include "plumb.bpf.h"

#define ARG_MAX_LEN 256            /* one argument, with its NUL */
#define ARGS_MAX_COUNT 64          /* arguments kept per exec */
#define ARGS_BUF 4096              /* all arguments, NUL-separated */
#define ARGS_LAST (ARGS_BUF - ARG_MAX_LEN)
#define FLAG_ARGS_TRUNCATED 1

struct exec_event {
	__u64 ts_ns;
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	__s32 retval;
	__u32 args_count;
	__u32 args_size;
	__u32 flags;
	__u32 pad;
	char comm[16];
	char args[ARGS_BUF];
};

const volatile __u32 targ_tgid = 0; /* 0: every process */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct exec_event);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_event);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 23);
} events SEC(".maps");

DEFINE_DROPS

SEC("tracepoint/syscalls/sys_enter_execve")
int sys_enter_execve(struct syscall_enter_ctx *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	__u32 zero = 0;
	struct exec_event *e;
	struct task_struct *task, *parent = 0;
	const char *const *argv = (const char *const *)ctx->args[1];
	const char *arg;
	int i;
	long n;

	if (targ_tgid && targ_tgid != (__u32)(id >> 32))
		return 0;
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return 0;
	if (bpf_map_update_elem(&inflight, &tid, e, BPF_NOEXIST)) {
		count_drop(DROP_TABLE_FULL);
		return 0;
	}
	e = bpf_map_lookup_elem(&inflight, &tid);
	if (!e)
		return 0;
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = id >> 32;
	e->uid = (__u32)bpf_get_current_uid_gid();
	task = (struct task_struct *)bpf_get_current_task();
	CORE_READ_INTO(&parent, task, real_parent);
	if (parent)
		CORE_READ_INTO(&e->ppid, parent, tgid);
	e->args_count = 0;
	e->args_size = 0;
	e->flags = 0;

	for (i = 0; i < ARGS_MAX_COUNT; i++) {
		if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) || !arg)
			return 0;
		if (e->args_size > ARGS_LAST) {
			e->flags |= FLAG_ARGS_TRUNCATED;
			return 0;
		}
		n = bpf_probe_read_user_str(&e->args[e->args_size], ARG_MAX_LEN, arg);
		if (n <= 0)
			return 0;
		if (n == ARG_MAX_LEN)
			e->flags |= FLAG_ARGS_TRUNCATED;
		e->args_count++;
		e->args_size += n;
	}
	if (bpf_probe_read_user(&arg, sizeof(arg), &argv[ARGS_MAX_COUNT]) == 0 && arg)
		e->flags |= FLAG_ARGS_TRUNCATED;
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int sys_exit_execve(struct syscall_exit_ctx *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct exec_event *e;
	__u64 len;

	e = bpf_map_lookup_elem(&inflight, &tid);
	if (!e)
		return 0;
	e->retval = (__s32)ctx->ret;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	len = sizeof(*e) - ARGS_BUF + e->args_size;
	if (len > sizeof(*e))
		len = sizeof(*e);
	if (bpf_ringbuf_output(&events, e, len, 0))
		count_drop(DROP_RING_FULL);
	bpf_map_delete_elem(&inflight, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
