/* tcplife: one record per TCP session when it closes (sock:inet_sock_set_state), with its
 * process, addresses, ports, bytes each way and lifetime, as bcc's tcplife.
 *
 * State changes often run in softirq context, so the process is remembered when it is known:
 * the first change below FIN_WAIT1 stamps the session's birth; SYN_SENT (connect), FIN_WAIT1 and
 * LAST_ACK (close) record the current task unless one is already recorded (connect's wins). At
 * TCP_CLOSE the bytes are read from the socket's tcp_sock through CO-RE (bytes_acked: sent and
 * acknowledged payload; bytes_received), and the record goes to the ring. A session whose birth
 * was not seen (it began before tracing) is skipped, as in bcc. The -p filter (`targ_tgid`)
 * runs at close on the remembered process. Full tables and a full ring are counted in `drops`.
 * The record is decoded by plumb-trace's tcplife.rs: keep the two in step.
 */
#include "plumb.bpf.h"

#define AF_INET 2

#define IPPROTO_TCP 6
#define TCP_SYN_SENT 2
#define TCP_FIN_WAIT1 4
#define TCP_CLOSE 7
#define TCP_LAST_ACK 9

/* sock:inet_sock_set_state's record (tracefs events/sock/inet_sock_set_state/format, 6.x). */
struct inet_sock_set_state_ctx {
	__u64 common;
	const void *skaddr;
	int oldstate;
	int newstate;
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u16 protocol;
	__u8 saddr[4];
	__u8 daddr[4];
	__u8 saddr_v6[16];
	__u8 daddr_v6[16];
};

/* The two tcp_sock counters read at close; their offsets come from the kernel's BTF. */
struct tcp_sock {
	__u64 bytes_received;
	__u64 bytes_acked;
} __attribute__((preserve_access_index));

struct owner {
	__u32 pid;
	char comm[16];
};

struct tcplife_event {
	__u64 ts_ns;
	__u64 span_ns;
	__u64 tx_bytes;
	__u64 rx_bytes;
	__u32 pid;
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
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
} birth SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct owner);
} owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

DEFINE_DROPS

static __always_inline void remember_owner(__u64 sk)
{
	struct owner who = { .pid = bpf_get_current_pid_tgid() >> 32 };

	if (bpf_map_lookup_elem(&owners, &sk))
		return;
	bpf_get_current_comm(&who.comm, sizeof(who.comm));
	if (bpf_map_update_elem(&owners, &sk, &who, BPF_NOEXIST) && !bpf_map_lookup_elem(&owners, &sk))
		count_drop(DROP_TABLE_FULL);
}

SEC("tracepoint/sock/inet_sock_set_state")
int inet_sock_set_state(struct inet_sock_set_state_ctx *ctx)
{
	__u64 sk = (__u64)ctx->skaddr;
	int state = ctx->newstate;
	struct tcplife_event *e;
	struct owner *who;
	struct tcp_sock *tp;
	__u64 *start, now;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (state < TCP_FIN_WAIT1) {
		now = bpf_ktime_get_ns();
		if (bpf_map_update_elem(&birth, &sk, &now, BPF_NOEXIST) && !bpf_map_lookup_elem(&birth, &sk))
			count_drop(DROP_TABLE_FULL);
	}
	if (state == TCP_SYN_SENT || state == TCP_FIN_WAIT1 || state == TCP_LAST_ACK)
		remember_owner(sk);
	if (state != TCP_CLOSE)
		return 0;

	start = bpf_map_lookup_elem(&birth, &sk);
	if (!start)
		goto done;
	now = bpf_ktime_get_ns();
	who = bpf_map_lookup_elem(&owners, &sk);
	if (targ_tgid && (!who || who->pid != targ_tgid))
		goto done;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop(DROP_RING_FULL);
		goto done;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = now;
	e->span_ns = now - *start;
	/* A local pointer: inside the CO-RE builtin, ctx->skaddr would be relocated too. */
	tp = (struct tcp_sock *)ctx->skaddr;
	CORE_READ_INTO(&e->tx_bytes, tp, bytes_acked);
	CORE_READ_INTO(&e->rx_bytes, tp, bytes_received);
	if (who) {
		e->pid = who->pid;
		__builtin_memcpy(e->comm, who->comm, sizeof(e->comm));
	} else {
		e->pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(&e->comm, sizeof(e->comm));
	}
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
	bpf_ringbuf_submit(e, 0);
done:
	bpf_map_delete_elem(&birth, &sk);
	bpf_map_delete_elem(&owners, &sk);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
