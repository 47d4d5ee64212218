//! A TCP proxy in front of PostgreSQL that a test can cut and restore: how the multi-node
//! test makes the database unreachable for its nodes without stopping the PostgreSQL that
//! every other test shares.
//!
//! Cut drops the listening socket (new connections are refused, as from a stopped server)
//! and resets every proxied connection; restore listens on the same port again.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct PgProxy {
    pub addr: SocketAddr,
    upstream: SocketAddr,
    /// The accept loop and every connection it proxies.
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl PgProxy {
    /// A proxy on a free loopback port to `upstream`, accepting at once.
    pub async fn start(upstream: SocketAddr) -> PgProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = PgProxy {
            addr: listener.local_addr().unwrap(),
            upstream,
            tasks: Arc::default(),
        };
        proxy.accept(listener);
        proxy
    }

    fn accept(&self, listener: TcpListener) {
        let (upstream, tasks) = (self.upstream, self.tasks.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let relay = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().unwrap().push(relay);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    /// The database becomes unreachable: connections are reset, new ones refused.
    pub fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            // Aborting drops the sockets the task owns: the listener and both ends.
            task.abort();
        }
    }

    /// The database is reachable again, on the same address.
    pub async fn restore(&self) {
        // The port was just released by `cut`; the aborted task may take a moment to drop it.
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(e) if tries < 100 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot listen on {} again: {e}", self.addr),
            }
        };
        self.accept(listener);
    }
}

impl Drop for PgProxy {
    fn drop(&mut self) {
        self.cut();
    }
}
