//! An accepted connection that h2 sees as one without vectored writes, its
//! short writes gathered until the HTTP layer flushes.
//!
//! h2 copies a DATA frame's payload into its own write buffer only up to a
//! threshold: 256 bytes on a socket with vectored writes, 1,024 without. A
//! longer payload is held apart, and h2 buffers no further frame until it
//! has gone out, so each such answer cost a system call of its own, where
//! shorter ones share one per batch (BENCHMARKS.md, "Answers gathered into
//! fewer writes", has the counts). Reporting no vectored writes raises the
//! threshold to 1,024 bytes. The writes of a held-apart payload (its
//! frame's header, then the payload) still go out in one call: short ones
//! are gathered here until h2 flushes, which it does whenever it has
//! written what it had, and a long one follows what is gathered in one
//! vectored write, uncopied. HTTP/1.1 (the HTTP/JSON mapping and the page)
//! and TLS flush alike. The buffer is allocated on the first write, not at
//! accept, and a large one is given back after its batch.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tonic::transport::server::{Connected, TcpConnectInfo};

/// A write at least this long is not copied: it goes out behind what is
/// gathered in one vectored write. Copying the 16 KiB frames of a large
/// answer cost more than the system calls it saved (BENCHMARKS.md, same
/// section).
const STRAIGHT_OUT: usize = 4 * 1024;

/// Most bytes gathered: past this, what is gathered is sent first.
const MOST_GATHERED: usize = 64 * 1024;

/// What the gathering buffer keeps between batches; a larger one is given
/// back, so that an idle connection holds no more than this.
const KEPT: usize = 16 * 1024;

/// A TCP connection with its writes gathered (see the module's comment).
pub struct GatheredWrites {
    stream: TcpStream,
    /// Written by h2 and not yet sent, in order.
    gathered: Vec<u8>,
}

impl GatheredWrites {
    pub fn new(stream: TcpStream) -> Self {
        GatheredWrites {
            stream,
            gathered: Vec::new(),
        }
    }

    /// Sends what is gathered, all of it or until the socket is full (then
    /// the rest stays, in order, for the next try).
    fn poll_send_gathered(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.gathered.is_empty() {
            let sent = ready!(Pin::new(&mut self.stream).poll_write(cx, &self.gathered))?;
            if sent == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.gathered.drain(..sent);
        }
        self.gathered.shrink_to(KEPT);
        Poll::Ready(Ok(()))
    }

    /// Sends what is gathered and then `long`, together while anything is
    /// gathered; how much of `long` went out.
    fn poll_send_behind(&mut self, cx: &mut Context<'_>, long: &[u8]) -> Poll<io::Result<usize>> {
        while !self.gathered.is_empty() {
            let both = [IoSlice::new(&self.gathered), IoSlice::new(long)];
            let sent = ready!(Pin::new(&mut self.stream).poll_write_vectored(cx, &both))?;
            if sent == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            if sent > self.gathered.len() {
                let of_long = sent - self.gathered.len();
                self.gathered.clear();
                self.gathered.shrink_to(KEPT);
                return Poll::Ready(Ok(of_long));
            }
            self.gathered.drain(..sent);
        }
        self.gathered.shrink_to(KEPT);
        Pin::new(&mut self.stream).poll_write(cx, long)
    }
}

impl Connected for GatheredWrites {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.stream.connect_info()
    }
}

impl AsyncRead for GatheredWrites {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for GatheredWrites {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.len() >= STRAIGHT_OUT {
            return self.poll_send_behind(cx, buf);
        }
        if self.gathered.len() + buf.len() > MOST_GATHERED {
            ready!(self.poll_send_gathered(cx))?;
        }
        self.gathered.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    /// The point of this type: see the module's comment.
    fn is_write_vectored(&self) -> bool {
        false
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_send_gathered(cx))?;
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_send_gathered(cx))?;
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    /// A connected pair over loopback: ours (accepted, gathered) and the
    /// peer's.
    async fn connected() -> (GatheredWrites, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let peer = TcpStream::connect(listener.local_addr().expect("address"))
            .await
            .expect("connect");
        let (accepted, _) = listener.accept().await.expect("accept");
        (GatheredWrites::new(accepted), peer)
    }

    /// At least `len` bytes read by the peer, each read within 5 s.
    async fn received(peer: &mut TcpStream, len: usize) -> Vec<u8> {
        let mut received = Vec::new();
        while received.len() < len {
            let more = readable(peer, Duration::from_secs(5)).await;
            assert!(
                !more.is_empty(),
                "{} bytes of {len} arrived",
                received.len()
            );
            received.extend(more);
        }
        received
    }

    /// What the peer can read within `wait`.
    async fn readable(peer: &mut TcpStream, wait: Duration) -> Vec<u8> {
        let mut received = vec![0; 64 * 1024];
        match tokio::time::timeout(wait, peer.read(&mut received)).await {
            Ok(read) => received.truncate(read.expect("read")),
            Err(_) => received.clear(),
        }
        received
    }

    #[tokio::test]
    async fn h2_is_told_there_are_no_vectored_writes() {
        let (connection, _peer) = connected().await;
        assert!(!connection.is_write_vectored());
    }

    #[tokio::test]
    async fn writes_wait_for_the_flush_and_then_go_out_together() {
        let (mut connection, mut peer) = connected().await;
        connection.write_all(b"frame header;").await.expect("write");
        connection.write_all(&[b'p'; 2000]).await.expect("write");
        assert!(
            readable(&mut peer, Duration::from_millis(100))
                .await
                .is_empty(),
            "nothing is sent before the flush"
        );

        connection.flush().await.expect("flush");
        let received = received(&mut peer, 2013).await;
        assert_eq!(&received[..13], b"frame header;");
        assert!(received[13..].iter().all(|b| *b == b'p'));
    }

    #[tokio::test]
    async fn a_long_write_goes_out_at_once_behind_what_is_gathered() {
        let (mut connection, mut peer) = connected().await;
        connection.write_all(b"frame header;").await.expect("write");
        let long = vec![b'x'; STRAIGHT_OUT];
        connection.write_all(&long).await.expect("write");
        assert!(connection.gathered.is_empty(), "neither kept nor copied");
        // Sent without a flush.
        let received = received(&mut peer, 13 + STRAIGHT_OUT).await;
        assert_eq!(&received[..13], b"frame header;");
        assert!(received[13..].iter().all(|b| *b == b'x'));
    }

    #[tokio::test]
    async fn megabytes_in_writes_of_every_length_arrive_whole_and_in_order() {
        let (mut connection, mut peer) = connected().await;
        // Short writes first, enough to pass the most gathered, then short
        // and long ones mixed, from a byte to past both thresholds: more in
        // all than the socket's buffers hold, so that sends are partial
        // and wait.
        let writes: Vec<Vec<u8>> = (0..1200usize)
            .map(|i| {
                let len = if i < 200 || i % 4 != 0 {
                    (i * 31) % STRAIGHT_OUT + 1
                } else {
                    (i * 7919) % (MOST_GATHERED + 1000) + 1
                };
                (0..len).map(|j| ((i + j) % 251) as u8).collect()
            })
            .collect();
        let expected: Vec<u8> = writes.concat();
        let reader = tokio::spawn(async move {
            let mut received = Vec::new();
            peer.read_to_end(&mut received).await.expect("read");
            received
        });
        for write in &writes {
            connection.write_all(write).await.expect("write");
        }
        connection
            .shutdown()
            .await
            .expect("shutdown sends what is gathered");
        let received = reader.await.expect("reader");
        assert_eq!(received.len(), expected.len());
        assert!(received == expected, "every byte in order");
        assert!(
            connection.gathered.capacity() <= KEPT,
            "a large buffer is given back after its batch"
        );
    }

    #[tokio::test]
    async fn reads_pass_through() {
        let (mut connection, mut peer) = connected().await;
        peer.write_all(b"PRI * HTTP/2.0").await.expect("write");
        let mut read = [0; 14];
        connection.read_exact(&mut read).await.expect("read");
        assert_eq!(&read, b"PRI * HTTP/2.0");
    }

    #[tokio::test]
    async fn the_connect_info_is_the_sockets() {
        let (connection, peer) = connected().await;
        let info = connection.connect_info();
        assert_eq!(
            info.remote_addr(),
            Some(peer.local_addr().expect("address"))
        );
    }
}
