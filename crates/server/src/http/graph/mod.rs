//! `GET /api/v1/graph`: evaluate an Atlas program over the store and answer a PNG, SVG, JSON,
//! CSV or text; `GET /api/v1/expr`: parse a program without evaluating it.
//!
//! [`params`] reads Atlas's parameters (times in [`time`]), [`source`] lets the evaluator read the
//! store, [`output`] writes each format. Design decision: the whole request after parameter
//! parsing (evaluation and rendering) runs in one blocking-pool task, since both are CPU work,
//! except a text or JSON answer reading at most [`INLINE_SAMPLES`] samples, which the async
//! worker evaluates itself (the handoff would cost more than the work); such a request gives
//! up as soon as a read would pass the budget or the lock is busy, and goes to the pool. The
//! store's lock is held only inside each fetch. Limits ([`MAX_LINES`],
//! [`MAX_DATAPOINTS`]) are Atlas's defaults and are checked before rendering: the points per
//! line before evaluation, the lines and their product after it.

mod output;
mod params;
mod source;
mod time;
#[cfg(test)]
mod timing;

use std::sync::OnceLock;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use plumb_atlas::{EvalContext, Interpreter, Reason};
use serde_json::json;

use self::output::Evaluated;
use self::params::{Format, GraphParams};
use self::source::StoreSource;
use super::{ApiError, AppState};

/// Most samples a text or JSON answer may read to be evaluated on the async worker rather than
/// handed to the blocking pool (about a millisecond's work: decoding, consolidation, writing).
const INLINE_SAMPLES: u64 = 20_000;

/// Most lines one graph may have (Atlas's `max-lines`).
pub const MAX_LINES: usize = 1024;

/// Most datapoints one graph may have, lines times points per line (Atlas's `max-datapoints`).
pub const MAX_DATAPOINTS: usize = 500_000;

fn interpreter() -> &'static Interpreter {
    static INTERPRETER: OnceLock<Interpreter> = OnceLock::new();
    INTERPRETER.get_or_init(Interpreter::default)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `GET /api/v1/graph`.
pub async fn graph(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let params = GraphParams::parse(&pairs, now_ms()).map_err(ApiError::BadRequest)?;
    if matches!(params.format, Format::Json | Format::StdJson | Format::StatsJson | Format::Csv | Format::Txt) {
        let inline = StoreSource::inline(state.store.clone(), INLINE_SAMPLES);
        let answer = render(&params, &inline);
        if !inline.refused() {
            return answer;
        }
    }
    let source = StoreSource::unlimited(state.store.clone());
    tokio::task::spawn_blocking(move || render(&params, &source))
        .await
        .map_err(|e| ApiError::Internal(format!("graph task failed: {e}")))?
}

/// Evaluates and renders one request.
fn render(params: &GraphParams, source: &StoreSource) -> Result<Response, ApiError> {
    let context = EvalContext::new(params.start_ms, params.end_ms, params.step_ms)
        .map_err(|reason| ApiError::BadRequest(reason.to_string()))?;
    let points = context.len();
    if points > MAX_DATAPOINTS {
        return Err(ApiError::BadRequest(format!(
            "{points} datapoints per line, more than the limit max-datapoints={MAX_DATAPOINTS}: use a larger step or a shorter range"
        )));
    }
    let palette = params.palette.as_deref();
    let heatmap_palette = params.heatmap.palette.is_some();
    let styled = interpreter()
        .evaluate_styled_with(&params.q, &context, source, palette, &params.axis_palettes, heatmap_palette)
        .map_err(|e| match e.reason {
            Reason::Fetch { .. } => ApiError::Internal(e.to_string()),
            _ => ApiError::BadRequest(e.to_string()),
        })?;
    // Each line is labelled with its legend (`:legend`, else its label) in every format.
    let (lines, looks): (Vec<_>, Vec<_>) = styled.into_iter().map(output::split_style).unzip();
    if lines.len() > MAX_LINES {
        return Err(ApiError::BadRequest(format!(
            "{} lines, more than the limit max-lines={MAX_LINES}: narrow the query or group by fewer keys",
            lines.len()
        )));
    }
    let total = lines.len().saturating_mul(points);
    if total > MAX_DATAPOINTS {
        return Err(ApiError::BadRequest(format!(
            "{total} datapoints ({} lines of {points}), more than the limit max-datapoints={MAX_DATAPOINTS}",
            lines.len()
        )));
    }
    let data =
        Evaluated { start_ms: context.start_ms(), step_ms: context.step_ms(), end_ms: context.end_ms(), lines, looks };
    let body: Vec<u8> = match params.format {
        Format::Png => plumb_chart::render_png(&output::chart(data, params)).map_err(chart_error)?,
        Format::Svg => plumb_chart::render_svg(&output::chart(data, params)).map_err(chart_error)?.into_bytes(),
        Format::Json => output::json(&data),
        Format::StdJson => output::std_json(&data),
        Format::StatsJson => output::stats_json(&data),
        Format::Csv => output::delimited(&data, ',', &params.zone).into_bytes(),
        Format::Txt => output::delimited(&data, '\t', &params.zone).into_bytes(),
    };
    Ok(([(header::CONTENT_TYPE, params.format.content_type())], body).into_response())
}

/// A refused chart is the request's fault; a failed encoding is the server's.
fn chart_error(e: plumb_chart::ChartError) -> ApiError {
    match e {
        plumb_chart::ChartError::Encode { .. } => ApiError::Internal(e.to_string()),
        _ => ApiError::BadRequest(e.to_string()),
    }
}

/// `GET /api/v1/expr?q=...`: the expressions `q` leaves, normalized, or a 400 naming the
/// failing token, its position and the stack.
pub async fn expr(Query(pairs): Query<Vec<(String, String)>>) -> Response {
    let Some((_, q)) = pairs.iter().rev().find(|(k, _)| k == "q") else {
        return ApiError::BadRequest("missing parameter q".into()).into_response();
    };
    match interpreter().parse_expressions(q) {
        Ok(exprs) => {
            let expressions: Vec<String> = exprs.iter().map(ToString::to_string).collect();
            Json(json!({"normalized": expressions.join(","), "expressions": expressions})).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({
                "type": "error",
                "message": e.to_string(),
                "token": e.token,
                "position": e.position,
                "stack": e.stack,
            })),
        )
            .into_response(),
    }
}
