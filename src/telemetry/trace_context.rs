//! Per-call tracing: a span for every call with its service, method, peer,
//! status and duration. An incoming W3C `traceparent` (with `tracestate`)
//! or B3 context (`b3`, or `X-B3-TraceId`/`X-B3-SpanId`, as Istio and Zipkin
//! send) becomes the span's parent: its trace id and parent span id are the
//! span's `trace_id` and `parent_id`, so logs join the caller's trace.

use http::{HeaderMap, HeaderName};

const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// The caller's trace context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: String,
    pub parent_id: String,
    pub tracestate: Option<String>,
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit()) && s.bytes().any(|b| b != b'0')
}

/// `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`.
fn w3c(headers: &HeaderMap) -> Option<TraceContext> {
    let value = headers.get(TRACEPARENT)?.to_str().ok()?;
    let parts: Vec<&str> = value.trim().split('-').collect();
    match parts.as_slice() {
        [version, trace, parent, flags, ..]
            if version.len() == 2
                && *version != "ff"
                && is_hex(trace, 32)
                && is_hex(parent, 16)
                && flags.len() == 2 =>
        {
            Some(TraceContext {
                trace_id: trace.to_ascii_lowercase(),
                parent_id: parent.to_ascii_lowercase(),
                tracestate: headers
                    .get(TRACESTATE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
            })
        }
        _ => None,
    }
}

/// `b3: <trace>-<span>[-<sampled>[-<parent>]]`, or the multi-header form.
fn b3(headers: &HeaderMap) -> Option<TraceContext> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let (trace, span) = match text("b3") {
        Some(single) => {
            let mut parts = single.split('-');
            (parts.next()?, parts.next()?)
        }
        None => (text("x-b3-traceid")?, text("x-b3-spanid")?),
    };
    ((is_hex(trace, 32) || is_hex(trace, 16)) && is_hex(span, 16)).then(|| TraceContext {
        // 64-bit B3 trace ids are left-padded to W3C's 128 bits.
        trace_id: format!("{:0>32}", trace.to_ascii_lowercase()),
        parent_id: span.to_ascii_lowercase(),
        tracestate: None,
    })
}

/// The caller's trace context, W3C first, then B3.
pub fn trace_context(headers: &HeaderMap) -> Option<TraceContext> {
    w3c(headers).or_else(|| b3(headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn reads_w3c_and_b3() {
        let w3c = trace_context(&headers(&[
            (
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
            ("tracestate", "vendor=value"),
        ]))
        .unwrap();
        assert_eq!(w3c.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(w3c.parent_id, "00f067aa0ba902b7");
        assert_eq!(w3c.tracestate.as_deref(), Some("vendor=value"));

        let single = trace_context(&headers(&[(
            "b3",
            "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1",
        )]))
        .unwrap();
        assert_eq!(single.parent_id, "e457b5a2e4d86bd1");
        let multi = trace_context(&headers(&[
            ("x-b3-traceid", "463ac35c9f6413ad"),
            ("x-b3-spanid", "a2fb4a1d1a96d312"),
        ]))
        .unwrap();
        assert_eq!(multi.trace_id, "0000000000000000463ac35c9f6413ad");

        for bad in [
            "00-0000000000000000000000000000000-00f067aa0ba902b7-01",
            "zz",
            "00-xyz-abc-01",
        ] {
            assert_eq!(
                trace_context(&headers(&[("traceparent", bad)])),
                None,
                "{bad}"
            );
        }
    }
}
