//! A timing harness for the selective graph query (issue 4), test-only: a store shaped like
//! bench/query's data set (50 names, one series per name and node, 10 s samples over 70 min),
//! then each stage of one `GET /api/v1/graph` timed apart and the whole request through the
//! router. Design decision: it asserts the answers only, printing the times (`--nocapture`), so
//! it can run in every `cargo test` without a threshold that a loaded machine would break;
//! `PLUMB_TIMING_SERIES` sets the series and `PLUMB_TIMING_RUNS` the timed runs (defaults 1,000 and 100, quick in a debug build).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use plumb_tsdb::SeriesTags;
use plumb_tsdb::db::{Db, DbOptions};
use tower::ServiceExt;

use super::params::GraphParams;
use super::source::StoreSource;
use super::{interpreter, render};
use crate::http::{AppState, app};
use crate::ingest::{CardinalityLimiter, Limits};

const STEP_MS: i64 = 10_000;
const NAMES: usize = 50;

fn store(series: usize, end_ms: i64) -> Db {
    let dir = tempfile::tempdir().unwrap();
    let (mut db, _) = Db::open(&dir.keep(), DbOptions::default()).unwrap();
    let nodes = (series / NAMES).max(1);
    let tags: Vec<SeriesTags> = (0..nodes)
        .flat_map(|n| (0..NAMES).map(move |m| (n, m)))
        .map(|(n, m)| {
            let name = if m == 0 { "node_load1".to_string() } else { format!("node_metric_{m}") };
            SeriesTags::new(vec![
                ("name".into(), name),
                ("nf.node".into(), format!("i-{n:016x}")),
                ("nf.app".into(), format!("app-{}", n % 97)),
                ("nf.region".into(), format!("us-east-{}", n % 3)),
            ])
            .unwrap()
        })
        .collect();
    let points = 70 * 6;
    for p in 0..points {
        let t = end_ms - (points - 1 - p) * STEP_MS;
        let batch: Vec<_> = tags.iter().enumerate().map(|(i, tg)| (tg.clone(), t, (i as f64) + p as f64)).collect();
        db.append(batch).unwrap();
    }
    db
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn time(runs: usize, mut f: impl FnMut()) -> Duration {
    for _ in 0..runs / 10 {
        f();
    }
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

#[test]
fn selective_query_stages() {
    let series = std::env::var("PLUMB_TIMING_SERIES").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000);
    let end_ms = 1_800_000_000_000 - 1_800_000_000_000 % STEP_MS;
    let built = Instant::now();
    let db = Arc::new(Mutex::new(store(series, end_ms)));
    eprintln!("store of {series} series built in {:?}", built.elapsed());
    let q = "name,node_load1,:eq,nf.node,i-0000000000000007,:eq,:and,:sum";
    let (s, e) = (end_ms - 3_600_000, end_ms);
    let pairs: Vec<(String, String)> = vec![
        ("q".into(), q.into()),
        ("s".into(), s.to_string()),
        ("e".into(), e.to_string()),
        ("step".into(), "10s".into()),
        ("format".into(), "std.json".into()),
    ];
    let uri = format!("/api/v1/graph?q={q}&s={s}&e={e}&step=10s&format=std.json");
    let runs = std::env::var("PLUMB_TIMING_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(100);
    let params = GraphParams::parse(&pairs, end_ms).unwrap();
    let source = StoreSource::unlimited(db.clone());
    let query = interpreter().parse_query("name,node_load1,:eq,nf.node,i-0000000000000007,:eq,:and").unwrap();
    let matcher = crate::select::to_matcher(&query);

    let parse = time(runs, || drop(GraphParams::parse(&pairs, end_ms).unwrap()));
    let program = time(runs, || drop(interpreter().parse_expressions(q).unwrap()));
    let read = time(runs, || {
        let got = db.lock().unwrap().read(&matcher, s, e).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].timestamps.len(), 361);
    });
    let fetch = time(runs, || {
        use plumb_atlas::Source;
        assert_eq!(source.fetch(&query, s - STEP_MS, e).unwrap().len(), 1);
    });
    let context = plumb_atlas::EvalContext::new(params.start_ms, params.end_ms, params.step_ms).unwrap();
    let eval = time(runs, || {
        assert_eq!(interpreter().evaluate(q, &context, &source).unwrap().len(), 1);
    });
    let styled = time(runs, || {
        let got = interpreter().evaluate_styled_with(q, &context, &source, None, &[], false).unwrap();
        assert_eq!(got.len(), 1);
    });
    let lines = interpreter().evaluate_styled_with(q, &context, &source, None, &[], false).unwrap();
    let (lines, looks): (Vec<_>, Vec<_>) = lines.into_iter().map(super::output::split_style).unzip();
    let data = super::output::Evaluated {
        start_ms: context.start_ms(),
        step_ms: context.step_ms(),
        end_ms: context.end_ms(),
        lines,
        looks,
    };
    let json = time(runs, || assert!(super::output::std_json(&data).len() > 361));
    let whole = time(runs, || drop(render(&params, &source).unwrap()));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let state = AppState {
        store: db.clone(),
        limits: Arc::new(Limits::default()),
        stats: Arc::default(),
        cardinality: Arc::new(Mutex::new(CardinalityLimiter::new(Default::default()))),
    };
    let router = app(state);
    let http = time(runs, || {
        let response =
            runtime.block_on(router.clone().oneshot(Request::get(&uri).body(Body::empty()).unwrap())).unwrap();
        assert_eq!(response.status(), 200);
        let body = runtime.block_on(axum::body::to_bytes(response.into_body(), usize::MAX)).unwrap();
        assert!(body.len() > 361 * 2, "{}", String::from_utf8_lossy(&body));
    });
    eprintln!(
        "medians of {runs}: params {parse:?}, parse program {program:?}, Db::read {read:?}, fetch {fetch:?}, \
         evaluate {eval:?}, evaluate_styled {styled:?}, std_json {json:?}, render (eval + json) {whole:?}, router end to end {http:?}"
    );
}
