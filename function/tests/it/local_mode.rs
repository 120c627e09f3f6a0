//! Local mode: the built binary serves plain HTTP on 127.0.0.1:$PORT with CORS for exactly CORS_ORIGINS.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{endpoint, TestShop};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

const ALLOWED_ORIGIN: &str = "http://127.0.0.1:8080";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn api_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_shopsmart-api"));
    command
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env("AWS_ENDPOINT_URL", endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Starts the API and waits (bounded) for its "listening" line.
async fn start(shop: &TestShop, port: u16) -> Child {
    let mut child = api_command()
        .env("PRODUCTS_TABLE", &shop.tables.products)
        .env("CARTS_TABLE", &shop.tables.carts)
        .env("ORDERS_TABLE", &shop.tables.orders)
        .env("PORT", port.to_string())
        .env(
            "CORS_ORIGINS",
            format!("{ALLOWED_ORIGIN}, http://localhost:8080"),
        )
        .spawn()
        .expect("spawning shopsmart-api");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("no listening line within 20 s")
        .unwrap()
        .expect("the API exited before listening");
    assert_eq!(
        line,
        format!("shopsmart-api listening on http://127.0.0.1:{port}")
    );
    child
}

struct RawAnswer {
    status: u16,
    head: String,
    body: String,
}

impl RawAnswer {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_string())
        })
    }
}

/// A minimal HTTP/1.1 exchange (no client crate needed for three requests).
async fn exchange(port: u16, request: &str) -> RawAnswer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut raw))
        .await
        .expect("answer within 10 s")
        .unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    RawAnswer {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

fn preflight(port: u16, origin: &str) -> String {
    format!(
        "OPTIONS /cart HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: {origin}\r\n\
         Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type, x-cart-id\r\n\
         Connection: close\r\n\r\n"
    )
}

#[tokio::test]
async fn serves_the_shop_with_cors_for_allowed_origins_only() {
    let shop = TestShop::new().await;
    let port = free_port();
    let spawned = Instant::now();
    let mut child = start(&shop, port).await;
    let get = format!("GET /products/mug HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: {ALLOWED_ORIGIN}\r\nConnection: close\r\n\r\n");
    let first = exchange(port, &get).await;
    eprintln!(
        "spawn to first answered request: {} ms",
        spawned.elapsed().as_millis()
    );
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(first.body.contains("\"productId\":\"mug\""));
    assert_eq!(
        first.header("access-control-allow-origin").as_deref(),
        Some(ALLOWED_ORIGIN)
    );

    let allowed = exchange(port, &preflight(port, ALLOWED_ORIGIN)).await;
    assert!(allowed.status < 300, "{}", allowed.head);
    assert_eq!(
        allowed.header("access-control-allow-origin").as_deref(),
        Some(ALLOWED_ORIGIN)
    );
    let methods = allowed.header("access-control-allow-methods").unwrap();
    assert!(
        methods.contains("POST") && methods.contains("DELETE"),
        "{methods}"
    );
    let headers = allowed
        .header("access-control-allow-headers")
        .unwrap()
        .to_lowercase();
    assert!(
        headers.contains("x-cart-id") && headers.contains("idempotency-key"),
        "{headers}"
    );

    let refused = exchange(port, &preflight(port, "https://evil.example")).await;
    assert_eq!(
        refused.header("access-control-allow-origin"),
        None,
        "{}",
        refused.head
    );

    let list = exchange(
        port,
        &format!("GET /products HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("\"products\""));

    child.start_kill().unwrap();
    child.wait().await.unwrap();
}

#[tokio::test]
async fn configuration_mistakes_exit_2_with_a_message() {
    let missing_tables = api_command()
        .env_remove("PRODUCTS_TABLE")
        .output()
        .await
        .unwrap();
    assert_eq!(missing_tables.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing_tables.stderr).contains("PRODUCTS_TABLE"));

    let bad_port = api_command()
        .env("PRODUCTS_TABLE", "p")
        .env("CARTS_TABLE", "c")
        .env("ORDERS_TABLE", "o")
        .env("PORT", "eighty")
        .output()
        .await
        .unwrap();
    assert_eq!(bad_port.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_port.stderr).contains("PORT"));

    let bad_origin = api_command()
        .env("PRODUCTS_TABLE", "p")
        .env("CARTS_TABLE", "c")
        .env("ORDERS_TABLE", "o")
        .env("PORT", "0")
        .env("CORS_ORIGINS", "127.0.0.1:8080/")
        .output()
        .await
        .unwrap();
    assert_eq!(bad_origin.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_origin.stderr).contains("CORS_ORIGINS"));
}
