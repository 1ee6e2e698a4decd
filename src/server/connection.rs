//! An accepted connection that h2 sees as one without vectored writes, its
//! writes gathered until the HTTP layer flushes.
//!
//! h2 copies a DATA frame's payload into its own write buffer only up to a
//! threshold: 256 bytes on a socket with vectored writes, 1,024 without. A
//! longer payload is held apart, and h2 buffers no further frame until it
//! has gone out, so each such answer costs a system call of its own, where
//! shorter ones share one per batch. Under load, GetRelation of a seed pair
//! (a 490-byte answer) made 1.65 `writev` calls a call against a health
//! check's 0.62. Reporting no vectored writes raises the threshold to 1,024
//! bytes; the writes of a held-apart payload (its frame's header, then the
//! payload) are gathered here and go out in one call when h2 flushes, which
//! it does whenever it has written what it had. HTTP/1.1 (the HTTP/JSON
//! mapping and the page) and TLS flush alike.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, BufWriter, ReadBuf};
use tokio::net::TcpStream;
use tonic::transport::server::{Connected, TcpConnectInfo};

/// Bytes gathered before a write goes out unasked: 32 answers of a
/// kilobyte. A write at least this long goes straight to the socket.
const WRITE_BUFFER: usize = 32 * 1024;

/// A TCP connection with its writes gathered (see the module's comment).
pub struct GatheredWrites(BufWriter<TcpStream>);

impl GatheredWrites {
    pub fn new(stream: TcpStream) -> Self {
        GatheredWrites(BufWriter::with_capacity(WRITE_BUFFER, stream))
    }
}

impl Connected for GatheredWrites {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.0.get_ref().connect_info()
    }
}

impl AsyncRead for GatheredWrites {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for GatheredWrites {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    /// The point of this type: see the module's comment.
    fn is_write_vectored(&self) -> bool {
        false
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
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
        let mut received = Vec::new();
        while received.len() < 2013 {
            let more = readable(&mut peer, Duration::from_secs(5)).await;
            assert!(!more.is_empty(), "the flush sent everything written");
            received.extend(more);
        }
        assert_eq!(&received[..13], b"frame header;");
        assert!(received[13..].iter().all(|b| *b == b'p'));
    }

    #[tokio::test]
    async fn a_write_longer_than_the_buffer_goes_straight_out() {
        let (mut connection, mut peer) = connected().await;
        let long = vec![b'x'; WRITE_BUFFER];
        let written = connection.write(&long).await.expect("write");
        assert!(written > 0);
        assert!(
            !readable(&mut peer, Duration::from_secs(5)).await.is_empty(),
            "sent without a flush"
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
