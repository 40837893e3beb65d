//! Placeholders for the vocabulary plumb does not implement yet (stateful):
//! every word Atlas defines there, with its summary, failing "not implemented yet".
//!
//! Design decision: the placeholders are real words in the interpreter's table, so a program
//! using `:sum` fails naming `:sum` and its vocabulary rather than as an unknown word, and the
//! table is checked against `test_data/vocabulary.tsv` so no word goes missing. Replace a
//! vocabulary's table here by its implementation when it lands.

use crate::word::{Body, Kind, Vocabulary, Word};

const fn pending(vocabulary: &'static str, name: &'static str, kind: Kind, summary: &'static str) -> Word {
    Word { name, vocabulary, kind, params: &[], signature: "? -- ?", summary, examples: &[], body: Body::Pending }
}

/// The `stateful` vocabulary: not implemented yet.
pub static STATEFUL: Vocabulary = Vocabulary {
    name: "stateful",
    words: &[
        pending("stateful", "delay", Kind::Word, "Delays the values by the window size."),
        pending("stateful", "rolling-count", Kind::Word, "Number of occurrences within a specified window."),
        pending("stateful", "rolling-min", Kind::Word, "Minimum value within a specified window."),
        pending("stateful", "rolling-max", Kind::Word, "Maximum value within a specified window."),
        pending("stateful", "rolling-mean", Kind::Word, "Mean of the values within a specified window."),
        pending("stateful", "rolling-sum", Kind::Word, "Sum of the values within a specified window."),
        pending("stateful", "des", Kind::Word, "[Double exponential smoothing](DES)."),
        pending(
            "stateful",
            "sdes",
            Kind::Word,
            "Variant of [:des](stateful-des) that is deterministic as long as the step size does not change.",
        ),
        pending("stateful", "trend", Kind::Word, "Computes a moving average over the input window."),
        pending("stateful", "integral", Kind::Word, "Sum the values across the evaluation context."),
        pending("stateful", "cumulative-max", Kind::Word, "Compute the maximum value across the evaluation context."),
        pending("stateful", "derivative", Kind::Word, "Opposite of [:integral](stateful-integral)."),
        pending(
            "stateful",
            "approx-distinct-cumulative",
            Kind::Macro,
            "Estimate the cumulative number of distinct values recorded into a distinct count sketch from the start of the graph window up to each point in time.",
        ),
        pending("stateful", "des-simple", Kind::Macro, "Apply DES with preset parameters (10, 0.1, 0.5, :des)."),
        pending("stateful", "des-fast", Kind::Macro, "Apply DES with preset parameters (10, 0.1, 0.02, :des)."),
        pending("stateful", "des-slower", Kind::Macro, "Apply DES with preset parameters (10, 0.05, 0.03, :des)."),
        pending("stateful", "des-slow", Kind::Macro, "Apply DES with preset parameters (10, 0.03, 0.04, :des)."),
        pending(
            "stateful",
            "sdes-simple",
            Kind::Macro,
            "Apply sliding DES with preset parameters (10, 0.1, 0.5, :sdes).",
        ),
        pending(
            "stateful",
            "sdes-fast",
            Kind::Macro,
            "Apply sliding DES with preset parameters (10, 0.1, 0.02, :sdes).",
        ),
        pending(
            "stateful",
            "sdes-slower",
            Kind::Macro,
            "Apply sliding DES with preset parameters (10, 0.05, 0.03, :sdes).",
        ),
        pending(
            "stateful",
            "sdes-slow",
            Kind::Macro,
            "Apply sliding DES with preset parameters (10, 0.03, 0.04, :sdes).",
        ),
        pending("stateful", "des-epic-signal", Kind::Macro, "Shorthand macro (desEpicSignal)"),
    ],
};
