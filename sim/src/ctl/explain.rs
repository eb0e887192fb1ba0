//! What went wrong with a `ctl` call, in words that name the fix: nothing listening on the
//! port, a certificate `ctl` does not trust (and where it looked for the CA), `http://`
//! against aksim's HTTPS port or `https://` against a plain-HTTP one, no answer in time, or
//! the server's refusal with its status, ARM code and message.

use std::path::PathBuf;

/// A request that got no HTTP answer.
pub fn transport(error: &reqwest::Error, base: &str, looked: &[PathBuf]) -> String {
    let chain = causes(error);
    let host = base.split_once("://").map_or(base, |(_, rest)| rest);
    if chain
        .iter()
        .any(|c| io_kind(*c) == Some(std::io::ErrorKind::ConnectionRefused))
    {
        return format!(
            "cannot connect to {base}: connection refused — is aksim running, and on this \
             port? Start it with `aksim`, or pass --url (AKSIM_URL) with the address of its \
             `aksim listening on` line"
        );
    }
    if let Some(tls) = chain.iter().find_map(|c| rustls_error(*c)) {
        return match tls {
            rustls::Error::InvalidCertificate(why) => {
                let places: Vec<String> = looked.iter().map(|p| p.display().to_string()).collect();
                format!(
                    "{base}: the server's certificate is not trusted ({why:?}). aksim's CA is \
                     `ca.pem` in its TLS directory: pass --ca PATH (AKSIM_CA) or --tls-dir DIR \
                     (AKSIM_TLS_DIR) as aksim was started with; looked for: {}",
                    places.join(", ")
                )
            }
            rustls::Error::InvalidMessage(_) => format!(
                "{base} does not speak TLS: the server speaks plain HTTP (aksim started with \
                 --http?): use --url http://{host}"
            ),
            other => format!("{base}: TLS failed: {other}"),
        };
    }
    let text = chain
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ");
    if text.contains("invalid HTTP version") || text.contains("HTTP/0.9") {
        return format!(
            "{base} does not answer plain HTTP: the server speaks HTTPS: use --url https://{host}"
        );
    }
    if error.is_timeout() {
        return format!("{base}: no answer within 60 s: {text}");
    }
    format!("{base}: {text}")
}

/// A non-2xx answer: the status, and the ARM error's code and message when there is one.
pub fn refusal(status: reqwest::StatusCode, body: &str, base: &str) -> String {
    if let Some(rest) = body.strip_prefix("this port speaks HTTPS") {
        let host = base.split_once("://").map_or(base, |(_, rest)| rest);
        return format!(
            "{base}: the server speaks HTTPS (it answered: this port speaks HTTPS{}): use --url \
             https://{host}",
            rest.trim_end()
        );
    }
    let json: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let error = json.as_ref().map(|j| &j["error"]);
    match (
        error.and_then(|e| e["code"].as_str()),
        error.and_then(|e| e["message"].as_str()),
    ) {
        (Some(code), Some(message)) => format!("HTTP {status}: {code}: {message}"),
        _ if body.trim().is_empty() => format!("HTTP {status}"),
        _ => format!("HTTP {status}: {}", body.trim()),
    }
}

/// The error and its sources, outermost first — including the errors an `io::Error` wraps
/// (hyper's connectors nest them: `Other(InvalidData(rustls::Error))`), which `source()`
/// skips.
fn causes(error: &reqwest::Error) -> Vec<&(dyn std::error::Error + 'static)> {
    let mut out: Vec<&(dyn std::error::Error + 'static)> = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = next {
        out.push(cause);
        next = match cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => cause.source(),
        };
    }
    out
}

fn io_kind(error: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    error.downcast_ref::<std::io::Error>().map(|e| e.kind())
}

fn rustls_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    error.downcast_ref::<rustls::Error>()
}
