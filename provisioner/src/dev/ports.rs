//! Port checks for the processes `dev` starts: a port in use is a clear error naming the flag that changes
//! it, and "ready" means the process accepts TCP connections, waited for under a deadline.

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::time::{Duration, Instant};

use anyhow::bail;
use tokio::process::Child;

use crate::error::UsageError;

pub fn ensure_port_free(port: u16, flag: &str) -> anyhow::Result<()> {
    match TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)) {
        Ok(_) => Ok(()),
        // A usage error (exit 2): the learner fixes it with a flag, and nothing has been started yet.
        Err(err) => Err(UsageError(format!(
            "port {port} on 127.0.0.1 is not free ({err}), so dev started nothing; hint: stop what uses it \
             (`ss -ltnp 'sport = :{port}'` shows it) or choose another port with {flag} PORT"
        ))
        .into()),
    }
}

/// Waits until something accepts connections on 127.0.0.1:`port`, failing early if `child` exits.
pub async fn wait_until_listening(
    port: u16,
    deadline: Duration,
    child: &mut Child,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(20);
    loop {
        if tokio::net::TcpStream::connect(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!("the process exited ({status}) before it listened on port {port}");
        }
        if started.elapsed() > deadline {
            bail!(
                "nothing listened on port {port} after {} s",
                deadline.as_secs()
            );
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}
