/* runqlat: run-queue latency, the time a task waits runnable before it runs, as a log2 histogram.
 *
 * tp_btf/sched_wakeup and sched_wakeup_new stamp the woken task; tp_btf/sched_switch stamps the
 * task switched out while still runnable (preempted), and for the task switched in adds
 * now - stamp to `hist` (slot floor(log2(usecs)), slot 0 holding 0 and 1 us) and to `totals`
 * (count, nanoseconds), both per-CPU arrays the loader sums. tp_btf (not the classic
 * tracepoints) because the -p filter needs the woken task's tgid, which only its task_struct
 * has. Histograms are cumulative: user space prints the difference between two reads. The -n
 * filter (`targ_comm0..3`, 16 NUL-padded bytes as four words, all zero for any) keeps threads
 * whose name contains it; it runs here because the histogram has no per-thread records.
 * A full `start` table is counted in `drops`.
 */
#include "plumb.bpf.h"

#define TASK_RUNNING 0
#define HIST_SLOTS 64

/* The task_struct fields used, read through CO-RE (the ___runqlat flavour keeps this local
 * declaration apart from plumb.bpf.h's). */
struct task_struct___runqlat {
	int pid;
	int tgid;
	char comm[16];
} __attribute__((preserve_access_index));

const volatile __u32 targ_tgid = 0; /* 0: every process */
const volatile __u32 targ_comm0 = 0, targ_comm1 = 0, targ_comm2 = 0, targ_comm3 = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HIST_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hist SEC(".maps");

/* Slot 0: latencies counted, slot 1: their sum in nanoseconds. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} totals SEC(".maps");

/* Unused: the loader's convention wants every object to have an `events` ring. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

DEFINE_DROPS

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { r += 1; }
	return r;
}

static __always_inline void add(void *map, __u32 slot, __u64 value)
{
	__u64 *n = bpf_map_lookup_elem(map, &slot);

	if (n)
		*n += value;
}

/* True when the thread's name contains the -n pattern (or there is none). */
static __always_inline int comm_matches(struct task_struct___runqlat *p)
{
	__u32 words[4] = { targ_comm0, targ_comm1, targ_comm2, targ_comm3 };
	char name[16] = {};
	const char *pattern = (const char *)words;
	int len = 0, i, j;

	if (!targ_comm0)
		return 1;
	for (len = 0; len < 15 && pattern[len]; len++)
		;
	CORE_READ_INTO(&name, p, comm);
	for (i = 0; i < 16; i++) {
		for (j = 0; j < 15; j++) {
			if (j >= len)
				return 1;
			if (i + j >= 16 || name[(i + j) & 15] != pattern[j])
				break;
		}
	}
	return 0;
}

static __always_inline void enqueue(struct task_struct___runqlat *p)
{
	__u32 pid = p->pid;
	__u64 now;

	if (!pid)
		return;
	if (targ_tgid && (__u32)p->tgid != targ_tgid)
		return;
	if (!comm_matches(p))
		return;
	now = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&start, &pid, &now, BPF_ANY))
		count_drop(DROP_TABLE_FULL);
}

SEC("tp_btf/sched_wakeup")
int sched_wakeup(__u64 *ctx)
{
	enqueue((struct task_struct___runqlat *)ctx[0]);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int sched_wakeup_new(__u64 *ctx)
{
	enqueue((struct task_struct___runqlat *)ctx[0]);
	return 0;
}

/* sched_switch(bool preempt, struct task_struct *prev, struct task_struct *next,
 *              unsigned int prev_state) */
SEC("tp_btf/sched_switch")
int sched_switch(__u64 *ctx)
{
	struct task_struct___runqlat *prev = (struct task_struct___runqlat *)ctx[1];
	struct task_struct___runqlat *next = (struct task_struct___runqlat *)ctx[2];
	__u32 prev_state = (__u32)ctx[3];
	__u32 pid;
	__u64 *ts, delta;

	if (prev_state == TASK_RUNNING)
		enqueue(prev);
	pid = next->pid;
	ts = bpf_map_lookup_elem(&start, &pid);
	if (!ts)
		return 0;
	delta = bpf_ktime_get_ns() - *ts;
	bpf_map_delete_elem(&start, &pid);
	if ((__s64)delta < 0)
		return 0;
	add(&hist, log2_u64(delta / 1000) & (HIST_SLOTS - 1), 1);
	add(&totals, 0, 1);
	add(&totals, 1, delta);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
