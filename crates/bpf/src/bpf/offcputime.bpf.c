/* offcputime: time threads spend blocked off-CPU, summed in the kernel per (process, thread,
 * command, kernel stack, user stack).
 *
 * tp_btf/sched_switch runs in the context of the task switched out (prev), so bpf_get_stackid
 * there records prev's own kernel and user stacks (user stacks by frame pointers only). Those
 * and the switch-out time are kept per thread in `start`; when the thread is switched back in,
 * now - then is added to `offcpu`. Only blocked switches count (prev_state != TASK_RUNNING):
 * a preempted thread is runnable, not blocked. User space reads `offcpu` and `stacks` at the
 * end (offcpu.rs decodes `struct offcpu_key`: keep the two in step). A full table is counted
 * in `drops`; a stack that could not be stored gets a negative id, shown as missing, and is
 * counted in `stack_lost` (slot 0 kernel, 1 user; a per-CPU array like `drops`): the stack map
 * full (-ENOMEM), a hash slot taken by another stack (-EEXIST), or no stack read (-EFAULT; for
 * user stacks only while the thread has an address space: kernel threads and exiting threads,
 * past exit_mm, have no user stack to lose).
 */
#include "plumb.bpf.h"

#define BPF_MAP_TYPE_STACK_TRACE 7
#define BPF_F_USER_STACK (1ULL << 8)
#define PERF_MAX_STACK_DEPTH 127
#define TASK_RUNNING 0
#define STACK_LOST_KERNEL 0
#define STACK_LOST_USER 1

static long (*bpf_get_stackid)(void *ctx, void *map, __u64 flags) = (void *)27;

struct task_struct___offcpu {
	int pid;
	int tgid;
	void *mm;
} __attribute__((preserve_access_index));

struct offcpu_start {
	__u64 ts_ns;
	__s32 kernel_stack;
	__s32 user_stack;
	char comm[16];
};

/* 32 bytes, decoded by plumb-trace's offcpu.rs. */
struct offcpu_key {
	__u32 pid;
	__u32 tid;
	__s32 kernel_stack;
	__s32 user_stack;
	char comm[16];
};

const volatile __u32 targ_tgid = 0; /* 0: every process */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct offcpu_start);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct offcpu_key);
	__type(value, __u64);
} offcpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__uint(value_size, PERF_MAX_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

/* Unused: the loader's convention wants every object to have an `events` ring. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} stack_lost SEC(".maps");

DEFINE_DROPS

static __always_inline void count_stack_lost(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&stack_lost, &slot);

	if (n)
		*n += 1;
}

/* sched_switch(bool preempt, struct task_struct *prev, struct task_struct *next,
 *              unsigned int prev_state) */
SEC("tp_btf/sched_switch")
int sched_switch(__u64 *ctx)
{
	struct task_struct___offcpu *prev = (struct task_struct___offcpu *)ctx[1];
	struct task_struct___offcpu *next = (struct task_struct___offcpu *)ctx[2];
	__u32 prev_state = (__u32)ctx[3];
	struct offcpu_start *then, now_start = {};
	struct offcpu_key key = {};
	__u32 pid = prev->pid;
	__u64 now = bpf_ktime_get_ns(), delta, *total;

	if (pid && prev_state != TASK_RUNNING && (!targ_tgid || (__u32)prev->tgid == targ_tgid)) {
		now_start.ts_ns = now;
		now_start.kernel_stack = (__s32)bpf_get_stackid(ctx, &stacks, 0);
		now_start.user_stack = (__s32)bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
		if (now_start.kernel_stack < 0)
			count_stack_lost(STACK_LOST_KERNEL);
		if (now_start.user_stack < 0 && prev->mm)
			count_stack_lost(STACK_LOST_USER);
		bpf_get_current_comm(&now_start.comm, sizeof(now_start.comm));
		if (bpf_map_update_elem(&start, &pid, &now_start, BPF_ANY))
			count_drop(DROP_TABLE_FULL);
	}

	pid = next->pid;
	then = bpf_map_lookup_elem(&start, &pid);
	if (!then)
		return 0;
	delta = now - then->ts_ns;
	key.pid = next->tgid;
	key.tid = pid;
	key.kernel_stack = then->kernel_stack;
	key.user_stack = then->user_stack;
	__builtin_memcpy(key.comm, then->comm, sizeof(key.comm));
	bpf_map_delete_elem(&start, &pid);
	if ((__s64)delta < 0)
		return 0;
	total = bpf_map_lookup_elem(&offcpu, &key);
	if (total) {
		__sync_fetch_and_add(total, delta);
	} else if (bpf_map_update_elem(&offcpu, &key, &delta, BPF_NOEXIST)) {
		/* Another CPU may have inserted it meanwhile. */
		total = bpf_map_lookup_elem(&offcpu, &key);
		if (total)
			__sync_fetch_and_add(total, delta);
		else
			count_drop(DROP_TABLE_FULL);
	}
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
