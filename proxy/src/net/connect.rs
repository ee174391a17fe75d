//! Connecting to a server, bounded by `timeout connect`.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpStream, UnixStream};

use super::stream::Stream;
use crate::config::model::ServerAddr;

/// Why a connection to a server was not made; decides the status and the log's
/// termination state (`SC`: refused or failed, `sC`: timed out).
#[derive(Debug)]
pub enum ConnectError {
    /// `timeout connect` struck.
    Timeout,
    /// The server refused or the network failed.
    Io(io::Error),
}

/// Connects to `addr`; `dst_port` is the client's destination port, used by servers
/// declared without a port or with a `+N`/`-N` offset.
pub async fn connect(
    addr: &ServerAddr,
    dst_port: Option<u16>,
    timeout: Option<Duration>,
) -> Result<Stream, ConnectError> {
    let fut = async {
        match addr {
            ServerAddr::Inet(sa) => tcp(*sa).await,
            ServerAddr::InetPortOffset(ip, off) => {
                let port = i32::from(dst_port.unwrap_or(0)) + off;
                let port = u16::try_from(port).map_err(|_| {
                    io::Error::new(io::ErrorKind::InvalidInput, "server port out of range")
                })?;
                tcp(SocketAddr::new(*ip, port)).await
            }
            ServerAddr::Unix(path) => UnixStream::connect(path).await.map(Stream::Unix),
            ServerAddr::Abns(name) => {
                use std::os::linux::net::SocketAddrExt;
                let name = crate::net::listener::abns_name(name);
                let sa = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
                let std = std::os::unix::net::UnixStream::connect_addr(&sa)?;
                std.set_nonblocking(true)?;
                UnixStream::from_std(std).map(Stream::Unix)
            }
        }
    };
    match timeout {
        Some(t) => match tokio::time::timeout(t, fut).await {
            Ok(r) => r.map_err(ConnectError::Io),
            Err(_) => Err(ConnectError::Timeout),
        },
        None => fut.await.map_err(ConnectError::Io),
    }
}

async fn tcp(sa: SocketAddr) -> io::Result<Stream> {
    let s = TcpStream::connect(sa).await?;
    // Proxied traffic is latency-bound: small writes must leave at once, as haproxy does.
    s.set_nodelay(true)?;
    Ok(Stream::Tcp(s))
}
