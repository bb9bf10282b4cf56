//! A fast SMTP sink for benchmarks: accepts every message and only counts it.
//!
//! ```text
//! cargo run --release --example smtp_sink -- --addr 127.0.0.1:2525 [--threads 1]
//! ```
//!
//! Prints `LISTENING <port>` once it accepts connections, then `messages=<total>`
//! once a second whenever the total changed, and a last `messages=<total>` when
//! stopped by SIGTERM or Ctrl-C. EHLO offers only 8BITMIME and SIZE (no
//! PIPELINING, STARTTLS or AUTH); MAIL, RCPT, DATA, RSET, NOOP, HELO and QUIT are
//! understood, everything else gets 502. Message bodies are scanned for the
//! `<CRLF>.<CRLF>` end marker (correct across read boundaries) and discarded.
//! Only for loopback benchmarks: it has no limits worth the name.

use std::error::Error;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type BoxError = Box<dyn Error + Send + Sync>;

const HOSTNAME: &str = "smtp-sink.test";
const MAX_COMMAND_LINE: usize = 4096;
const READ_BUFFER: usize = 64 * 1024;

struct Options {
    addr: SocketAddr,
    threads: usize,
}

fn usage() -> String {
    "usage: smtp_sink [--addr 127.0.0.1:2525] [--threads N]".to_owned()
}

fn parse_args() -> Result<Options, BoxError> {
    let mut options = Options { addr: SocketAddr::from(([127, 0, 0, 1], 2525)), threads: 1 };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| args.next()).ok_or_else(|| format!("{name} needs a value"));
        match name.as_str() {
            "--addr" => options.addr = value()?.parse().map_err(|error| format!("--addr: {error}"))?,
            "--threads" => {
                options.threads = value()?.parse().map_err(|error| format!("--threads: {error}"))?;
                if options.threads == 0 {
                    return Err("--threads must be at least 1".into());
                }
            }
            "-h" | "--help" => {
                println!("{}", usage());
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument '{other}'\n{}", usage()).into()),
        }
    }
    Ok(options)
}

fn main() {
    if let Err(error) = run() {
        eprintln!("smtp_sink: {error}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), BoxError> {
    let options = parse_args()?;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.threads)
        .enable_all()
        .build()?
        .block_on(serve(options.addr))
}

async fn serve(addr: SocketAddr) -> Result<(), BoxError> {
    let listener = TcpListener::bind(addr).await.map_err(|error| format!("cannot listen on {addr}: {error}"))?;
    println!("LISTENING {}", listener.local_addr()?.port());
    let total = Arc::new(AtomicU64::new(0));

    let reporter = tokio::spawn({
        let total = Arc::clone(&total);
        async move {
            let mut ticks = tokio::time::interval(Duration::from_secs(1));
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut shown = 0;
            loop {
                ticks.tick().await;
                let now = total.load(Ordering::Relaxed);
                if now != shown {
                    println!("messages={now}");
                    shown = now;
                }
            }
        }
    });

    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let total = Arc::clone(&total);
                    tokio::spawn(async move {
                        // A client that goes away mid-session is normal in a benchmark.
                        let _ = session(stream, &total).await;
                    });
                }
                Err(error) => {
                    // Most likely out of file descriptors: wait for some to close.
                    eprintln!("smtp_sink: accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            _ = terminate.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    reporter.abort();
    println!("messages={}", total.load(Ordering::Relaxed));
    Ok(())
}

/// Where the scan for the end of DATA stands, carried from one read to the next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum DataScan {
    /// Inside a line.
    MidLine,
    /// Inside a line, just after a CR.
    Cr,
    /// At the start of a line (also the very start of the data).
    LineStart,
    /// A line that starts with a dot.
    Dot,
    /// A line that is a dot then CR: LF ends the data.
    DotCr,
}

enum Mode {
    Command,
    Data(DataScan),
}

#[derive(Default)]
struct Transaction {
    mail: bool,
    recipients: usize,
}

/// Advances the end-of-data scan over `bytes`; `Some(i)` when `bytes[i]` is the
/// LF that ends the data.
fn scan_data(state: &mut DataScan, bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < bytes.len() {
        if *state == DataScan::MidLine {
            // Fast path: skip to the next CR.
            match bytes[i..].iter().position(|&b| b == b'\r') {
                Some(offset) => i += offset,
                None => return None,
            }
        }
        let b = bytes[i];
        *state = match (*state, b) {
            (DataScan::DotCr, b'\n') => {
                *state = DataScan::LineStart;
                return Some(i);
            }
            (_, b'\r') if *state != DataScan::Dot => DataScan::Cr,
            (DataScan::Dot, b'\r') => DataScan::DotCr,
            (DataScan::Cr, b'\n') => DataScan::LineStart,
            (DataScan::LineStart, b'.') => DataScan::Dot,
            _ => DataScan::MidLine,
        };
        i += 1;
    }
    None
}

/// What to do after a command line.
enum Next {
    Continue,
    Data,
    Quit,
}

fn command(line: &[u8], transaction: &mut Transaction, replies: &mut Vec<u8>) -> Next {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let verb = line.split(|&b| b == b' ').next().unwrap_or_default().to_ascii_uppercase();
    let reply: &[u8] = match verb.as_slice() {
        b"EHLO" => {
            *transaction = Transaction::default();
            replies.extend_from_slice(format!("250-{HOSTNAME}\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n").as_bytes());
            return Next::Continue;
        }
        b"HELO" => {
            *transaction = Transaction::default();
            replies.extend_from_slice(format!("250 {HOSTNAME}\r\n").as_bytes());
            return Next::Continue;
        }
        b"MAIL" if transaction.mail => b"503 5.5.1 Error: nested MAIL command\r\n",
        b"MAIL" => {
            transaction.mail = true;
            b"250 2.1.0 OK\r\n"
        }
        b"RCPT" if !transaction.mail => b"503 5.5.1 Error: need MAIL command\r\n",
        b"RCPT" => {
            transaction.recipients += 1;
            b"250 2.1.5 OK\r\n"
        }
        b"DATA" if transaction.recipients == 0 => b"503 5.5.1 Error: need RCPT command\r\n",
        b"DATA" => {
            replies.extend_from_slice(b"354 End data with <CR><LF>.<CR><LF>\r\n");
            return Next::Data;
        }
        b"RSET" => {
            *transaction = Transaction::default();
            b"250 2.0.0 OK\r\n"
        }
        b"NOOP" => b"250 2.0.0 OK\r\n",
        b"VRFY" => b"252 2.0.0 Cannot VRFY user\r\n",
        b"QUIT" => {
            replies.extend_from_slice(b"221 2.0.0 Bye\r\n");
            return Next::Quit;
        }
        _ => b"502 5.5.2 Error: command not recognized\r\n",
    };
    replies.extend_from_slice(reply);
    Next::Continue
}

async fn session(mut stream: TcpStream, total: &AtomicU64) -> Result<(), BoxError> {
    stream.set_nodelay(true)?;
    stream.write_all(format!("220 {HOSTNAME} ESMTP smtp_sink\r\n").as_bytes()).await?;
    let mut buffer = vec![0u8; READ_BUFFER];
    let mut line: Vec<u8> = Vec::with_capacity(256);
    let mut replies: Vec<u8> = Vec::with_capacity(256);
    let mut mode = Mode::Command;
    let mut transaction = Transaction::default();
    loop {
        let n = stream.read(&mut buffer).await?;
        if n == 0 {
            return Ok(());
        }
        let chunk = &buffer[..n];
        let mut i = 0;
        let mut quit = false;
        while i < chunk.len() && !quit {
            match &mut mode {
                Mode::Command => match chunk[i..].iter().position(|&b| b == b'\n') {
                    Some(offset) => {
                        line.extend_from_slice(&chunk[i..=i + offset]);
                        i += offset + 1;
                        match command(&line, &mut transaction, &mut replies) {
                            Next::Continue => {}
                            Next::Data => mode = Mode::Data(DataScan::LineStart),
                            Next::Quit => quit = true,
                        }
                        line.clear();
                    }
                    None => {
                        line.extend_from_slice(&chunk[i..]);
                        i = chunk.len();
                        if line.len() > MAX_COMMAND_LINE {
                            replies.extend_from_slice(b"500 5.5.2 Error: line too long\r\n");
                            quit = true;
                        }
                    }
                },
                Mode::Data(scan) => match scan_data(scan, &chunk[i..]) {
                    Some(offset) => {
                        i += offset + 1;
                        total.fetch_add(1, Ordering::Relaxed);
                        transaction = Transaction::default();
                        mode = Mode::Command;
                        replies.extend_from_slice(b"250 2.0.0 OK: queued\r\n");
                    }
                    None => i = chunk.len(),
                },
            }
        }
        if !replies.is_empty() {
            stream.write_all(&replies).await?;
            replies.clear();
        }
        if quit {
            stream.shutdown().await?;
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `data` in pieces of `step` bytes; returns the offset just after the end marker.
    fn end_of_data(data: &[u8], step: usize) -> Option<usize> {
        let mut state = DataScan::LineStart;
        let mut start = 0;
        while start < data.len() {
            let end = (start + step).min(data.len());
            if let Some(offset) = scan_data(&mut state, &data[start..end]) {
                return Some(start + offset + 1);
            }
            start = end;
        }
        None
    }

    #[test]
    fn finds_the_end_marker_however_the_data_is_split() {
        let cases: &[(&[u8], Option<usize>)] = &[
            (b".\r\n", Some(3)),
            (b"a\r\n.\r\nQUIT\r\n", Some(6)),
            (b"a\r\n..\r\n.b\r\n\r\n.\r\n", Some(16)),
            (b"a\r\r\n.\r\n", Some(7)),
            (b"a.\r\n.x\r\n", None),
            (b"a\r\n.\r\r\n", None),
            (b"\xd8\xae\xd8\xa8\xd8\xb1\r\n.\r\n", Some(11)),
        ];
        for (data, expected) in cases {
            for step in 1..=data.len() {
                assert_eq!(
                    end_of_data(data, step),
                    *expected,
                    "{:?} in steps of {step}",
                    String::from_utf8_lossy(data)
                );
            }
        }
    }
}
