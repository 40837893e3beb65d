//! A `WriteRequest` read in place: labels are `&str` slices of the decompressed body.
//!
//! [`parse`] walks the protobuf wire format once, after [`scan::count`](super::scan::count) has
//! bounded the request's parts, and fills three flat vectors (series, labels, samples) sized
//! from those counts: a request of thousands of series costs a handful of allocations instead
//! of two `String`s per label and a `Vec` per series, which is what building prost's messages
//! cost and most of what ingest cost.
//!
//! Design decision: it reads exactly what prost's derived decoder for [`proto`](super::proto)
//! accepts, so the two are interchangeable: proto3 defaults for absent fields, the last value
//! of a repeated scalar field wins, unknown fields are skipped, a known field with another wire
//! type and text that is not UTF-8 are errors. A property test holds it to prost's answers.

use std::ops::Range;

use super::scan::{Counts, LEN, Reader};

/// One `TimeSeries`: where its labels and samples lie, and how many histograms and exemplars
/// it carries (only counted: plumb rejects them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireSeries {
    /// Its labels in [`Wire::labels`].
    pub labels: Range<usize>,
    /// Its samples in [`Wire::samples`].
    pub samples: Range<usize>,
    /// Native histogram samples.
    pub histograms: usize,
    /// Exemplars.
    pub exemplars: usize,
}

/// A parsed request: every series' labels (name, value) and samples (value, timestamp), flat.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Wire<'a> {
    /// The series, in request order.
    pub series: Vec<WireSeries>,
    /// All labels, series after series.
    pub labels: Vec<(&'a str, &'a str)>,
    /// All float samples (value, timestamp in ms), series after series.
    pub samples: Vec<(f64, i64)>,
}

/// Parses an uncompressed `WriteRequest`; the error is one sentence.
pub fn parse<'a>(buf: &'a [u8], counts: &Counts) -> Result<Wire<'a>, String> {
    let mut wire = Wire {
        series: Vec::with_capacity(counts.series),
        labels: Vec::with_capacity(counts.labels),
        samples: Vec::with_capacity(counts.samples),
    };
    let mut r = Reader { buf };
    while let Some((field, wire_type)) = r.key()? {
        match field {
            1 => {
                expect(wire_type, LEN, "WriteRequest.timeseries")?;
                let body = r.bytes()?;
                parse_series(body, &mut wire)?;
            }
            _ => r.skip(wire_type)?,
        }
    }
    Ok(wire)
}

fn parse_series<'a>(buf: &'a [u8], wire: &mut Wire<'a>) -> Result<(), String> {
    let (labels_start, samples_start) = (wire.labels.len(), wire.samples.len());
    let (mut histograms, mut exemplars) = (0, 0);
    let mut r = Reader { buf };
    while let Some((field, wire_type)) = r.key()? {
        match field {
            1 => {
                expect(wire_type, LEN, "TimeSeries.labels")?;
                wire.labels.push(parse_label(r.bytes()?)?);
            }
            2 => {
                expect(wire_type, LEN, "TimeSeries.samples")?;
                wire.samples.push(parse_sample(r.bytes()?)?);
            }
            3 => {
                expect(wire_type, LEN, "TimeSeries.exemplars")?;
                check_exemplar(r.bytes()?)?;
                exemplars += 1;
            }
            4 => {
                expect(wire_type, LEN, "TimeSeries.histograms")?;
                check_histogram(r.bytes()?)?;
                histograms += 1;
            }
            _ => r.skip(wire_type)?,
        }
    }
    wire.series.push(WireSeries {
        labels: labels_start..wire.labels.len(),
        samples: samples_start..wire.samples.len(),
        histograms,
        exemplars,
    });
    Ok(())
}

fn parse_label(buf: &[u8]) -> Result<(&str, &str), String> {
    let (mut name, mut value) = ("", "");
    let mut r = Reader { buf };
    while let Some((field, wire_type)) = r.key()? {
        match field {
            1 => {
                expect(wire_type, LEN, "Label.name")?;
                name = utf8(r.bytes()?, "Label.name")?;
            }
            2 => {
                expect(wire_type, LEN, "Label.value")?;
                value = utf8(r.bytes()?, "Label.value")?;
            }
            _ => r.skip(wire_type)?,
        }
    }
    Ok((name, value))
}

fn parse_sample(buf: &[u8]) -> Result<(f64, i64), String> {
    let (mut value, mut timestamp) = (0.0, 0);
    let mut r = Reader { buf };
    while let Some((field, wire_type)) = r.key()? {
        match field {
            1 => {
                expect(wire_type, 1, "Sample.value")?;
                value = f64::from_bits(r.fixed64()?);
            }
            2 => {
                expect(wire_type, 0, "Sample.timestamp")?;
                // int64 on the wire: the varint's 64 bits as two's complement.
                timestamp = r.varint()? as i64;
            }
            _ => r.skip(wire_type)?,
        }
    }
    Ok((value, timestamp))
}

/// Walks an exemplar, which plumb rejects unread, so a malformed one is an error as for prost.
fn check_exemplar(buf: &[u8]) -> Result<(), String> {
    let mut r = Reader { buf };
    while let Some((field, wire_type)) = r.key()? {
        match field {
            1 => {
                expect(wire_type, LEN, "Exemplar.labels")?;
                parse_label(r.bytes()?)?;
            }
            2 => {
                expect(wire_type, 1, "Exemplar.value")?;
                r.skip(wire_type)?;
            }
            3 => {
                expect(wire_type, 0, "Exemplar.timestamp")?;
                r.skip(wire_type)?;
            }
            _ => r.skip(wire_type)?,
        }
    }
    Ok(())
}

/// Walks a native histogram as [`check_exemplar`] does an exemplar: the fields
/// [`proto::Histogram`](super::proto::Histogram) declares must have their wire types.
fn check_histogram(buf: &[u8]) -> Result<(), String> {
    let mut r = Reader { buf };
    while let Some((field, wire_type)) = r.key()? {
        let want = match field {
            1 => Some((0, "Histogram.count_int")),
            3 => Some((1, "Histogram.sum")),
            15 => Some((0, "Histogram.timestamp")),
            _ => None,
        };
        if let Some((want, name)) = want {
            expect(wire_type, want, name)?;
        }
        r.skip(wire_type)?;
    }
    Ok(())
}

fn expect(got: u8, want: u8, field: &str) -> Result<(), String> {
    if got == want { Ok(()) } else { Err(format!("{field} has wire type {got}, expected {want}")) }
}

fn utf8<'a>(bytes: &'a [u8], field: &str) -> Result<&'a str, String> {
    std::str::from_utf8(bytes).map_err(|_| format!("{field} is not valid UTF-8"))
}
