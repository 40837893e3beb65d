/* tcpretrans: every TCP retransmission (tcp:tcp_retransmit_skb), with the socket's addresses,
 * ports and state.
 *
 * The tracepoint's record already carries both address families (saddr/daddr for IPv4,
 * saddr_v6/daddr_v6 for IPv6) with ports in host order, so nothing is read through the socket.
 * Retransmits mostly run in timer or softirq context: the pid and comm are whatever task was
 * current (0 for none), and the -p filter (`targ_tgid`) matches that task only. A full ring is
 * counted in `drops`. The record is decoded by plumb-trace's tcpretrans.rs: keep the two in step.
 */
#include "plumb.bpf.h"

#define AF_INET 2

/* tcp:tcp_retransmit_skb's record (tracefs events/tcp/tcp_retransmit_skb/format, 6.x). */
struct tcp_retransmit_skb_ctx {
	__u64 common;
	const void *skbaddr;
	const void *skaddr;
	int state;
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u8 saddr[4];
	__u8 daddr[4];
	__u8 saddr_v6[16];
	__u8 daddr_v6[16];
};

struct tcpretrans_event {
	__u64 ts_ns;
	__u32 pid;
	__s32 state;
	__u16 family;
	__u16 sport;
	__u16 dport;
	__u16 pad;
	__u8 saddr[16];
	__u8 daddr[16];
	char comm[16];
};

const volatile __u32 targ_tgid = 0; /* 0: every process */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

DEFINE_DROPS

SEC("tracepoint/tcp/tcp_retransmit_skb")
int tcp_retransmit_skb(struct tcp_retransmit_skb_ctx *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct tcpretrans_event *e;

	if (targ_tgid && targ_tgid != tgid)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop(DROP_RING_FULL);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = tgid;
	e->state = ctx->state;
	e->family = ctx->family;
	e->sport = ctx->sport;
	e->dport = ctx->dport;
	if (ctx->family == AF_INET) {
		__builtin_memcpy(e->saddr, ctx->saddr, 4);
		__builtin_memcpy(e->daddr, ctx->daddr, 4);
	} else {
		__builtin_memcpy(e->saddr, ctx->saddr_v6, 16);
		__builtin_memcpy(e->daddr, ctx->daddr_v6, 16);
	}
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
