//! `upstream-oracles <mode>`: reads hex-encoded inputs, one per line, and prints, one line
//! per input, what the real server's own parser makes of it (hex-encoded text, or `ERR`).
//!
//! * `media-type`: `mediatype::MediaType::parse` (objectstore-types' content-type check) -> `1`/`0`.
//! * `expiration`: `ExpirationPolicy::from_str` -> its `Display` (today's echo), hex.
//! * `humantime`: `humantime::parse_duration` -> `humantime::format_duration` (0.2.0's echo), hex.
//! * `rfc3339`: `Rfc3339Timestamp::from_str` (PATCH `extend_expiry.at`) -> whole seconds.
//! * `form-data`: a multipart body with boundary `B` read by `multer::Multipart`: per field
//!   `F[name=value,...]:data` (all hex, headers sorted), then `ERR:<text>` if reading
//!   stopped; items separated by tabs.
//! * `request-target`: `GET <input> HTTP/1.1` read as hyper 1.13 reads it: httparse, then
//!   hyper's 65,534-byte limit, then `http::Uri::from_maybe_shared` -> `400`, `414`, or the
//!   path and query the router sees (hex).
use std::io::BufRead;
use std::str::FromStr;

use objectstore_types::metadata::ExpirationPolicy;
use objectstore_types::time::Rfc3339Timestamp;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(line: &str) -> Vec<u8> {
    (0..line.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&line[i..i + 2], 16).expect("hex input"))
        .collect()
}

async fn form_data(body: Vec<u8>) -> String {
    let chunks = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(bytes::Bytes::from(body))]);
    let mut multipart = multer::Multipart::new(chunks, "B");
    let mut items = Vec::new();
    loop {
        match multipart.next_field().await {
            Ok(Some(mut field)) => {
                let mut pairs: Vec<String> = field
                    .headers()
                    .iter()
                    .map(|(name, value)| format!("{}={}", hex(name.as_str().as_bytes()), hex(value.as_bytes())))
                    .collect();
                pairs.sort();
                let mut data = Vec::new();
                let mut failure = None;
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => data.extend_from_slice(&chunk),
                        Ok(None) => break,
                        Err(error) => {
                            failure = Some(error.to_string());
                            break;
                        }
                    }
                }
                items.push(format!("F[{}]:{}", pairs.join(","), hex(&data)));
                if let Some(error) = failure {
                    items.push(format!("ERR:{error}"));
                    break;
                }
            }
            Ok(None) => break,
            Err(error) => {
                items.push(format!("ERR:{error}"));
                break;
            }
        }
    }
    items.join("\t")
}

fn request_target(target: &[u8]) -> String {
    let mut head = b"GET ".to_vec();
    head.extend_from_slice(target);
    head.extend_from_slice(b" HTTP/1.1\r\n\r\n");
    let mut headers = [httparse::EMPTY_HEADER; 1];
    match httparse::Request::new(&mut headers).parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return "400".to_string(),
    }
    // hyper's `MAX_URI_LEN` (proto/h1/role.rs), checked before the URI is parsed.
    if target.len() > (u16::MAX - 1) as usize {
        return "414".to_string();
    }
    match http::Uri::from_maybe_shared(bytes::Bytes::copy_from_slice(target)) {
        Ok(uri) => hex(uri.path_and_query().map_or("", |p| p.as_str()).as_bytes()),
        Err(_) => "400".to_string(),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mode = std::env::args().nth(1).expect("a mode");
    let mut out = String::new();
    for line in std::io::stdin().lock().lines() {
        let input = unhex(line.expect("a line").trim_end());
        let text = std::str::from_utf8(&input);
        let verdict = match mode.as_str() {
            "media-type" => match text.map(mediatype::MediaType::parse) {
                Ok(Ok(_)) => "1".to_string(),
                _ => "0".to_string(),
            },
            "expiration" => match text.map(ExpirationPolicy::from_str) {
                Ok(Ok(policy)) => hex(policy.to_string().as_bytes()),
                _ => "ERR".to_string(),
            },
            "humantime" => match text.map(humantime::parse_duration) {
                Ok(Ok(duration)) => hex(humantime::format_duration(duration).to_string().as_bytes()),
                _ => "ERR".to_string(),
            },
            "rfc3339" => match text.map(Rfc3339Timestamp::from_str) {
                Ok(Ok(time)) => time.into_inner().as_secs().to_string(),
                _ => "ERR".to_string(),
            },
            "form-data" => form_data(input).await,
            "request-target" => request_target(&input),
            other => panic!("unknown mode {other}"),
        };
        out.push_str(&verdict);
        out.push('\n');
    }
    print!("{out}");
}
