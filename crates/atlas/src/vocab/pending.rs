//! Placeholders for the words of the `stateful` vocabulary plumb does not implement yet
//! (`:des`, `:sdes` and their helpers, `:cumulative-max`, `:approx-distinct-cumulative`), each
//! with its summary, failing "not implemented yet".
//!
//! Design decision: the placeholders are real words in the interpreter's table, so a program
//! using `:des` fails naming `:des` and its vocabulary rather than as an unknown word, and the
//! table is checked against `test_data/vocabulary.tsv` so no word goes missing. The vocabulary
//! itself ([`super::stateful::STATEFUL`]) lists them in Atlas's order; replace a placeholder
//! there by its implementation when it lands.

use crate::word::{Body, Kind, Word};

const fn pending(name: &'static str, kind: Kind, summary: &'static str) -> Word {
    Word {
        name,
        vocabulary: "stateful",
        kind,
        params: &[],
        signature: "? -- ?",
        summary,
        examples: &[],
        body: Body::Pending,
    }
}

pub(super) const DES: Word = pending("des", Kind::Word, "[Double exponential smoothing](DES).");
pub(super) const SDES: Word = pending(
    "sdes",
    Kind::Word,
    "Variant of [:des](stateful-des) that is deterministic as long as the step size does not change.",
);
pub(super) const CUMULATIVE_MAX: Word =
    pending("cumulative-max", Kind::Word, "Compute the maximum value across the evaluation context.");
pub(super) const APPROX_DISTINCT_CUMULATIVE: Word = pending(
    "approx-distinct-cumulative",
    Kind::Macro,
    "Estimate the cumulative number of distinct values recorded into a distinct count sketch from the start of the graph window up to each point in time.",
);
pub(super) const DES_SIMPLE: Word =
    pending("des-simple", Kind::Macro, "Apply DES with preset parameters (10, 0.1, 0.5, :des).");
pub(super) const DES_FAST: Word =
    pending("des-fast", Kind::Macro, "Apply DES with preset parameters (10, 0.1, 0.02, :des).");
pub(super) const DES_SLOWER: Word =
    pending("des-slower", Kind::Macro, "Apply DES with preset parameters (10, 0.05, 0.03, :des).");
pub(super) const DES_SLOW: Word =
    pending("des-slow", Kind::Macro, "Apply DES with preset parameters (10, 0.03, 0.04, :des).");
pub(super) const SDES_SIMPLE: Word =
    pending("sdes-simple", Kind::Macro, "Apply sliding DES with preset parameters (10, 0.1, 0.5, :sdes).");
pub(super) const SDES_FAST: Word =
    pending("sdes-fast", Kind::Macro, "Apply sliding DES with preset parameters (10, 0.1, 0.02, :sdes).");
pub(super) const SDES_SLOWER: Word =
    pending("sdes-slower", Kind::Macro, "Apply sliding DES with preset parameters (10, 0.05, 0.03, :sdes).");
pub(super) const SDES_SLOW: Word =
    pending("sdes-slow", Kind::Macro, "Apply sliding DES with preset parameters (10, 0.03, 0.04, :sdes).");
pub(super) const DES_EPIC_SIGNAL: Word = pending("des-epic-signal", Kind::Macro, "Shorthand macro (desEpicSignal)");
