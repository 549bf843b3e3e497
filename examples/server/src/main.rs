//! `querywire-demo-server`: see README.md. Env: PORT (8787), DB_PATH, DATABASE_URL, WEB_DIST.

use querywire_demo_server::{start, Config};

#[tokio::main]
async fn main() {
    let cfg = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("querywire demo server: {e}");
            std::process::exit(2);
        }
    };
    let mut server = match start(cfg).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("querywire demo server: failed to start: {e}");
            std::process::exit(1);
        }
    };
    println!("querywire demo server listening on {} (db: {})", server.url(), server.state.db.kind());
    tokio::select! {
        _ = shutdown_signal() => {
            eprintln!("querywire demo server: shutting down");
            server.shutdown().await;
        }
        r = server.wait() => {
            if let Err(e) = r {
                eprintln!("querywire demo server: {e}");
                std::process::exit(1);
            }
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
