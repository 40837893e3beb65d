//! Tests of the record parser: hand-built records of every decoded kind, and proptests that
//! random or mangled bytes never panic.

use super::*;
use proptest::prelude::*;

/// Builds one record: header, then fields, the size filled in by `finish`.
struct Build(Vec<u8>);

impl Build {
    fn new(kind: u32, misc: u16) -> Build {
        let mut v = kind.to_ne_bytes().to_vec();
        v.extend(misc.to_ne_bytes());
        v.extend(0u16.to_ne_bytes());
        Build(v)
    }
    fn u32(mut self, x: u32) -> Build {
        self.0.extend(x.to_ne_bytes());
        self
    }
    fn u64(mut self, x: u64) -> Build {
        self.0.extend(x.to_ne_bytes());
        self
    }
    fn bytes(mut self, b: &[u8]) -> Build {
        self.0.extend(b);
        self
    }
    /// A NUL-terminated string padded to 8 bytes, as the kernel writes file names.
    fn string(mut self, s: &str) -> Build {
        self.0.extend(s.as_bytes());
        self.0.push(0);
        while !self.0.len().is_multiple_of(8) {
            self.0.push(0);
        }
        self
    }
    /// The sample_id trailer of the default layout: pid, tid, time, cpu.
    fn trailer(self, pid: u32, tid: u32, time: u64, cpu: u32) -> Build {
        self.u32(pid).u32(tid).u64(time).u32(cpu).u32(0)
    }
    fn finish(mut self) -> Vec<u8> {
        let size = u16::try_from(self.0.len()).unwrap().to_ne_bytes();
        self.0[6] = size[0];
        self.0[7] = size[1];
        self.0
    }
}

const PLUMB_SAMPLE_TYPE: u32 = b::PERF_SAMPLE_IP
    | b::PERF_SAMPLE_TID
    | b::PERF_SAMPLE_TIME
    | b::PERF_SAMPLE_CPU
    | b::PERF_SAMPLE_PERIOD
    | b::PERF_SAMPLE_CALLCHAIN
    | b::PERF_SAMPLE_REGS_USER
    | b::PERF_SAMPLE_STACK_USER;

fn layout() -> RecordLayout {
    RecordLayout::new(u64::from(PLUMB_SAMPLE_TYPE), user_regs_mask(), true).unwrap()
}

fn sample_bytes(misc: u16, callchain: &[u64], regs_abi: u64, stack: &[u8], dyn_size: u64) -> Vec<u8> {
    let mut r = Build::new(b::PERF_RECORD_SAMPLE, misc)
        .u64(0x4005d0)
        .u32(100)
        .u32(101)
        .u64(123_456_789)
        .u32(3)
        .u32(0)
        .u64(10_101_010)
        .u64(callchain.len() as u64);
    for &ip in callchain {
        r = r.u64(ip);
    }
    r = r.u64(regs_abi);
    if regs_abi != 0 {
        // Registers in bit order: bp (6), sp (7), ip (8).
        r = r.u64(0x7ffd_0000_1000).u64(0x7ffd_0000_0f00).u64(0x4005d0);
    }
    r = r.u64(stack.len() as u64).bytes(stack);
    if !stack.is_empty() {
        r = r.u64(dyn_size);
    }
    r.finish()
}

#[cfg(target_arch = "x86_64")]
#[test]
fn sample_with_everything() {
    let chain = [
        b::PERF_CONTEXT_KERNEL,
        0xffff_ffff_8100_0010,
        0xffff_ffff_8100_0020,
        b::PERF_CONTEXT_USER,
        0x4005d0,
        0x400700,
    ];
    let stack: Vec<u8> = (0..32).collect();
    let bytes = sample_bytes(b::PERF_RECORD_MISC_USER as u16, &chain, 2, &stack, 16);
    let Record::Sample(s) = layout().parse(&bytes).unwrap() else { panic!("not a sample") };
    assert_eq!((s.pid, s.tid, s.time, s.cpu, s.period, s.ip), (100, 101, Some(123_456_789), 3, 10_101_010, 0x4005d0));
    assert_eq!(s.cpu_mode, CpuMode::User);
    assert_eq!(s.kernel_ips, vec![0xffff_ffff_8100_0010, 0xffff_ffff_8100_0020]);
    assert_eq!(s.user_ips, vec![0x4005d0, 0x400700]);
    assert_eq!(s.user_regs, Some(UserRegs { ip: 0x4005d0, sp: 0x7ffd_0000_0f00, bp: 0x7ffd_0000_1000 }));
    assert_eq!(s.user_stack, (0..16).collect::<Vec<u8>>(), "cut to dyn_size");
}

#[test]
fn kernel_thread_sample_has_no_user_parts() {
    let chain = [b::PERF_CONTEXT_KERNEL, 0xffff_ffff_8100_0010];
    let bytes = sample_bytes(b::PERF_RECORD_MISC_KERNEL as u16, &chain, 0, &[], 0);
    let Record::Sample(s) = layout().parse(&bytes).unwrap() else { panic!("not a sample") };
    assert_eq!(s.cpu_mode, CpuMode::Kernel);
    assert_eq!(s.kernel_ips, vec![0xffff_ffff_8100_0010]);
    assert!(s.user_ips.is_empty() && s.user_stack.is_empty());
    assert_eq!(s.user_regs, None);
}

#[test]
fn frames_before_any_marker_follow_the_sample_mode_and_guest_frames_are_dropped() {
    let chain =
        [0x1000, b::PERF_CONTEXT_GUEST, 0x2000, b::PERF_CONTEXT_GUEST_USER, 0x3000, b::PERF_CONTEXT_USER, 0x4000];
    let bytes = sample_bytes(b::PERF_RECORD_MISC_USER as u16, &chain, 0, &[], 0);
    let Record::Sample(s) = layout().parse(&bytes).unwrap() else { panic!("not a sample") };
    assert_eq!(s.user_ips, vec![0x1000, 0x4000]);
    assert!(s.kernel_ips.is_empty());
}

#[test]
fn dyn_size_above_size_keeps_the_whole_copy() {
    let bytes = sample_bytes(b::PERF_RECORD_MISC_USER as u16, &[], 0, &[7; 8], 1 << 40);
    let Record::Sample(s) = layout().parse(&bytes).unwrap() else { panic!("not a sample") };
    assert_eq!(s.user_stack, vec![7; 8]);
}

#[test]
fn minimal_layout_reads_only_what_it_asked_for() {
    let layout = RecordLayout::new(u64::from(b::PERF_SAMPLE_IP | b::PERF_SAMPLE_TID), 0, false).unwrap();
    let bytes = Build::new(b::PERF_RECORD_SAMPLE, 0).u64(0x42).u32(7).u32(8).finish();
    let Record::Sample(s) = layout.parse(&bytes).unwrap() else { panic!("not a sample") };
    assert_eq!((s.ip, s.pid, s.tid, s.time, s.period), (0x42, 7, 8, None, 0));
}

#[test]
fn skipped_fields_are_stepped_over() {
    let sample_type = b::PERF_SAMPLE_IDENTIFIER
        | b::PERF_SAMPLE_IP
        | b::PERF_SAMPLE_ADDR
        | b::PERF_SAMPLE_ID
        | b::PERF_SAMPLE_STREAM_ID
        | b::PERF_SAMPLE_PERIOD
        | b::PERF_SAMPLE_RAW
        | b::PERF_SAMPLE_WEIGHT;
    let layout = RecordLayout::new(u64::from(sample_type), 0, true).unwrap();
    let bytes = Build::new(b::PERF_RECORD_SAMPLE, 0)
        .u64(99) // identifier
        .u64(0x42)
        .u64(1) // addr
        .u64(2) // id
        .u64(3) // stream id
        .u64(500)
        .u32(4)
        .bytes(&[1, 2, 3, 4]) // raw: size 4 + 4 bytes
        .u64(77) // weight, trailing and ignored
        .finish();
    let Record::Sample(s) = layout.parse(&bytes).unwrap() else { panic!("not a sample") };
    assert_eq!((s.ip, s.period), (0x42, 500));
}

#[test]
fn read_and_branch_stack_layouts_are_refused() {
    for bit in [b::PERF_SAMPLE_READ, b::PERF_SAMPLE_BRANCH_STACK] {
        let err = RecordLayout::new(u64::from(bit | b::PERF_SAMPLE_IP), 0, true).unwrap_err();
        assert!(matches!(err, Error::UnsupportedSampleType { bits } if bits == u64::from(bit)));
    }
}

#[test]
fn mmap2_with_inode() {
    let bytes = Build::new(b::PERF_RECORD_MMAP2, b::PERF_RECORD_MISC_USER as u16)
        .u32(100)
        .u32(101)
        .u64(0x5555_0000_0000)
        .u64(0x2000)
        .u64(0x1000)
        .u32(8)
        .u32(1)
        .u64(123_456)
        .u64(9)
        .u32((libc::PROT_READ | libc::PROT_EXEC) as u32)
        .u32(libc::MAP_PRIVATE as u32)
        .string("/usr/bin/true")
        .trailer(100, 101, 555, 1)
        .finish();
    let Record::Mmap(m) = layout().parse(&bytes).unwrap() else { panic!("not an mmap") };
    assert_eq!((m.pid, m.tid, m.start, m.len, m.pgoff), (100, 101, 0x5555_0000_0000, 0x2000, 0x1000));
    assert_eq!(m.path, PathBuf::from("/usr/bin/true"));
    assert!(m.executable);
    assert_eq!(m.file, Some(FileIdentity { maj: 8, min: 1, ino: 123_456, ino_generation: 9 }));
    assert_eq!(m.build_id, None);
    assert_eq!(m.sample_id, SampleId { pid: Some(100), tid: Some(101), time: Some(555), cpu: Some(1) });
    assert_eq!(Record::Mmap(m).time(), Some(555));
}

#[test]
fn mmap2_with_build_id_and_no_exec() {
    let build_id: Vec<u8> = (1..=20).collect();
    let bytes = Build::new(b::PERF_RECORD_MMAP2, b::PERF_RECORD_MISC_MMAP_BUILD_ID as u16)
        .u32(1)
        .u32(1)
        .u64(0x1000)
        .u64(0x1000)
        .u64(0)
        .bytes(&[20, 0, 0, 0])
        .bytes(&build_id)
        .u32(libc::PROT_READ as u32)
        .u32(0)
        .string("//anon")
        .trailer(1, 1, 2, 0)
        .finish();
    let Record::Mmap(m) = layout().parse(&bytes).unwrap() else { panic!("not an mmap") };
    assert_eq!(m.build_id, Some(build_id));
    assert_eq!(m.file, None);
    assert!(!m.executable);
    assert_eq!(m.path, PathBuf::from("//anon"));
}

#[test]
fn old_mmap_takes_exec_from_misc() {
    let bytes = Build::new(b::PERF_RECORD_MMAP, b::PERF_RECORD_MISC_MMAP_DATA as u16)
        .u32(5)
        .u32(6)
        .u64(0x1000)
        .u64(0x3000)
        .u64(0)
        .string("/data")
        .trailer(5, 6, 7, 0)
        .finish();
    let Record::Mmap(m) = layout().parse(&bytes).unwrap() else { panic!("not an mmap") };
    assert!(!m.executable);
    assert_eq!((m.len, m.path.as_os_str().len()), (0x3000, 5));
}

#[test]
fn comm_exec_fork_exit() {
    let comm = Build::new(b::PERF_RECORD_COMM, b::PERF_RECORD_MISC_COMM_EXEC as u16)
        .u32(9)
        .u32(9)
        .string("busy-loop")
        .trailer(9, 9, 10, 0)
        .finish();
    let Record::Comm(c) = layout().parse(&comm).unwrap() else { panic!("not a comm") };
    assert_eq!((c.pid, c.tid, c.comm.as_str(), c.exec, c.sample_id.time), (9, 9, "busy-loop", true, Some(10)));

    let fork = Build::new(b::PERF_RECORD_FORK, 0).u32(10).u32(9).u32(11).u32(9).u64(20).trailer(10, 11, 20, 1).finish();
    assert_eq!(layout().parse(&fork).unwrap(), Record::Fork(Fork { pid: 10, ppid: 9, tid: 11, ptid: 9, time: 20 }));
    let exit = Build::new(b::PERF_RECORD_EXIT, 0).u32(10).u32(9).u32(11).u32(9).u64(30).trailer(10, 11, 30, 1).finish();
    assert_eq!(layout().parse(&exit).unwrap(), Record::Exit(Exit { pid: 10, ppid: 9, tid: 11, ptid: 9, time: 30 }));
}

#[test]
fn lost_and_throttle() {
    let lost = Build::new(b::PERF_RECORD_LOST, 0).u64(4).u64(17).trailer(0, 0, 40, 2).finish();
    let sample_id = SampleId { pid: Some(0), tid: Some(0), time: Some(40), cpu: Some(2) };
    assert_eq!(layout().parse(&lost).unwrap(), Record::Lost { id: 4, count: 17, sample_id });
    let lost_samples = Build::new(b::PERF_RECORD_LOST_SAMPLES, 0).u64(3).trailer(0, 0, 40, 2).finish();
    assert_eq!(layout().parse(&lost_samples).unwrap(), Record::LostSamples { count: 3, sample_id });
    let throttle = Build::new(b::PERF_RECORD_THROTTLE, 0).u64(50).u64(1).u64(2).trailer(0, 0, 50, 0).finish();
    assert_eq!(layout().parse(&throttle).unwrap(), Record::Throttle(Throttle { time: 50, id: 1, stream_id: 2 }));
    let unthrottle = Build::new(b::PERF_RECORD_UNTHROTTLE, 0).u64(60).u64(1).u64(2).trailer(0, 0, 60, 0).finish();
    assert_eq!(layout().parse(&unthrottle).unwrap(), Record::Unthrottle(Throttle { time: 60, id: 1, stream_id: 2 }));
}

#[test]
fn unknown_kinds_are_not_errors() {
    let bytes = Build::new(b::PERF_RECORD_KSYMBOL, 0).u64(1).finish();
    assert_eq!(layout().parse(&bytes).unwrap(), Record::Unknown { kind: b::PERF_RECORD_KSYMBOL, size: 16 });
    assert_eq!(layout().parse(&bytes).unwrap().time(), None);
}

#[test]
fn truncated_and_inconsistent_records_are_errors() {
    let chain = [b::PERF_CONTEXT_USER, 0x1000];
    let whole = sample_bytes(b::PERF_RECORD_MISC_USER as u16, &chain, 0, &[1; 16], 16);
    // Cut short but with a header claiming the cut length: a field runs off the end.
    for cut in [8, 12, 30, 60, whole.len() - 8] {
        let mut short = whole[..cut].to_vec();
        short[6..8].copy_from_slice(&u16::try_from(cut).unwrap().to_ne_bytes());
        assert!(matches!(layout().parse(&short), Err(Error::MalformedRecord { kind: 9, .. })), "cut {cut}");
    }
    // A header size that disagrees with the slice.
    assert!(matches!(layout().parse(&whole[..whole.len() - 8]), Err(Error::MalformedRecord { .. })));
    assert!(matches!(layout().parse(&[1, 0, 0]), Err(Error::MalformedRecord { .. })));
    // A callchain length far beyond the record.
    let mut huge = sample_bytes(0, &[], 0, &[], 0);
    let nr_at = 8 + 8 + 8 + 8 + 8 + 8;
    huge[nr_at..nr_at + 8].copy_from_slice(&u64::MAX.to_ne_bytes());
    assert!(matches!(layout().parse(&huge), Err(Error::MalformedRecord { .. })));
    // An mmap too short for its trailer.
    let mmap = Build::new(b::PERF_RECORD_MMAP2, 0).u32(1).finish();
    assert!(layout().parse(&mmap).is_err());
}

fn any_layout() -> impl Strategy<Value = RecordLayout> {
    (any::<u32>(), any::<u64>(), any::<bool>()).prop_filter_map("supported layouts only", |(t, mask, all)| {
        RecordLayout::new(u64::from(t & ((1 << 25) - 1)), mask, all).ok()
    })
}

proptest! {
    #[test]
    fn random_bytes_never_panic(layout in any_layout(), kind in 0u32..24, body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut bytes = Build::new(kind, 0).bytes(&body).0;
        if let Ok(size) = u16::try_from(bytes.len()) {
            bytes[6..8].copy_from_slice(&size.to_ne_bytes());
        }
        let _ = layout.parse(&bytes);
        let _ = layout.parse(&body);
    }

    #[test]
    fn mangled_samples_never_panic(
        chain in proptest::collection::vec(any::<u64>(), 0..8),
        stack in proptest::collection::vec(any::<u8>(), 0..64),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut bytes = sample_bytes(b::PERF_RECORD_MISC_USER as u16, &chain, 2, &stack, stack.len() as u64);
        let clean = layout().parse(&bytes);
        prop_assert!(clean.is_ok());
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let _ = layout().parse(&bytes);
    }

    #[test]
    fn callchain_split_keeps_every_non_marker_frame(
        frames in proptest::collection::vec(0u64..0xffff_ffff_ffff, 0..20),
        kernel_first in 0usize..20,
    ) {
        let split = kernel_first.min(frames.len());
        let mut chain = vec![b::PERF_CONTEXT_KERNEL];
        chain.extend(&frames[..split]);
        chain.push(b::PERF_CONTEXT_USER);
        chain.extend(&frames[split..]);
        let bytes = sample_bytes(0, &chain, 0, &[], 0);
        let Ok(Record::Sample(s)) = layout().parse(&bytes) else { panic!("not a sample") };
        prop_assert_eq!(&s.kernel_ips[..], &frames[..split]);
        prop_assert_eq!(&s.user_ips[..], &frames[split..]);
    }
}
