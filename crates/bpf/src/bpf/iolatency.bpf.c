/* iolatency: block I/O latency as a log2 histogram, counted in the kernel.
 *
 * block_rq_issue (or, with targ_queued, block_rq_insert, falling back to block_rq_issue for
 * requests that bypass the scheduler's queue) remembers when each request started, keyed by
 * (dev, sector); block_rq_complete adds the request's latency to `hist`, a per-CPU array that
 * user space sums and differences per interval. Nothing is sampled and nothing crosses the
 * ring buffer (`events` exists only because every plumb object has one), so a completion on an
 * idle CPU is never lost. A full in-flight table is counted in `drops`. The slots are decoded by
 * plumb-trace's iolatency.rs: keep HIST_SLOTS and the slot rule in step. Slots: 0 is below 1 us;
 * 1..10 are log2 microseconds [2^(k-1), 2^k) with slot 10 ending at 1000 us; from 11 on they are
 * perf-tools' log2 milliseconds [2^(k-11), 2^(k-10)) ms, so the ms rows match perf-tools' exactly.
 * The -p and -n filters run at insert/issue on the process current then (as iosnoop records
 * it); -n (`targ_comm0..3`, 16 NUL-padded bytes as four words, all zero for any) keeps names
 * that contain it, as runqlat.bpf.c's does: the histogram has no per-process records to filter later.
 */
#include "plumb.bpf.h"

#define HIST_SLOTS 40
#define SUB_MS_SLOTS 11

const volatile __u32 targ_tgid = 0;   /* 0: every process (the one current at insert/issue) */
const volatile __u32 targ_dev = 0;    /* 0: every device; else a kernel dev_t (major << 20 | minor) */
const volatile __u8 targ_queued = 0;  /* 1: measure from block_rq_insert (includes queue time) */
const volatile __u32 targ_comm0 = 0, targ_comm1 = 0, targ_comm2 = 0, targ_comm3 = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct block_rq_key);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HIST_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

DEFINE_DROPS

/* floor(log2(v)) for v > 0, without loops (the verifier needs bounded code). */
static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xFFFFFFFFULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

/* True when the current thread's name contains the -n pattern (or there is none). */
static __always_inline int comm_matches(void)
{
	__u32 words[4] = { targ_comm0, targ_comm1, targ_comm2, targ_comm3 };
	char name[16] = {};
	const char *pattern = (const char *)words;
	int len = 0, i, j;

	if (!targ_comm0)
		return 1;
	for (len = 0; len < 15 && pattern[len]; len++)
		;
	bpf_get_current_comm(&name, sizeof(name));
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

static __always_inline int remember(struct block_rq_ctx *ctx, int only_if_new)
{
	struct block_rq_key key = { .dev = ctx->dev, .pad = 0, .sector = ctx->sector };
	__u64 ts;

	if (targ_dev && ctx->dev != targ_dev)
		return 0;
	if (targ_tgid && targ_tgid != (__u32)(bpf_get_current_pid_tgid() >> 32))
		return 0;
	if (!comm_matches())
		return 0;
	if (only_if_new && bpf_map_lookup_elem(&start, &key))
		return 0;
	ts = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&start, &key, &ts, BPF_ANY))
		count_drop(DROP_TABLE_FULL);
	return 0;
}

SEC("tracepoint/block/block_rq_insert")
int block_rq_insert(struct block_rq_ctx *ctx)
{
	if (!targ_queued)
		return 0;
	return remember(ctx, 0);
}

SEC("tracepoint/block/block_rq_issue")
int block_rq_issue(struct block_rq_ctx *ctx)
{
	/* With -Q, keep the insert time of a request that was queued. */
	return remember(ctx, targ_queued);
}

SEC("tracepoint/block/block_rq_complete")
int block_rq_complete(struct block_rq_complete_ctx *ctx)
{
	struct block_rq_key key = { .dev = ctx->dev, .pad = 0, .sector = ctx->sector };
	__u64 *ts, delta_us;
	__u32 slot;
	__u64 *count;

	ts = bpf_map_lookup_elem(&start, &key);
	if (!ts)
		return 0;
	delta_us = (bpf_ktime_get_ns() - *ts) / 1000;
	bpf_map_delete_elem(&start, &key);
	if (delta_us < 1000)
		slot = delta_us ? log2_u64(delta_us) + 1 : 0;
	else
		slot = SUB_MS_SLOTS + log2_u64(delta_us / 1000);
	if (slot >= HIST_SLOTS)
		slot = HIST_SLOTS - 1;
	count = bpf_map_lookup_elem(&hist, &slot);
	if (count)
		*count += 1;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
