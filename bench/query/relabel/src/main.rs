//! relabel: copies a `remote_write_load --save` file, renaming the label names `nf.X` to `nf_X`
//! in every request, for Prometheus 2.42, whose PromQL cannot name a label with a dot.
//!
//! The file is a sequence of frames (u32 LE body length, u32 LE sample count, body); a body is a
//! snappy-compressed (block format) protobuf `WriteRequest`. Design decision: the rename swaps
//! one byte in place (`.` for `_`) in each label-name field (tag 0x0a, a one-byte length, then
//! `nf.`), so no protobuf length changes and the requests need no decoding; only labels whose
//! name starts with `nf.` are touched, values and metric names never (they sit behind tag 0x12).
//!
//! Usage: relabel IN OUT

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};

fn main() -> std::process::ExitCode {
    match run() {
        Ok((frames, renamed)) => {
            eprintln!("relabel: {frames} requests, {renamed} label names renamed");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("relabel: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Renames `nf.X` label names to `nf_X` in a decoded `WriteRequest`; returns how many.
///
/// A label message is `0x0a len name 0x12 len value`; a name field starting `nf.` is recognised
/// by the bytes `0x0a, len, 'n', 'f', '.'` followed, `len` bytes after the length, by the value's
/// tag 0x12, so a value that merely contains those bytes is left alone.
fn rename(buf: &mut [u8]) -> u64 {
    let mut renamed = 0;
    let mut i = 0;
    while i + 5 <= buf.len() {
        if buf[i] == 0x0a && &buf[i + 2..i + 5] == b"nf." {
            let len = usize::from(buf[i + 1]);
            if len < 0x80 && buf.get(i + 2 + len) == Some(&0x12) {
                buf[i + 4] = b'_';
                renamed += 1;
                i += 2 + len;
                continue;
            }
        }
        i += 1;
    }
    renamed
}

fn run() -> Result<(u64, u64), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else { return Err("usage: relabel IN OUT".into()) };
    let mut r = BufReader::with_capacity(1 << 20, File::open(input).map_err(|e| format!("{input}: {e}"))?);
    let mut w = BufWriter::with_capacity(1 << 20, File::create(output).map_err(|e| format!("{output}: {e}"))?);
    let (mut dec, mut enc) = (snap::raw::Decoder::new(), snap::raw::Encoder::new());
    let (mut frames, mut renamed) = (0u64, 0u64);
    let mut head = [0u8; 8];
    let mut body = Vec::new();
    loop {
        match r.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(format!("{input}: {e}")),
        }
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        body.resize(len, 0);
        r.read_exact(&mut body).map_err(|e| format!("{input}: frame {frames}: {e}"))?;
        let mut raw = dec.decompress_vec(&body).map_err(|e| format!("frame {frames}: {e}"))?;
        renamed += rename(&mut raw);
        let packed = enc.compress_vec(&raw).map_err(|e| format!("frame {frames}: {e}"))?;
        w.write_all(&(packed.len() as u32).to_le_bytes())
            .and_then(|()| w.write_all(&head[4..8]))
            .and_then(|()| w.write_all(&packed))
            .map_err(|e| format!("{output}: {e}"))?;
        frames += 1;
    }
    w.flush().map_err(|e| format!("{output}: {e}"))?;
    Ok((frames, renamed))
}
