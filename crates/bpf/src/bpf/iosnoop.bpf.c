/* iosnoop: one ring buffer record per completed block I/O, with the process that issued it.
 *
 * block_rq_issue (or, with targ_queued, block_rq_insert first) remembers the start time, the
 * current process and the request's size, keyed by (dev, sector); block_rq_complete sends a
 * record with both times. The pid is the one current at insert/issue, which for writeback is
 * the flusher thread, as in perf-tools' iosnoop. Device and pid filters run here. A full ring
 * or in-flight table is counted in `drops`. The record is decoded by plumb-trace's iosnoop.rs:
 * keep the two in step.
 */
#include "plumb.bpf.h"

const volatile __u32 targ_tgid = 0;   /* 0: every process */
const volatile __u32 targ_dev = 0;    /* 0: every device; else a kernel dev_t (major << 20 | minor) */
const volatile __u8 targ_queued = 0;  /* 1: start at block_rq_insert (includes queue time) */

struct io_start {
	__u64 ts_ns;
	__u32 pid;
	__u32 bytes;
	char comm[16];
};

struct io_event {
	__u64 start_ns;
	__u64 end_ns;
	__u64 sector;
	__u32 dev;
	__u32 pid;
	__u32 bytes;
	__s32 error;
	char rwbs[16];
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct block_rq_key);
	__type(value, struct io_start);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
} events SEC(".maps");

DEFINE_DROPS

static __always_inline int remember(struct block_rq_ctx *ctx, int only_if_new)
{
	struct block_rq_key key = { .dev = ctx->dev, .pad = 0, .sector = ctx->sector };
	struct io_start s = {};
	__u64 id;

	if (targ_dev && ctx->dev != targ_dev)
		return 0;
	id = bpf_get_current_pid_tgid();
	if (targ_tgid && targ_tgid != (__u32)(id >> 32))
		return 0;
	if (only_if_new && bpf_map_lookup_elem(&start, &key))
		return 0;
	s.ts_ns = bpf_ktime_get_ns();
	s.pid = id >> 32;
	s.bytes = ctx->bytes;
	bpf_get_current_comm(&s.comm, sizeof(s.comm));
	if (bpf_map_update_elem(&start, &key, &s, BPF_ANY))
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
	return remember(ctx, targ_queued);
}

SEC("tracepoint/block/block_rq_complete")
int block_rq_complete(struct block_rq_complete_ctx *ctx)
{
	struct block_rq_key key = { .dev = ctx->dev, .pad = 0, .sector = ctx->sector };
	struct io_start *s;
	struct io_event *e;

	s = bpf_map_lookup_elem(&start, &key);
	if (!s)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop(DROP_RING_FULL);
		goto done;
	}
	e->start_ns = s->ts_ns;
	e->end_ns = bpf_ktime_get_ns();
	e->sector = ctx->sector;
	e->dev = ctx->dev;
	e->pid = s->pid;
	e->bytes = s->bytes;
	e->error = ctx->error;
	__builtin_memset(e->rwbs, 0, sizeof(e->rwbs));
	__builtin_memcpy(e->rwbs, ctx->rwbs, sizeof(ctx->rwbs));
	__builtin_memcpy(e->comm, s->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
done:
	bpf_map_delete_elem(&start, &key);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
