//! Drains a child's stdout or stderr on its own thread, keeping the first `cap` bytes and counting the rest.
use serde::Serialize;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Captured {
    pub text: String,
    pub total_bytes: u64,
    pub truncated: bool,
}

pub struct Drain {
    rx: mpsc::Receiver<Vec<u8>>,
    pub total: Arc<AtomicU64>,
}

impl Drain {
    pub fn start(mut reader: impl Read + Send + 'static, cap: usize) -> Drain {
        let total = Arc::new(AtomicU64::new(0));
        let counter = total.clone();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        counter.fetch_add(n as u64, Ordering::Relaxed);
                        let room = cap.saturating_sub(kept.len());
                        kept.extend_from_slice(&buf[..n.min(room)]);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                }
            }
            let _ = tx.send(kept);
        });
        Drain { rx, total }
    }

    /// What was kept; waits a little for the pipe to close (everything writing to it was killed).
    pub fn finish(self, wait: Duration) -> Captured {
        let kept = self.rx.recv_timeout(wait).unwrap_or_default();
        let total = self.total.load(Ordering::Relaxed);
        Captured {
            truncated: total > kept.len() as u64,
            text: String::from_utf8_lossy(&kept).into_owned(),
            total_bytes: total,
        }
    }
}
