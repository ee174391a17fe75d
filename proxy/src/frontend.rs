//! A connection accepted by a frontend: counted, then handed to the data path of its mode.

use std::sync::Arc;

use crate::config::model::Mode;
use crate::net::stream::Stream;
use crate::runtime::{ConnCount, Frontend, Runtime};

/// Serves one accepted connection to its end.
pub async fn serve(rt: Arc<Runtime>, fe: Arc<Frontend>, client: Stream) {
    let count = ConnCount::new(rt, fe.clone());
    let peer = client.peer_addr();
    match fe.mode {
        Mode::Tcp => {
            let _outcome = crate::tcp::serve(&fe, client, peer).await;
        }
        Mode::Http => crate::http::session::serve(fe, client, peer).await,
    }
    drop(count);
}
