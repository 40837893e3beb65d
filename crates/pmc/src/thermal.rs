//! `plumb cputemp`: CPU temperatures, as Brendan Gregg's cputemp computes them. The CPU does not
//! report a temperature but a margin: how many degrees below TjMax (the throttling point) it is.
//! Temperature = TjMax − margin. The margin is the digital readout of MSR IA32_THERM_STATUS
//! (0x19c, bits 22:16, valid when bit 31 is set), which the perf `msr` PMU exposes per CPU as
//! its `cpu_thermal_margin` event; TjMax is bits 23:16 of MSR IA32_TEMPERATURE_TARGET (0x1a2),
//! read from /dev/cpu/N/msr (perf has no event for it) or given with `--tjmax`.
//!
//! Design decision: the decoders take the raw 64-bit register words, so they are tested on
//! register values as a CPU reports them, and the perf path and the MSR path share them.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use plumb_perf::{CountTarget, Counting};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::probe::msr_counters;

/// The msr PMU event cputemp needs.
pub const MARGIN_EVENT: &str = "cpu_thermal_margin";
/// MSR IA32_THERM_STATUS.
pub const IA32_THERM_STATUS: u64 = 0x19c;
/// MSR IA32_TEMPERATURE_TARGET.
pub const IA32_TEMPERATURE_TARGET: u64 = 0x1a2;

/// The margin below TjMax from a raw IA32_THERM_STATUS word: bits 22:16, or None when the
/// reading-valid bit 31 is clear.
pub fn margin_from_therm_status(raw: u64) -> Option<u8> {
    if raw & (1 << 31) == 0 {
        return None;
    }
    u8::try_from((raw >> 16) & 0x7f).ok()
}

/// TjMax in °C from a raw IA32_TEMPERATURE_TARGET word: bits 23:16. None when 0 (not reported).
pub fn tjmax_from_temperature_target(raw: u64) -> Option<u8> {
    u8::try_from((raw >> 16) & 0xff).ok().filter(|&t| t > 0)
}

/// The margin from a perf `cpu_thermal_margin` count: the kernel stores the readout, or -1
/// (all bits set) when the reading was not valid.
pub fn margin_from_perf_count(count: u64) -> Option<u8> {
    u8::try_from(count).ok().filter(|&m| m <= 0x7f)
}

/// The temperature in °C: TjMax − margin.
pub fn temperature_c(tjmax: u8, margin: u8) -> i32 {
    i32::from(tjmax) - i32::from(margin)
}

/// One CPU's reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuTemp {
    /// The CPU.
    pub cpu: u32,
    /// Degrees below TjMax; None when the CPU said its reading was not valid.
    pub margin_c: Option<u8>,
    /// TjMax − margin, °C.
    pub temp_c: Option<i32>,
}

impl CpuTemp {
    /// A reading from a margin and TjMax.
    pub fn new(cpu: u32, tjmax: u8, margin: Option<u8>) -> CpuTemp {
        CpuTemp { cpu, margin_c: margin, temp_c: margin.map(|m| temperature_c(tjmax, m)) }
    }
}

/// The header of [`table_row`]: one column per CPU, as cputemp prints.
pub fn table_header(temps: &[CpuTemp]) -> String {
    let cols: Vec<String> = temps.iter().map(|t| format!("{:>6}", format!("CPU{}", t.cpu))).collect();
    format!("{:<9}{}", "TIME", cols.concat())
}

/// One row: a temperature per CPU, `-` where the reading was not valid.
pub fn table_row(time: &str, temps: &[CpuTemp]) -> String {
    let cols: Vec<String> =
        temps.iter().map(|t| format!("{:>6}", t.temp_c.map_or("-".to_owned(), |c| c.to_string()))).collect();
    format!("{time:<9}{}", cols.concat())
}

/// Reads one MSR through the msr driver's device (`/dev/cpu/N/msr`, offset = register).
pub fn read_msr(device: &Path, register: u64) -> io::Result<u64> {
    let mut buf = [0u8; 8];
    File::open(device)?.read_exact_at(&mut buf, register)?;
    Ok(u64::from_le_bytes(buf))
}

/// The open `cpu_thermal_margin` counters and the TjMax they count down from.
#[derive(Debug)]
pub struct Thermal {
    counting: Counting,
    /// TjMax in °C.
    pub tjmax: u8,
}

impl Thermal {
    /// Opens the msr PMU's `cpu_thermal_margin` on every CPU (described under `root`) and finds
    /// TjMax (`tjmax`, else MSR 0x1a2 of CPU 0 under `dev_cpu`, normally /dev/cpu). Fails naming
    /// the missing PMU, event or device.
    pub fn open(root: &Path, dev_cpu: &Path, tjmax: Option<u8>) -> Result<Thermal, Error> {
        let specs = msr_counters(root, &[MARGIN_EVENT])?;
        let tjmax = match tjmax {
            Some(t) => t,
            None => read_tjmax(&dev_cpu.join("0/msr"))?,
        };
        let counting = Counting::open(&specs, CountTarget::AllCpus)?;
        counting.enable()?;
        Ok(Thermal { counting, tjmax })
    }

    /// The current temperature of each CPU.
    pub fn read(&self) -> Result<Vec<CpuTemp>, Error> {
        let reads = self.counting.read()?;
        Ok(reads
            .first()
            .map(|col| {
                col.iter()
                    .filter_map(|(cpu, r)| Some(CpuTemp::new((*cpu)?, self.tjmax, margin_from_perf_count(r.value))))
                    .collect()
            })
            .unwrap_or_default())
    }
}

fn read_tjmax(path: &Path) -> Result<u8, Error> {
    let unknown = |source| Error::TjMaxUnknown { path: PathBuf::from(path), source };
    let raw = read_msr(path, IA32_TEMPERATURE_TARGET).map_err(unknown)?;
    tjmax_from_temperature_target(raw).ok_or_else(|| unknown(io::Error::other("the register reports TjMax 0")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_register_words() {
        // IA32_THERM_STATUS 0x88370000: valid, readout 0x37 = 55 below TjMax.
        assert_eq!(margin_from_therm_status(0x8837_0000), Some(55));
        assert_eq!(margin_from_therm_status(0x0837_0000), None, "bit 31 clear: not valid");
        // IA32_TEMPERATURE_TARGET 0x00640000: TjMax 100.
        assert_eq!(tjmax_from_temperature_target(0x0064_0000), Some(100));
        assert_eq!(tjmax_from_temperature_target(0), None);
        assert_eq!(temperature_c(100, 55), 45);
        assert_eq!(margin_from_perf_count(u64::MAX), None);
        assert_eq!(margin_from_perf_count(12), Some(12));
    }

    proptest::proptest! {
        #[test]
        fn decoders_agree_with_the_bit_layout(raw: u64) {
            let margin = margin_from_therm_status(raw);
            proptest::prop_assert_eq!(margin.is_some(), raw & (1 << 31) != 0);
            if let Some(m) = margin {
                proptest::prop_assert_eq!(u64::from(m), (raw >> 16) & 0x7f);
                // The perf path carries the same readout.
                proptest::prop_assert_eq!(margin_from_perf_count(u64::from(m)), Some(m));
            }
            if let Some(t) = tjmax_from_temperature_target(raw) {
                proptest::prop_assert_eq!(u64::from(t), (raw >> 16) & 0xff);
            }
        }
    }

    #[test]
    fn a_missing_msr_device_is_named() {
        let err = read_tjmax(Path::new("/nonexistent/dev/cpu/0/msr")).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "TjMax is unknown: reading MSR IA32_TEMPERATURE_TARGET (0x1a2) from /nonexistent/dev/cpu/0/msr failed"
            ),
            "{err}"
        );
        assert!(err.ends_with("(load the msr module, or pass --tjmax)"), "{err}");
    }
}
