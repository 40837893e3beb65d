//! Live tests: C programs built here with gcc, run as children, symbolized and unwound for real;
//! kallsyms and a synthetic perf map. Each test skips with a printed reason when it lacks gcc or
//! the privilege to read a child's registers and stack or the kernel's symbol addresses, and fails
//! instead when PLUMB_REQUIRE_PRIVILEGED=1.
#![allow(unsafe_code)] // ptrace in `registers`, each call with a SAFETY comment

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use object::{Object, ObjectSegment, ObjectSymbol};
use plumb_symbolize::maps::{Backing, parse_proc_maps};
use plumb_symbolize::{Frame, FrameKind, Symbolizer, lookup_addresses};

/// Whether a test may go on; prints the reason and returns false to skip, or panics when required.
fn require(ok: bool, reason: &str) -> bool {
    if ok {
        return true;
    }
    if std::env::var("PLUMB_REQUIRE_PRIVILEGED").as_deref() == Ok("1") {
        panic!("required but unavailable: {reason}");
    }
    eprintln!("skipped: {reason}");
    false
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("plumb-symbolize-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Builds test_data/chain.c with `flags` into `dir/name`; `None` when gcc is missing.
fn build_chain(dir: &Path, name: &str, flags: &[&str]) -> Option<PathBuf> {
    build("gcc", "chain.c", dir, name, flags)
}

/// Builds test_data/`source` with `compiler` and `flags` into `dir/name`; `None` when the compiler is missing.
fn build(compiler: &str, source: &str, dir: &Path, name: &str, flags: &[&str]) -> Option<PathBuf> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data").join(source);
    let out = dir.join(name);
    let status = Command::new(compiler).args(flags).arg("-o").arg(&out).arg(&source).status();
    match status {
        Ok(status) => {
            assert!(status.success(), "gcc failed building {name}");
            Some(out)
        }
        Err(_) => None,
    }
}

const FP_FLAGS: &[&str] = &["-O0", "-g", "-fno-omit-frame-pointer"];
const NOFP_FLAGS: &[&str] = &["-O2", "-g", "-fomit-frame-pointer"];

/// A child that is killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The user stack pointer and program counter of a child blocked in pause(2), from /proc/PID/syscall.
fn blocked_in_pause(pid: u32) -> Option<(u64, u64)> {
    const SYS_PAUSE: &str = "34";
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let text = std::fs::read_to_string(format!("/proc/{pid}/syscall")).ok()?;
        let fields: Vec<&str> = text.split_whitespace().collect();
        if fields.first() == Some(&SYS_PAUSE) && fields.len() == 9 {
            let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
            return Some((hex(fields[7]), hex(fields[8])));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("child {pid} never blocked in pause");
}

/// The user (ip, sp, bp) of a child, stopped briefly with ptrace as a perf sample would see them.
fn registers(pid: u32) -> Option<(u64, u64, u64)> {
    let pid = libc::pid_t::try_from(pid).ok()?;
    let null = std::ptr::null_mut::<libc::c_void>();
    // SAFETY: PTRACE_ATTACH takes no pointers; the pid is our own child.
    if unsafe { libc::ptrace(libc::PTRACE_ATTACH, pid, null, null) } != 0 {
        return None;
    }
    let mut status = 0;
    // SAFETY: waitpid writes one int into the exclusively borrowed `status`.
    unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
    // SAFETY: an all-zero user_regs_struct is a valid value of this plain integer struct.
    let mut regs: libc::user_regs_struct = unsafe { std::mem::zeroed() };
    // SAFETY: PTRACE_GETREGS writes one user_regs_struct into the exclusively borrowed `regs`.
    let got = unsafe { libc::ptrace(libc::PTRACE_GETREGS, pid, null, &mut regs as *mut _ as *mut libc::c_void) };
    // SAFETY: PTRACE_DETACH with signal 0 takes no pointers and resumes the child.
    unsafe { libc::ptrace(libc::PTRACE_DETACH, pid, null, null) };
    (got == 0).then_some((regs.rip, regs.rsp, regs.rbp))
}

/// Up to 64 KiB of the child's stack from `sp`, through /proc/PID/mem.
fn read_stack(pid: u32, sp: u64) -> Vec<u8> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let stack_end = maps
        .lines()
        .filter(|l| l.ends_with("[stack]"))
        .filter_map(|l| l.split_once('-')?.1.split_once(' ').map(|(end, _)| u64::from_str_radix(end, 16).unwrap()))
        .next()
        .unwrap();
    let len = (stack_end - sp).min(64 * 1024) as usize;
    let mut bytes = vec![0u8; len];
    std::fs::File::open(format!("/proc/{pid}/mem")).unwrap().read_exact_at(&mut bytes, sp).unwrap();
    bytes
}

/// Starts `binary` and waits until it blocks; `None` (after `require`) when /proc/PID/syscall is unreadable.
fn start_blocked(binary: &Path) -> Option<(Running, u32, u64, u64)> {
    let child = Running(Command::new(binary).spawn().unwrap());
    let pid = child.0.id();
    let regs = blocked_in_pause(pid);
    if !require(regs.is_some(), "reading /proc/PID/syscall of a child needs ptrace access") {
        return None;
    }
    let (sp, pc) = regs?;
    Some((child, pid, sp, pc))
}

/// The file offset of function `name` in the ELF image `data`, from its symtab.
fn file_offset_of(data: &[u8], name: &str) -> u64 {
    let elf = object::File::parse(data).unwrap();
    let svma = elf.symbols().find(|s| s.name() == Ok(name)).unwrap_or_else(|| panic!("no {name}")).address();
    let segment = elf.segments().find(|s| svma >= s.address() && svma < s.address() + s.size()).unwrap();
    svma - segment.address() + segment.file_range().0
}

/// The address where `file_offset` of `binary` is mapped in `pid`, from /proc/PID/maps.
fn runtime_address(pid: u32, binary: &Path, file_offset: u64) -> u64 {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let (mappings, _) = parse_proc_maps(&maps);
    let binary_path = binary.to_str().unwrap();
    let mapping = mappings
        .iter()
        .find(|m| {
            matches!(&m.backing, Backing::File { path, .. } if path.as_ref() == binary_path)
                && file_offset >= m.pgoff
                && file_offset < m.pgoff + (m.end - m.start)
        })
        .unwrap();
    mapping.start + file_offset - mapping.pgoff
}

/// Runtime addresses in `pid` of the functions `names` of `binary`.
fn runtime_addresses(pid: u32, binary: &Path, names: &[&str]) -> Vec<u64> {
    let data = std::fs::read(binary).unwrap();
    names.iter().map(|name| runtime_address(pid, binary, file_offset_of(&data, name))).collect()
}

fn names(frames: &[Vec<Frame>]) -> Vec<String> {
    frames.iter().flatten().map(|f| f.name.to_string()).collect()
}

/// Checks that `want` appears in `have` in order (not necessarily adjacent).
fn contains_in_order(have: &[String], want: &[&str]) -> bool {
    let mut rest = have.iter();
    want.iter().all(|w| rest.any(|h| h == w))
}

fn check_symbolizes_known_functions(flags: &[&str], name: &str) {
    let dir = scratch_dir(name);
    let Some(binary) = build_chain(&dir, name, flags) else {
        require(false, "gcc is not installed");
        return;
    };
    let Some((child, pid, _, _)) = start_blocked(&binary) else { return };
    let functions = ["main", "plumb_a", "plumb_b", "plumb_c"];
    let addresses = runtime_addresses(pid, &binary, &functions);
    let mut symbolizer = Symbolizer::default();
    // The entry point and a few bytes in.
    let probes: Vec<u64> = addresses.iter().flat_map(|&a| [a, a + 4]).collect();
    let frames = symbolizer.symbolize_user(pid, &probes);
    for (i, function) in functions.iter().enumerate() {
        for frames in &frames[2 * i..2 * i + 2] {
            let outer = frames.last().unwrap();
            assert_eq!(outer.name.as_ref(), *function, "{frames:?}");
            assert_eq!((outer.module.as_ref(), outer.kind, outer.inlined), (name, FrameKind::User, false));
            assert!(outer.file.as_deref().is_some_and(|f| f.ends_with("chain.c")), "{outer:?}");
        }
    }
    // After the process exits (and its binary is deleted) its module file is still open.
    drop(child);
    symbolizer.note_exit(pid);
    std::fs::remove_dir_all(&dir).unwrap();
    let after = symbolizer.symbolize_user(pid, &[addresses[3] + 1]);
    assert_eq!(after[0].last().unwrap().name.as_ref(), "plumb_c");
    assert_eq!(symbolizer.stats().unresolved, 0);
}

#[test]
fn symbolizes_known_functions_with_frame_pointers() {
    check_symbolizes_known_functions(FP_FLAGS, "chain-fp");
}

#[test]
fn symbolizes_known_functions_without_frame_pointers() {
    check_symbolizes_known_functions(NOFP_FLAGS, "chain-nofp");
}

/// Unwinds the blocked child; `use_bp` false passes bp = 0 so CFI alone must carry every frame.
fn check_unwinds_to_main(flags: &[&str], name: &str, use_bp: bool) {
    let dir = scratch_dir(name);
    let Some(binary) = build_chain(&dir, name, flags) else {
        require(false, "gcc is not installed");
        return;
    };
    let Some((_child, pid, _, _)) = start_blocked(&binary) else { return };
    let regs = registers(pid);
    if !require(regs.is_some(), "ptrace(PTRACE_ATTACH) of a child was refused") {
        return;
    }
    let (ip, sp, bp) = regs.unwrap();
    let bp = if use_bp { bp } else { 0 };
    let stack = read_stack(pid, sp);
    let mut symbolizer = Symbolizer::default();
    let chain = symbolizer.unwind_user(pid, ip, sp, bp, &stack);
    let frames = symbolizer.symbolize_user(pid, &lookup_addresses(&chain));
    let got = names(&frames);
    assert!(contains_in_order(&got, &["plumb_wait", "plumb_c", "plumb_b", "plumb_a", "main"]), "{got:?}");
    let wait = frames.iter().flatten().find(|f| f.name.as_ref() == "plumb_wait").unwrap();
    assert!(wait.inlined && wait.kind == FrameKind::User, "{wait:?}");
    // The innermost frame is libc's pause, in the libc module.
    let first = frames[0].last().unwrap();
    assert!(first.module.starts_with("libc"), "{first:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unwinds_omit_frame_pointer_build_to_main() {
    check_unwinds_to_main(NOFP_FLAGS, "unwind-nofp", false);
}

#[test]
fn unwinds_frame_pointer_build_to_main() {
    check_unwinds_to_main(FP_FLAGS, "unwind-fp", true);
}

#[test]
fn unwinds_code_without_cfi_through_frame_pointers() {
    let flags = ["-O0", "-g", "-fno-omit-frame-pointer", "-fno-asynchronous-unwind-tables", "-fno-unwind-tables"];
    check_unwinds_to_main(&flags, "unwind-no-cfi", true);
}

#[test]
fn symbolizes_a_binary_deleted_before_first_sight() {
    let dir = scratch_dir("deleted");
    let Some(binary) = build_chain(&dir, "chain-deleted", NOFP_FLAGS) else {
        require(false, "gcc is not installed");
        return;
    };
    let Some((_child, pid, _, _)) = start_blocked(&binary) else { return };
    let addresses = runtime_addresses(pid, &binary, &["plumb_b"]);
    std::fs::remove_dir_all(&dir).unwrap();
    let map_files = std::fs::read_dir(format!("/proc/{pid}/map_files")).and_then(|mut d| d.next().transpose());
    let readable = map_files.ok().flatten().is_some_and(|entry| std::fs::metadata(entry.path()).is_ok());
    if !require(readable, "/proc/PID/map_files needs CAP_SYS_ADMIN") {
        return;
    }
    let mut symbolizer = Symbolizer::default();
    let frames = symbolizer.symbolize_user(pid, &[addresses[0] + 2]);
    assert_eq!(frames[0].last().unwrap().name.as_ref(), "plumb_b", "{:?}", symbolizer.take_warnings());
    assert_eq!(frames[0].last().unwrap().module.as_ref(), "chain-deleted");
}

#[test]
fn unwinding_a_truncated_stack_keeps_what_it_found() {
    let dir = scratch_dir("truncated");
    let Some(binary) = build_chain(&dir, "truncated", NOFP_FLAGS) else {
        require(false, "gcc is not installed");
        return;
    };
    let Some((_child, pid, sp, pc)) = start_blocked(&binary) else { return };
    let mut symbolizer = Symbolizer::default();
    let chain = symbolizer.unwind_user(pid, pc, sp, 0, &[]);
    assert_eq!(chain.first(), Some(&pc));
    assert_eq!(symbolizer.stats().unwind_incomplete, 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stripped_code_becomes_module_plus_offset() {
    let dir = scratch_dir("stripped");
    let Some(binary) = build_chain(&dir, "chain-stripped", NOFP_FLAGS) else {
        require(false, "gcc is not installed");
        return;
    };
    let unstripped = std::fs::read(&binary).unwrap();
    let stripped = Command::new("strip").arg(&binary).status().is_ok_and(|s| s.success());
    if !require(stripped, "strip (binutils) is not installed") {
        return;
    }
    let Some((_child, pid, _, _)) = start_blocked(&binary) else { return };
    // The symbol's offset comes from the image taken before stripping.
    let file_offset = file_offset_of(&unstripped, "plumb_c");
    let mut symbolizer = Symbolizer::default();
    let address = runtime_address(pid, &binary, file_offset);
    let frames = symbolizer.symbolize_user(pid, &[address]);
    let want = format!("chain-stripped+{:#x}", file_offset);
    assert_eq!(frames[0], vec![Frame::new(want, "chain-stripped", FrameKind::User)]);
    assert_eq!(symbolizer.stats().unresolved, 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn demangles_cpp_names() {
    let dir = scratch_dir("cpp");
    for (name, flags) in [("widget-g", &["-O2", "-g"][..]), ("widget-symtab", &["-O2"][..])] {
        let Some(binary) = build("g++", "widget.cpp", &dir, name, flags) else {
            require(false, "g++ is not installed");
            return;
        };
        let Some((_child, pid, _, _)) = start_blocked(&binary) else { return };
        let addresses = runtime_addresses(pid, &binary, &["_ZN5plumb6Widget3runEi"]);
        let mut symbolizer = Symbolizer::default();
        let frames = symbolizer.symbolize_user(pid, &[addresses[0] + 1]);
        assert_eq!(frames[0].last().unwrap().name.as_ref(), "plumb::Widget::run(int)", "{name}: {frames:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn kernel_symbol_resolves_through_kallsyms() {
    let text = std::fs::read_to_string("/proc/kallsyms").unwrap_or_default();
    let schedule = text.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let addr = u64::from_str_radix(fields.next()?, 16).ok()?;
        (fields.next()? == "T" && fields.next()? == "schedule" && addr != 0).then_some(addr)
    });
    if !require(schedule.is_some(), "/proc/kallsyms hides addresses (needs root or CAP_SYSLOG)") {
        return;
    }
    let schedule = schedule.unwrap();
    let mut symbolizer = Symbolizer::default();
    let frames = symbolizer.symbolize_kernel(&[schedule, schedule + 3]);
    for frame in frames.iter().flatten() {
        assert_eq!(*frame, Frame::new("schedule", "[kernel.kallsyms]", FrameKind::Kernel));
    }
    assert_eq!(symbolizer.stats().unresolved, 0);
}

#[test]
fn synthetic_perf_map_names_jit_frames() {
    // Above the kernel's largest pid_max (2^22), so no real process has it.
    let fake_pid = 10_000_000 + std::process::id();
    let path = PathBuf::from(format!("/tmp/perf-{fake_pid}.map"));
    std::fs::write(&path, "7f0000001000 100 LazyCompile:~handle app.js:10\n7f0000002000 40 Interpreter\n").unwrap();
    let mut symbolizer = Symbolizer::default();
    let frames = symbolizer.symbolize_user(fake_pid, &[0x7f0000001080, 0x7f000000203f, 0x7f0000003000]);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(frames[0], vec![Frame::new("LazyCompile:~handle app.js:10", "[jit]", FrameKind::Jit)]);
    assert_eq!(frames[1], vec![Frame::new("Interpreter", "[jit]", FrameKind::Jit)]);
    assert_eq!(frames[2], vec![Frame::new("[unknown]", "[unknown]", FrameKind::Unknown)]);
    assert_eq!(symbolizer.stats().unresolved, 1);
}
