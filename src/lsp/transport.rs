//! The incoming side of the connection: a thread takes every message off the
//! transport as soon as it arrives and puts it in a queue without bound, so
//! that what a client sends while the server lints waits in the queue, and
//! the main loop can take a whole burst of edits at once and lint only the
//! newest text. (The transport itself hands over one message at a time.)

use std::collections::VecDeque;
use std::sync::mpsc;
use std::time::Duration;

use lsp_server::{Message, Notification};

pub struct Incoming {
    queue: mpsc::Receiver<Message>,
    /// Messages taken off the queue to look at, not handled yet.
    backlog: VecDeque<Message>,
}

/// Why nothing was received.
pub enum Received {
    Message(Message),
    Timeout,
    /// The client closed the connection.
    Closed,
}

impl Incoming {
    /// Starts the thread that moves messages from `receiver` to the queue.
    pub fn start(receiver: crossbeam_channel::Receiver<Message>) -> Incoming {
        let (tx, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("gitops-lint lsp reader".into())
            .spawn(move || {
                while let Ok(msg) = receiver.recv() {
                    if tx.send(msg).is_err() {
                        return;
                    }
                }
            })
            .expect("start the reader thread");
        Incoming {
            queue,
            backlog: VecDeque::new(),
        }
    }

    /// The next message, waiting at most `timeout` (`None`: as long as it takes).
    pub fn recv(&mut self, timeout: Option<Duration>) -> Received {
        if let Some(msg) = self.backlog.pop_front() {
            return Received::Message(msg);
        }
        let got = match timeout {
            Some(t) => self.queue.recv_timeout(t).map_err(|e| match e {
                mpsc::RecvTimeoutError::Timeout => Received::Timeout,
                mpsc::RecvTimeoutError::Disconnected => Received::Closed,
            }),
            None => self.queue.recv().map_err(|_| Received::Closed),
        };
        match got {
            Ok(msg) => Received::Message(msg),
            Err(why) => why,
        }
    }

    /// The next message when one has arrived already.
    pub fn try_recv(&mut self) -> Option<Message> {
        self.backlog
            .pop_front()
            .or_else(|| self.queue.try_recv().ok())
    }

    /// Whether a message that has arrived (and is not handled yet) changes
    /// or closes the document `uri`: its findings of now are stale.
    pub fn supersedes(&mut self, uri: &str) -> bool {
        while let Ok(msg) = self.queue.try_recv() {
            self.backlog.push_back(msg);
        }
        self.backlog.iter().any(|m| match m {
            Message::Notification(Notification { method, params }) => {
                matches!(
                    method.as_str(),
                    "textDocument/didChange" | "textDocument/didClose"
                ) && params["textDocument"]["uri"].as_str() == Some(uri)
            }
            _ => false,
        })
    }
}
