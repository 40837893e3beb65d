//! Data-driven tests: recorded counter values under `test_data/{pmc,showboost,cputemp}/*.json`,
//! each with its expected table and JSON in `*.expected`. A missing expected file fails;
//! `PLUMB_BLESS=1` rewrites them.

use std::path::{Path, PathBuf};

use plumb_perf::CounterReading;
use serde::Deserialize;

use crate::{
    BoostLine, CoreReport, CounterLine, CpuTemp, MsrCounts, boost_table_row, interval_lines, margin_from_perf_count,
    margin_from_therm_status, temp_table_header, temp_table_row, tjmax_from_temperature_target,
};

fn cases(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data").join(kind);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no cases in {}", dir.display());
    out
}

fn check(case: &Path, actual: &str) {
    let expected_path = case.with_extension("expected");
    if std::env::var("PLUMB_BLESS").as_deref() == Ok("1") {
        std::fs::write(&expected_path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&expected_path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with PLUMB_BLESS=1 to create it)", expected_path.display()));
    assert_eq!(actual, expected, "{}", case.display());
}

/// `[value, time_enabled, time_running]`.
type Raw = [u64; 3];

#[derive(Deserialize)]
struct PmcCounter {
    name: String,
    before: Option<Raw>,
    after: Option<Raw>,
    unsupported: Option<String>,
}

#[derive(Deserialize)]
struct PmcCase {
    target: String,
    seconds: f64,
    counters: Vec<PmcCounter>,
}

fn reading(raw: Raw) -> CounterReading {
    CounterReading { value: raw[0], time_enabled: raw[1], time_running: raw[2] }
}

#[test]
fn pmc_reports_from_recorded_counters() {
    for case in cases("pmc") {
        let input: PmcCase = serde_json::from_str(&std::fs::read_to_string(&case).unwrap()).unwrap();
        let lines = input
            .counters
            .iter()
            .map(|c| match (&c.unsupported, c.before, c.after) {
                (Some(why), _, _) => CounterLine::unsupported(&c.name, why),
                (None, Some(b), Some(a)) => CounterLine::measured(&c.name, &reading(a).delta(&reading(b))),
                _ => panic!("{}: counter {} has neither readings nor a reason", case.display(), c.name),
            })
            .collect();
        let report = CoreReport::new(input.target, input.seconds, lines);
        let json = serde_json::to_string_pretty(&report).unwrap();
        check(&case, &format!("{}\n{json}\n", report.table()));
    }
}

#[derive(Deserialize)]
struct BoostCpu {
    cpu: u32,
    before: MsrCounts,
    after: MsrCounts,
}

#[derive(Deserialize)]
struct BoostCase {
    seconds: f64,
    cpus: Vec<BoostCpu>,
}

#[test]
fn showboost_lines_from_recorded_counters() {
    for case in cases("showboost") {
        let input: BoostCase = serde_json::from_str(&std::fs::read_to_string(&case).unwrap()).unwrap();
        let deltas: Vec<(u32, MsrCounts)> = input.cpus.iter().map(|c| (c.cpu, c.after.delta(&c.before))).collect();
        let lines: Vec<BoostLine> = interval_lines(&deltas, input.seconds);
        let mut out = format!("{}\n", crate::BOOST_TABLE_HEADER);
        for line in &lines {
            out.push_str(&boost_table_row("00:00:01", line));
            out.push('\n');
        }
        out.push_str(&serde_json::to_string_pretty(&lines).unwrap());
        out.push('\n');
        check(&case, &out);
    }
}

#[derive(Deserialize)]
struct TempCase {
    /// IA32_TEMPERATURE_TARGET as hex.
    temperature_target: String,
    /// IA32_THERM_STATUS per CPU as hex (the MSR path).
    therm_status: Vec<String>,
    /// cpu_thermal_margin counts per CPU (the perf path), -1 as the kernel's invalid marker.
    perf_counts: Vec<i64>,
}

fn hex(text: &str) -> u64 {
    u64::from_str_radix(text.trim_start_matches("0x"), 16).unwrap()
}

#[test]
fn cputemp_from_recorded_registers() {
    for case in cases("cputemp") {
        let input: TempCase = serde_json::from_str(&std::fs::read_to_string(&case).unwrap()).unwrap();
        let tjmax = tjmax_from_temperature_target(hex(&input.temperature_target)).unwrap();
        let from_msr: Vec<CpuTemp> = (0u32..)
            .zip(&input.therm_status)
            .map(|(cpu, raw)| CpuTemp::new(cpu, tjmax, margin_from_therm_status(hex(raw))))
            .collect();
        let from_perf: Vec<CpuTemp> = (0u32..)
            .zip(&input.perf_counts)
            .map(|(cpu, &count)| CpuTemp::new(cpu, tjmax, margin_from_perf_count(count as u64)))
            .collect();
        assert_eq!(from_msr, from_perf, "{}: the MSR and perf paths disagree", case.display());
        let out = format!(
            "TjMax {tjmax}\n{}\n{}\n{}\n",
            temp_table_header(&from_msr),
            temp_table_row("00:00:01", &from_msr),
            serde_json::to_string_pretty(&from_msr).unwrap()
        );
        check(&case, &out);
    }
}
