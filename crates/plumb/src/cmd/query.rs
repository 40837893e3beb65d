//! `plumb query`: run an Atlas stack-language expression on a plumb server and print the lines.

use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;

/// Largest answer read from the server, 256 MiB.
const MAX_ANSWER_BYTES: u64 = 256 << 20;

/// Run an Atlas stack-language query on a plumb server and print its lines.
///
/// EXPR is the graph API's `q`, e.g. `name,cpu.user,:eq,(,nf.node,),:by` or
/// `name,sps,:eq,:sum,5m,:offset`. Times take Atlas's forms: epoch seconds or ms, ISO 8601,
/// `now`, and relative ones such as `e-3h` or `now-1d`. The table has a time column (UTC) and
/// one column per line, headed by its legend.
#[derive(clap::Args)]
pub struct QueryArgs {
    /// The expression (Atlas stack language).
    expr: String,
    /// The plumb server.
    #[arg(long, default_value = "http://127.0.0.1:7101", value_name = "URL")]
    server: String,
    /// Start of the range.
    #[arg(short = 's', long = "start", default_value = "e-3h", value_name = "TIME")]
    start: String,
    /// End of the range.
    #[arg(short = 'e', long = "end", default_value = "now", value_name = "TIME")]
    end: String,
    /// Step between datapoints (e.g. 10s, 1m, 1h); default: the server picks about one per
    /// pixel of a 700 px graph.
    #[arg(long, value_name = "DURATION")]
    step: Option<String>,
    /// Output: an aligned table, the server's standard JSON, or CSV.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    timeout: u64,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Table,
    Json,
    Csv,
}

pub fn run(args: QueryArgs) -> anyhow::Result<ExitCode> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(args.timeout)))
        .http_status_as_error(false)
        .user_agent(concat!("plumb-query/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let url = format!("{}/api/v1/graph", args.server.trim_end_matches('/'));
    let format = match args.format {
        Format::Table | Format::Json => "std.json",
        Format::Csv => "csv",
    };
    let mut request =
        agent.get(&url).query("q", &args.expr).query("s", &args.start).query("e", &args.end).query("format", format);
    if let Some(step) = &args.step {
        request = request.query("step", step);
    }
    let mut answer = request.call().with_context(|| format!("asking {url}"))?;
    let status = answer.status().as_u16();
    let mut body = String::new();
    answer.body_mut().as_reader().take(MAX_ANSWER_BYTES).read_to_string(&mut body).context("reading the answer")?;
    if status != 200 {
        let message = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
            .unwrap_or(body);
        bail!("the server answered {status}: {}", message.trim());
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Json | Format::Csv => writeln!(out, "{}", body.trim_end())?,
        Format::Table => out.write_all(table(&body)?.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The aligned table of a std.json answer.
fn table(body: &str) -> anyhow::Result<String> {
    let v: Value = serde_json::from_str(body).context("the server's answer is not JSON")?;
    let start = v.get("start").and_then(Value::as_i64).context("no start in the answer")?;
    let step = v.get("step").and_then(Value::as_i64).context("no step in the answer")?;
    let metrics = v.get("metrics").and_then(Value::as_array).context("no metrics in the answer")?;
    let mut columns: Vec<Vec<String>> = Vec::new();
    let mut rows = 0;
    for m in metrics {
        let label = m.get("label").and_then(Value::as_str).unwrap_or("").to_string();
        let values = m.pointer("/data/values").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        rows = rows.max(values.len());
        columns.push(std::iter::once(label).chain(values.iter().map(cell)).collect());
    }
    let times: Vec<String> = std::iter::once("time".to_string())
        .chain((0..rows).map(|i| {
            let ms = start.saturating_add(step.saturating_mul(i as i64));
            jiff::Timestamp::from_millisecond(ms)
                .map_or_else(|_| ms.to_string(), |t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        }))
        .collect();
    columns.insert(0, times);
    let widths: Vec<usize> = columns.iter().map(|c| c.iter().map(|s| s.chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in 0..=rows {
        let cells: Vec<String> = columns
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, &w))| {
                let s = c.get(row).map_or("", String::as_str);
                if i == 0 { format!("{s:<w$}") } else { format!("{s:>w$}") }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    if metrics.is_empty() {
        out.push_str("(no lines)\n");
    }
    Ok(out)
}

/// A value as printed: numbers with up to 6 significant decimals, NaN and infinities as words.
fn cell(v: &Value) -> String {
    match v {
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), format_number),
        Value::String(s) => s.clone(),
        Value::Null => "NaN".to_string(),
        other => other.to_string(),
    }
}

fn format_number(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        return format!("{x:.0}");
    }
    let s = format!("{x:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_legends_times_and_values() {
        let body = r#"{"start":1700000000000,"step":60000,"metrics":[
            {"tags":{},"label":"i-1","data":{"type":"array","values":[1.5,"NaN"]}},
            {"tags":{},"label":"a longer legend","data":{"type":"array","values":[2,1234.123456789]}}]}"#;
        let want = "\
time                  i-1  a longer legend
2023-11-14T22:13:20Z  1.5                2
2023-11-14T22:14:20Z  NaN      1234.123457
";
        assert_eq!(table(body).unwrap(), want);
        assert_eq!(table(r#"{"start":0,"step":1000,"metrics":[]}"#).unwrap(), "time\n(no lines)\n");
        assert!(table("not json").is_err());
    }
}
