//! The remote write 1.0 messages plumb reads, written by hand from Prometheus's
//! `prompb/remote.proto` and `prompb/types.proto` (field numbers as there).
//!
//! [`WriteRequest`] holds [`TimeSeries`], each with its [`Label`]s, float [`Sample`]s,
//! [`Exemplar`]s and native [`Histogram`]s. Only the fields plumb uses are declared; prost skips
//! the others on the wire (`WriteRequest.metadata` = 3, most of `Histogram`), so their strings are
//! never allocated. Deriving by hand keeps the default build free of `protoc` and a `build.rs`.

/// `prometheus.WriteRequest`: one remote write request.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    /// The series and their samples (field 1).
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

/// `prometheus.TimeSeries`: one series' labels and its data.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// The labels, `__name__` among them (field 1).
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Float samples, oldest first (field 2).
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    /// Exemplars (field 3).
    #[prost(message, repeated, tag = "3")]
    pub exemplars: Vec<Exemplar>,
    /// Native histogram samples (field 4).
    #[prost(message, repeated, tag = "4")]
    pub histograms: Vec<Histogram>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    /// Field 1.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Field 2.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`: a float value at a time.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    /// Field 1.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the Unix epoch (field 2).
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// `prometheus.Exemplar`: a sample with its own labels (e.g. a trace id) attached to a series.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Exemplar {
    /// Field 1.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Field 2.
    #[prost(double, tag = "2")]
    pub value: f64,
    /// Milliseconds since the Unix epoch (field 3).
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

/// `prometheus.Histogram`: a native histogram sample; only its time is read (plumb rejects it).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Histogram {
    /// The `count_int` arm of the `count` oneof (field 1).
    #[prost(uint64, tag = "1")]
    pub count_int: u64,
    /// Field 3.
    #[prost(double, tag = "3")]
    pub sum: f64,
    /// Milliseconds since the Unix epoch (field 15).
    #[prost(int64, tag = "15")]
    pub timestamp: i64,
}
