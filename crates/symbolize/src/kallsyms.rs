//! Kernel symbols from `/proc/kallsyms`: address, type, name and, for modules, `[module]`.
//!
//! Design decision: plumb parses kallsyms itself into one sorted table of text symbols (types
//! `t T w W`) rather than going through blazesym's kernel source, so the table is built once per
//! session, can be tested on captured text, and carries module names for frames
//! (`[kernel.kallsyms]` or the module's). A symbol ends where the next one starts; an address past
//! the last symbol, or any address when kallsyms shows only zeros (kptr_restrict), is unresolved.

use std::sync::Arc;

/// The module name of frames in the core kernel image.
pub const KERNEL_MODULE: &str = "[kernel.kallsyms]";

/// One text symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelSymbol {
    /// Start address.
    pub addr: u64,
    /// Symbol name.
    pub name: Arc<str>,
    /// `[kernel.kallsyms]` or the module's name in brackets.
    pub module: Arc<str>,
}

/// The kernel's text symbols, sorted by address.
#[derive(Clone, Debug, Default)]
pub struct Kallsyms {
    symbols: Vec<KernelSymbol>,
    /// True when the file listed symbols but every address was zero (no permission to see them).
    hidden: bool,
}

impl Kallsyms {
    /// Parses kallsyms text. Malformed lines are skipped and counted in the second element.
    pub fn parse(text: &str) -> (Kallsyms, usize) {
        let kernel: Arc<str> = Arc::from(KERNEL_MODULE);
        let mut modules: Vec<Arc<str>> = Vec::new();
        let mut symbols = Vec::new();
        let mut malformed = 0;
        let mut listed = 0usize;
        for line in text.lines() {
            if line.trim().is_empty() {
                continue;
            }
            let mut fields = line.split_whitespace();
            let (Some(addr), Some(kind), Some(name)) = (fields.next(), fields.next(), fields.next()) else {
                malformed += 1;
                continue;
            };
            let Ok(addr) = u64::from_str_radix(addr, 16) else {
                malformed += 1;
                continue;
            };
            listed += 1;
            if !matches!(kind, "t" | "T" | "w" | "W") || addr == 0 {
                continue;
            }
            let module = match fields.next() {
                Some(module) if module.starts_with('[') => match modules.iter().find(|m| m.as_ref() == module) {
                    Some(known) => known.clone(),
                    None => {
                        let new: Arc<str> = Arc::from(module);
                        modules.push(new.clone());
                        new
                    }
                },
                _ => kernel.clone(),
            };
            symbols.push(KernelSymbol { addr, name: Arc::from(name), module });
        }
        symbols.sort_by_key(|s| s.addr);
        let hidden = listed > 0 && symbols.is_empty();
        (Kallsyms { symbols, hidden }, malformed)
    }

    /// The symbol containing `addr` and the offset into it.
    pub fn lookup(&self, addr: u64) -> Option<(&KernelSymbol, u64)> {
        let index = self.symbols.partition_point(|s| s.addr <= addr).checked_sub(1)?;
        let symbol = self.symbols.get(index)?;
        // The last symbol has no known end: accept it only within a page, enough for a tail stub.
        if self.symbols.get(index + 1).is_none() && addr - symbol.addr >= 4096 {
            return None;
        }
        Some((symbol, addr - symbol.addr))
    }

    /// How many text symbols the table holds.
    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    /// True when the table holds no symbols.
    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }

    /// True when kallsyms listed symbols but showed no addresses (kptr_restrict, no privilege).
    pub fn hidden(&self) -> bool {
        self.hidden
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SAMPLE: &str = "\
ffffffff81000000 T _stext
ffffffff81000100 t helper
ffffffff81001000 D some_data
ffffffff81002000 T schedule
ffffffffc0a01000 t e1000_probe\t[e1000]
ffffffffc0a01800 t e1000_remove\t[e1000]
not a line
";

    #[test]
    fn resolves_text_symbols_and_modules() {
        let (table, malformed) = Kallsyms::parse(SAMPLE);
        assert_eq!(malformed, 1);
        assert_eq!(table.len(), 5);
        let (sym, off) = table.lookup(0xffffffff81000150).unwrap();
        assert_eq!((sym.name.as_ref(), off, sym.module.as_ref()), ("helper", 0x50, KERNEL_MODULE));
        // Data symbols are not boundaries: the address still belongs to `helper`.
        assert_eq!(table.lookup(0xffffffff81001010).unwrap().0.name.as_ref(), "helper");
        let (sym, off) = table.lookup(0xffffffffc0a01804).unwrap();
        assert_eq!((sym.name.as_ref(), off, sym.module.as_ref()), ("e1000_remove", 4, "[e1000]"));
        assert!(table.lookup(0xffffffffc0a03000).is_none());
        assert!(table.lookup(0xffffffff80ffffff).is_none());
        assert!(!table.hidden());
    }

    #[test]
    fn all_zero_addresses_mean_hidden() {
        let (table, _) = Kallsyms::parse("0000000000000000 T _stext\n0000000000000000 t helper\n");
        assert!(table.hidden());
        assert!(table.lookup(0).is_none());
    }

    proptest! {
        #[test]
        fn lookup_finds_the_greatest_start_not_above(addrs in proptest::collection::btree_set(1u64..1_000_000, 1..50), probe in 0u64..1_001_000) {
            let text: String = addrs.iter().enumerate().map(|(i, a)| format!("{a:x} T f{i}\n")).collect();
            let (table, _) = Kallsyms::parse(&text);
            let want = addrs.iter().enumerate().rfind(|(_, a)| **a <= probe);
            let last = *addrs.iter().next_back().unwrap();
            let got = table.lookup(probe).map(|(s, off)| (s.name.to_string(), off));
            match want {
                Some((i, a)) if !(*a == last && probe - a >= 4096) => prop_assert_eq!(got, Some((format!("f{i}"), probe - a))),
                _ => prop_assert_eq!(got, None),
            }
        }

        #[test]
        fn parser_never_panics(text in ".{0,300}") {
            let _ = Kallsyms::parse(&text);
        }
    }
}
