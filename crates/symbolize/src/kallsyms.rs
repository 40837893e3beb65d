//! Kernel symbols from `/proc/kallsyms`: address, type, name and, for modules, `[module]`.
//!
//! Design decision: plumb parses kallsyms itself into one sorted table of text symbols (types
//! `t T w W`) rather than going through blazesym's kernel source, so the table is built once per
//! session, can be tested on captured text, and carries module names for frames
//! (`[kernel.kallsyms]` or the module's). A symbol ends where the next one starts; an address past
//! the last symbol, or any address when kallsyms shows only zeros (kptr_restrict), is unresolved.
//!
//! The table keeps the file's bytes and, per symbol, only its address and where its name lies in
//! them: kallsyms has over 100,000 lines, and a profile names a few hundred of them, so parsing
//! allocates nothing per line (a `String` per name was a tenth of a whole profile's CPU).

/// The module name of frames in the core kernel image.
pub const KERNEL_MODULE: &str = "[kernel.kallsyms]";

/// One text symbol, as [`Kallsyms::lookup`] finds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelSymbol<'a> {
    /// Start address.
    pub addr: u64,
    /// Symbol name.
    pub name: &'a str,
    /// `[kernel.kallsyms]` or the module's name in brackets.
    pub module: &'a str,
}

/// Where a symbol's name lies in the text, and its module (0: the kernel image; n: `modules[n-1]`).
#[derive(Clone, Copy, Debug)]
struct Entry {
    addr: u64,
    name_start: u32,
    name_len: u16,
    module: u16,
}

/// The kernel's text symbols, sorted by address.
#[derive(Clone, Debug, Default)]
pub struct Kallsyms {
    /// The kallsyms text the names point into.
    text: Box<[u8]>,
    symbols: Vec<Entry>,
    modules: Vec<Box<str>>,
    /// True when the file listed symbols but every address was zero (no permission to see them).
    hidden: bool,
}

/// Address, type, name and the `[module]` if any, of one kallsyms line.
type Fields<'a> = (u64, &'a [u8], &'a [u8], Option<&'a [u8]>);

/// The fields of one kallsyms line: address, type, name, and the `[module]` if any.
fn fields(line: &[u8]) -> Option<Fields<'_>> {
    // The kernel's own layout, "ADDR K NAME" then "\t[MODULE]" for modules, read without
    // tokenising; anything else goes the general way.
    if let Some(space) = line.iter().position(|&b| b == b' ')
        && let [kind, b' ', rest @ ..] = &line[space + 1..]
        && kind.is_ascii_alphabetic()
        && let Some(addr) = parse_hex(&line[..space])
    {
        let (name, module) = match rest.iter().position(|&b| b == b'\t') {
            Some(tab) => (&rest[..tab], Some(&rest[tab + 1..])),
            None => (rest, None),
        };
        if !name.is_empty()
            && !name.contains(&b' ')
            && module.is_none_or(|m| !m.is_empty() && !m.iter().any(|&b| b == b' ' || b == b'\t'))
        {
            return Some((addr, std::slice::from_ref(kind), name, module));
        }
    }
    fields_tokenised(line)
}

/// [`fields`] by splitting on spaces and tabs.
fn fields_tokenised(line: &[u8]) -> Option<Fields<'_>> {
    let mut fields = line.split(|&b| b == b' ' || b == b'\t').filter(|f| !f.is_empty());
    let (addr, kind, name) = (fields.next()?, fields.next()?, fields.next()?);
    Some((parse_hex(addr)?, kind, name, fields.next()))
}

/// A hexadecimal number of 1 to 16 digits.
fn parse_hex(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| Some(n << 4 | u64::from((b as char).to_digit(16)?)))
}

impl Kallsyms {
    /// Parses kallsyms text. Malformed lines (fewer than three fields, a bad address, a name that
    /// is not UTF-8 or longer than 64 KiB) are skipped and counted in the second element.
    pub fn parse(text: impl Into<Vec<u8>>) -> (Kallsyms, usize) {
        let text: Box<[u8]> = text.into().into_boxed_slice();
        let mut modules: Vec<Box<str>> = Vec::new();
        let mut symbols = Vec::new();
        let mut malformed = 0;
        let mut listed = 0usize;
        let mut offset = 0usize;
        for line in text.split(|&b| b == b'\n') {
            let line_start = offset;
            offset += line.len() + 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let Some((addr, kind, name, module)) = fields(line) else {
                malformed += 1;
                continue;
            };
            listed += 1;
            if !matches!(kind, b"t" | b"T" | b"w" | b"W") || addr == 0 {
                continue;
            }
            let (Ok(name_len), Ok(_)) = (u16::try_from(name.len()), std::str::from_utf8(name)) else {
                malformed += 1;
                continue;
            };
            // `name` is a subslice of `line`, which starts at `line_start` in `text`.
            let name_start = line_start + (name.as_ptr() as usize - line.as_ptr() as usize);
            let Ok(name_start) = u32::try_from(name_start) else {
                malformed += 1;
                continue;
            };
            let module = match module.filter(|m| m.starts_with(b"[")).map(String::from_utf8_lossy) {
                None => 0,
                Some(module) => match modules.iter().position(|m| m.as_ref() == module) {
                    Some(known) => known + 1,
                    None => {
                        modules.push(module.into());
                        modules.len()
                    }
                },
            };
            let Ok(module) = u16::try_from(module) else {
                malformed += 1;
                continue;
            };
            symbols.push(Entry { addr, name_start, name_len, module });
        }
        symbols.sort_by_key(|s| s.addr);
        let hidden = listed > 0 && symbols.is_empty();
        (Kallsyms { text, symbols, modules, hidden }, malformed)
    }

    /// The symbol containing `addr` and the offset into it.
    pub fn lookup(&self, addr: u64) -> Option<(KernelSymbol<'_>, u64)> {
        let index = self.symbols.partition_point(|s| s.addr <= addr).checked_sub(1)?;
        let entry = self.symbols.get(index)?;
        // The last symbol has no known end: accept it only within a page, enough for a tail stub.
        if self.symbols.get(index + 1).is_none() && addr - entry.addr >= 4096 {
            return None;
        }
        let start = entry.name_start as usize;
        let name = std::str::from_utf8(self.text.get(start..start + usize::from(entry.name_len))?).ok()?;
        let module = match entry.module {
            0 => KERNEL_MODULE,
            n => self.modules.get(usize::from(n) - 1)?,
        };
        Some((KernelSymbol { addr: entry.addr, name, module }, addr - entry.addr))
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
        assert_eq!((sym.name, off, sym.module), ("helper", 0x50, KERNEL_MODULE));
        // Data symbols are not boundaries: the address still belongs to `helper`.
        assert_eq!(table.lookup(0xffffffff81001010).unwrap().0.name, "helper");
        let (sym, off) = table.lookup(0xffffffffc0a01804).unwrap();
        assert_eq!((sym.name, off, sym.module), ("e1000_remove", 4, "[e1000]"));
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

    #[test]
    fn this_kernels_kallsyms_agrees_with_a_plain_reading() {
        let Ok(text) = std::fs::read_to_string("/proc/kallsyms") else {
            eprintln!("skipped: /proc/kallsyms unreadable");
            return;
        };
        let (table, malformed) = Kallsyms::parse(text.as_str());
        assert_eq!(malformed, 0);
        if table.hidden() {
            eprintln!("skipped: kallsyms addresses hidden (kptr_restrict)");
            return;
        }
        let mut names_at: std::collections::HashMap<&str, Vec<&str>> = std::collections::HashMap::new();
        for line in text.lines() {
            let mut parts = line.split_whitespace();
            if let (Some(addr), Some(_), Some(name)) = (parts.next(), parts.next(), parts.next()) {
                names_at.entry(addr).or_default().push(name);
            }
        }
        let mut checked = 0;
        for line in text.lines().step_by(97) {
            let parts: Vec<&str> = line.split_whitespace().collect();
            let addr = u64::from_str_radix(parts[0], 16).unwrap();
            if !matches!(parts[1], "t" | "T" | "w" | "W") || addr == 0 {
                continue;
            }
            let (found, offset) = table.lookup(addr).unwrap();
            assert_eq!((found.addr, offset), (addr, 0), "{line}");
            // Aliases share an address: any name listed there will do.
            assert!(names_at[parts[0]].contains(&found.name), "{line}: found {}", found.name);
            let module = parts.get(3).copied().unwrap_or(KERNEL_MODULE);
            assert_eq!(found.module, module, "{line}");
            checked += 1;
        }
        assert!(checked > 100, "only {checked} symbols checked");
    }

    proptest! {
        #[test]
        fn lookup_finds_the_greatest_start_not_above(addrs in proptest::collection::btree_set(1u64..1_000_000, 1..50), probe in 0u64..1_001_000) {
            let text: String = addrs.iter().enumerate().map(|(i, a)| format!("{a:x} T f{i}\n")).collect();
            let (table, _) = Kallsyms::parse(text);
            let want = addrs.iter().enumerate().rfind(|(_, a)| **a <= probe);
            let last = *addrs.iter().next_back().unwrap();
            let got = table.lookup(probe).map(|(s, off)| (s.name.to_string(), off));
            match want {
                Some((i, a)) if !(*a == last && probe - a >= 4096) => prop_assert_eq!(got, Some((format!("f{i}"), probe - a))),
                _ => prop_assert_eq!(got, None),
            }
        }

        #[test]
        fn fast_and_tokenised_fields_agree(line in "[0-9a-fA-Fx ]{0,18}[ \t]?[a-zA-Z ]?[ \t]?[a-z_. \t]{0,12}(\t\\[[a-z \t]{0,5}\\]?)?") {
            let fast = fields(line.as_bytes());
            prop_assert_eq!(fast, fields_tokenised(line.as_bytes()));
        }

        #[test]
        fn parser_never_panics(text in ".{0,300}", bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let (table, _) = Kallsyms::parse(text.as_str());
            for i in 0..table.len() {
                prop_assert!(table.lookup(table.symbols[i].addr).is_some());
            }
            let _ = Kallsyms::parse(bytes);
        }
    }
}
