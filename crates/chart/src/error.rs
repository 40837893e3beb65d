//! The one error type of plumb-chart.
//!
//! Design decision: every variant but `Encode` is a refusal of the request itself (a graph
//! endpoint answers 400 with its message), found by [`crate::Chart::validate`] before any drawing;
//! `Encode` is the only failure that can happen after layout, and it is the server's fault.

/// Why a chart could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChartError {
    /// The plot width or height is zero or larger than the limit.
    #[error("chart {dimension} {value} is out of range 1..={max}")]
    InvalidSize {
        /// `"width"` or `"height"`.
        dimension: &'static str,
        /// The size asked for.
        value: u32,
        /// The largest size accepted.
        max: u32,
    },
    /// The time range is empty, backwards or outside the representable timestamps.
    #[error("time range {start_ms}..{end_ms} ms is empty, backwards or out of range")]
    InvalidTimeRange {
        /// Start asked for, Unix milliseconds.
        start_ms: i64,
        /// End asked for, Unix milliseconds.
        end_ms: i64,
    },
    /// The step between datapoints is zero or negative.
    #[error("step {step_ms} ms is not positive")]
    InvalidStep {
        /// Step asked for, milliseconds.
        step_ms: i64,
    },
    /// The chart has more lines than the limit.
    #[error("chart has {count} lines, more than the limit of {max}")]
    TooManyLines {
        /// Number of lines given.
        count: usize,
        /// The largest number accepted.
        max: usize,
    },
    /// A line has more datapoints than the limit.
    #[error("line {line} has {count} datapoints, more than the limit of {max}")]
    TooManyDatapoints {
        /// Index of the line.
        line: usize,
        /// Number of datapoints given.
        count: usize,
        /// The largest number accepted.
        max: usize,
    },
    /// A line names a Y axis past the last one.
    #[error("line {line} uses axis {axis}, but axes go from 0 to {max}")]
    AxisOutOfRange {
        /// Index of the line.
        line: usize,
        /// Axis asked for.
        axis: usize,
        /// The last axis index.
        max: usize,
    },
    /// The rasterizer could not allocate the image or encode it as PNG.
    /// The heat map's explicit count bounds are not finite or not in increasing order.
    #[error("heatmap bounds {lower}..{upper} are not finite with lower below upper")]
    InvalidHeatmapBounds {
        /// The lower bound asked for, as text (`NaN` when none).
        lower: String,
        /// The upper bound asked for, as text (`NaN` when none).
        upper: String,
    },
    #[error("could not produce the PNG image: {reason}")]
    Encode {
        /// What the rasterizer or encoder reported.
        reason: String,
    },
}
