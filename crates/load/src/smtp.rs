//! A mail sink for the harnesses: an SMTP server on 127.0.0.1 that accepts every message and
//! keeps its Message-ID, From and Subject in arrival order. It speaks just enough SMTP for
//! lettre, takes any number of connections at once, and notes a message when its data ends,
//! before answering `250`: so a sender killed in between has still delivered it.

use std::sync::{Arc, Mutex, PoisonError};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One message as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// Without angle brackets.
    pub message_id: String,
    pub from: String,
    pub subject: String,
}

type Inbox = Arc<Mutex<Vec<Delivered>>>;

pub struct Sink {
    url: String,
    inbox: Inbox,
    accepting: JoinHandle<()>,
}

impl Sink {
    pub async fn start() -> anyhow::Result<Sink> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("smtp://{}", listener.local_addr()?);
        let inbox = Inbox::default();
        let accepting = tokio::spawn(accept(listener, Arc::clone(&inbox)));
        Ok(Sink {
            url,
            inbox,
            accepting,
        })
    }

    /// `smtp://127.0.0.1:port`, for `STEWARD_SMTP_URL`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every message so far, in arrival order.
    pub fn delivered(&self) -> Vec<Delivered> {
        self.inbox
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

async fn accept(listener: TcpListener, inbox: Inbox) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(session(stream, Arc::clone(&inbox)));
    }
}

/// One SMTP session; any I/O error just ends it, as a real server would.
async fn session(stream: TcpStream, inbox: Inbox) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 steward-load sink ESMTP\r\n").await?;
    let mut data: Option<String> = None;
    while let Some(line) = lines.next_line().await? {
        if let Some(text) = data.as_mut() {
            if line == "." {
                let message = parse(&data.take().unwrap_or_default());
                inbox
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(message);
                write.write_all(b"250 queued\r\n").await?;
            } else {
                text.push_str(line.strip_prefix('.').unwrap_or(&line));
                text.push('\n');
            }
            continue;
        }
        let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" => b"250 steward-load\r\n",
            "DATA" => {
                data = Some(String::new());
                b"354 go ahead\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"250 ok\r\n",
        };
        write.write_all(reply).await?;
    }
    Ok(())
}

fn parse(message: &str) -> Delivered {
    let id = header(message, "Message-ID").unwrap_or_default();
    Delivered {
        message_id: id.trim_matches(|c| c == '<' || c == '>').to_owned(),
        from: header(message, "From").unwrap_or_default(),
        subject: header(message, "Subject").unwrap_or_default(),
    }
}

/// The value of a header (unfolded), from the head of a message.
fn header(message: &str, name: &str) -> Option<String> {
    let head = message.split("\n\n").next().unwrap_or_default();
    let mut value: Option<String> = None;
    for line in head.lines() {
        match value.as_mut() {
            Some(v) if line.starts_with([' ', '\t']) => v.push_str(line),
            Some(_) => break,
            None => {
                if let Some((key, rest)) = line.split_once(':')
                    && key.eq_ignore_ascii_case(name)
                {
                    value = Some(rest.trim().to_owned());
                }
            }
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_read_unfolded_and_without_brackets() {
        let message = "From: Node A <a@steward.test>\nSubject: [INC-4] A long\n title\n\
                       Message-ID: <inc-4.1@steward>\n\nbody\nSubject: not this\n";
        assert_eq!(
            parse(message),
            Delivered {
                message_id: "inc-4.1@steward".into(),
                from: "Node A <a@steward.test>".into(),
                subject: "[INC-4] A long title".into(),
            }
        );
    }

    #[tokio::test]
    async fn the_sink_keeps_what_lettre_like_clients_send() {
        let sink = Sink::start().await.expect("sink");
        let address = sink.url().trim_start_matches("smtp://").to_owned();
        let stream = TcpStream::connect(&address).await.expect("connect");
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        let mut replies = Vec::new();
        replies.push(lines.next_line().await.expect("greeting"));
        for command in [
            "EHLO me",
            "MAIL FROM:<a@x>",
            "RCPT TO:<b@y>",
            "DATA",
            "Message-ID: <m1@x>\r\nSubject: hi\r\n\r\n..dot\r\n.",
            "QUIT",
        ] {
            write
                .write_all(format!("{command}\r\n").as_bytes())
                .await
                .expect("write");
            replies.push(lines.next_line().await.expect("reply"));
        }
        let codes: Vec<String> = replies
            .into_iter()
            .map(|r| r.unwrap_or_default()[..3].to_owned())
            .collect();
        assert_eq!(codes, ["220", "250", "250", "250", "354", "250", "221"]);
        let delivered = sink.delivered();
        assert_eq!(delivered.len(), 1);
        assert_eq!(delivered[0].message_id, "m1@x");
        assert_eq!(delivered[0].subject, "hi");
    }
}
