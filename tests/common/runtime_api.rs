//! A Lambda Runtime API on loopback, as Lambda serves it to a custom runtime
//! (`provided.al2023`): `GET …/invocation/next` hands out the queued events,
//! `POST …/invocation/<id>/response` (or `/error`) takes the function's answer.
//! <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>

use serde_json::Value;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the function answered to one invocation.
#[derive(Debug, Clone)]
pub struct Answer {
    pub request_id: String,
    /// `response` or `error`.
    pub kind: String,
    pub body: Value,
}

pub struct RuntimeApi {
    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    answers: Receiver<Answer>,
}

impl RuntimeApi {
    /// Serve `events`, one per invocation; later `next` calls wait forever,
    /// as Lambda's do between invocations.
    pub fn start(events: Vec<Value>) -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let address = listener.local_addr().expect("address").to_string();
        let queue = Arc::new(Mutex::new(events.into_iter().collect::<VecDeque<_>>()));
        let (sender, answers) = channel();
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { continue };
                let queue = queue.clone();
                let sender = sender.clone();
                std::thread::spawn(move || serve(stream, queue, sender, n));
            }
        });
        RuntimeApi { address, answers }
    }

    /// The next answer, waiting at most `timeout`.
    pub fn answer(&self, timeout: Duration) -> Option<Answer> {
        self.answers.recv_timeout(timeout).ok()
    }
}

fn serve(
    stream: TcpStream,
    queue: Arc<Mutex<VecDeque<Value>>>,
    answers: Sender<Answer>,
    connection: usize,
) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
    let mut writer = stream;
    let mut served = 0;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        if method == "GET" && path.ends_with("/runtime/invocation/next") {
            let next = queue.lock().expect("queue").pop_front();
            let Some(event) = next else {
                // No more invocations: hold the request, as Lambda does.
                std::thread::sleep(Duration::from_secs(3600));
                return;
            };
            served += 1;
            let body = event.to_string();
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_millis()
                + 120_000;
            let _ = write!(
                writer,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: req-{connection}-{served}\r\nLambda-Runtime-Deadline-Ms: {deadline}\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:ecs-doctor\r\nLambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
        } else if method == "POST" && path.contains("/runtime/invocation/") {
            let mut segments = path.rsplit('/');
            let kind = segments.next().unwrap_or_default().to_string();
            let request_id = segments.next().unwrap_or_default().to_string();
            let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let _ = answers.send(Answer {
                request_id,
                kind,
                body,
            });
            let _ = write!(
                writer,
                "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{{\"status\":\"OK\"}}"
            );
        } else {
            let _ = write!(
                writer,
                "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{{}}"
            );
            if path.ends_with("/init/error") {
                let _ = answers.send(Answer {
                    request_id: String::new(),
                    kind: "init-error".into(),
                    body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                });
            }
        }
        let _ = writer.flush();
    }
}
