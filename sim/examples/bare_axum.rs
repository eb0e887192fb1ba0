//! The physical limit for aksim's stack: a bare axum handler that answers every GET with the
//! same bytes (a file), on the same runtime and HTTP stack aksim uses. `bench/run.sh` measures
//! aksim's GET of a cluster as a ratio to this.
//!
//! Usage: `bare_axum ADDR BODY_FILE` (prints `listening on http://ADDR` when ready).

use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(file)) = (args.next(), args.next()) else {
        eprintln!("usage: bare_axum ADDR BODY_FILE");
        std::process::exit(2);
    };
    let body = Bytes::from(std::fs::read(&file).unwrap_or_else(|e| {
        eprintln!("{file}: {e}");
        std::process::exit(2);
    }));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let app = axum::Router::new().fallback(move || {
            let body = body.clone();
            async move {
                (
                    [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
                    body,
                )
                    .into_response()
            }
        });
        let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
        println!(
            "listening on http://{}",
            listener.local_addr().expect("addr")
        );
        use std::io::Write;
        let _ = std::io::stdout().flush();
        axum::serve(listener, app).await.expect("serve");
    });
}
