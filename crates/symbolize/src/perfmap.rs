//! JIT symbols from perf map files: `/tmp/perf-PID.map`, one `START SIZE name` line (hex) per
//! compiled function, as written by Java's perf-map-agent, Node's `--perf-basic-prof` and others.
//!
//! Design decision: a map is re-read only when a lookup misses and the file has grown since it was
//! last read, because JIT runtimes append while they run; lines are kept sorted by start and a
//! later line for the same start replaces an earlier one (code recompiled in place).

use std::sync::Arc;

/// One JIT-compiled function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JitSymbol {
    /// First address.
    pub start: u64,
    /// Size in bytes.
    pub size: u64,
    /// Name as the runtime wrote it.
    pub name: Arc<str>,
}

/// The parsed symbols of one perf map file.
#[derive(Clone, Debug, Default)]
pub struct PerfMap {
    symbols: Vec<JitSymbol>,
    /// Bytes of the file that were parsed, to notice growth.
    pub parsed_len: u64,
}

impl PerfMap {
    /// Parses perf map text. Malformed lines are skipped and counted in the second element.
    pub fn parse(text: &str) -> (PerfMap, usize) {
        let mut symbols: Vec<JitSymbol> = Vec::new();
        let mut malformed = 0;
        for line in text.lines() {
            if line.trim().is_empty() {
                continue;
            }
            match parse_line(line) {
                Some(symbol) => symbols.push(symbol),
                None => malformed += 1,
            }
        }
        // Stable sort keeps file order among equal starts; keep the last of each start.
        symbols.sort_by_key(|s| s.start);
        let mut deduplicated: Vec<JitSymbol> = Vec::with_capacity(symbols.len());
        for symbol in symbols {
            match deduplicated.last_mut() {
                Some(last) if last.start == symbol.start => *last = symbol,
                _ => deduplicated.push(symbol),
            }
        }
        (PerfMap { symbols: deduplicated, parsed_len: text.len() as u64 }, malformed)
    }

    /// The function containing `addr`.
    pub fn lookup(&self, addr: u64) -> Option<&JitSymbol> {
        let index = self.symbols.partition_point(|s| s.start <= addr).checked_sub(1)?;
        let symbol = self.symbols.get(index)?;
        (addr - symbol.start < symbol.size.max(1)).then_some(symbol)
    }

    /// How many functions the map holds.
    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    /// True when the map holds no functions.
    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }
}

fn parse_hex(text: &str) -> Option<u64> {
    let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")).unwrap_or(text);
    u64::from_str_radix(digits, 16).ok()
}

fn parse_line(line: &str) -> Option<JitSymbol> {
    let line = line.trim_start();
    let (start, rest) = line.split_once(char::is_whitespace)?;
    let rest = rest.trim_start();
    let (size, name) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    Some(JitSymbol { start: parse_hex(start)?, size: parse_hex(size)?, name: Arc::from(name) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_looks_up_functions() {
        let text = "7f00a0001000 40 LazyCompile:~main file.js:1\n0x7f00a0002000 0x100 Interpreter\nbad\n7f00a0001000 20 recompiled\n";
        let (map, malformed) = PerfMap::parse(text);
        assert_eq!(malformed, 1);
        assert_eq!(map.len(), 2);
        assert_eq!(map.lookup(0x7f00a0001010).map(|s| s.name.as_ref()), Some("recompiled"));
        assert_eq!(map.lookup(0x7f00a0001020), None);
        assert_eq!(map.lookup(0x7f00a00020ff).map(|s| s.name.as_ref()), Some("Interpreter"));
        assert_eq!(map.lookup(0x7f00a0002100), None);
        assert_eq!(map.lookup(0x10), None);
    }

    proptest! {
        #[test]
        fn generated_maps_round_trip(entries in proptest::collection::btree_map(0u64..1_000_000, 1u64..500, 1..40)) {
            // Non-overlapping by construction: each entry is placed at start*1000.
            let text: String = entries.iter().map(|(s, size)| format!("{:x} {size:x} fn_{s} with spaces\n", s * 1000)).collect();
            let (map, malformed) = PerfMap::parse(&text);
            prop_assert_eq!(malformed, 0);
            for (s, size) in &entries {
                let start = s * 1000;
                let want = format!("fn_{s} with spaces");
                prop_assert_eq!(map.lookup(start).map(|j| j.name.to_string()), Some(want.clone()));
                prop_assert_eq!(map.lookup(start + size - 1).map(|j| j.name.to_string()), Some(want));
                prop_assert!(map.lookup(start + size).is_none_or(|j| j.start != start));
            }
        }

        #[test]
        fn parser_never_panics(text in ".{0,300}") {
            let _ = PerfMap::parse(&text);
        }
    }
}
