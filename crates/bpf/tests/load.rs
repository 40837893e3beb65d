//! Every embedded object passes the running kernel's verifier and attaches, and its loss
//! counters read as zero before anything ran. Skips with a reason when BPF is denied; fails
//! instead under `PLUMB_REQUIRE_PRIVILEGED=1`.

use std::time::Duration;

use plumb_bpf::{Error, Global, objects};

fn required() -> bool {
    std::env::var("PLUMB_REQUIRE_PRIVILEGED").is_ok_and(|v| v == "1")
}

#[test]
fn every_object_loads_attaches_and_reads_its_counters() {
    for object in objects::ALL {
        let globals = [("targ_tgid", Global::U32(u32::MAX))];
        let mut tracer = match plumb_bpf::load(object, &globals) {
            Ok(t) => t,
            Err(e @ (Error::Permission { .. } | Error::NoKernelBtf | Error::Tracefs { .. })) if !required() => {
                eprintln!("skipping: BPF is not available here: {e}");
                return;
            }
            Err(e) => panic!("{}: {e:?}", object.name),
        };
        // targ_tgid filters for a process that cannot exist, so nothing arrives.
        let mut seen = 0;
        tracer.poll(Duration::from_millis(50), |_| seen += 1).unwrap();
        assert_eq!(seen, 0, "{}", object.name);
        assert_eq!(tracer.drops().unwrap().total(), 0, "{}", object.name);
    }
}

#[test]
fn an_unknown_setting_is_an_error_naming_the_object() {
    let err = plumb_bpf::load(&objects::EXECSNOOP, &[("no_such_global", Global::U32(1))]);
    match err {
        Err(Error::Load { object, .. }) => assert_eq!(object, "execsnoop"),
        Err(e @ (Error::Permission { .. } | Error::NoKernelBtf | Error::Tracefs { .. })) if !required() => {
            eprintln!("skipping: BPF is not available here: {e}")
        }
        other => panic!("{other:?}"),
    }
}
