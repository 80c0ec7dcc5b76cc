//! Allocations per request on the plaintext keep-alive path, counted by a global
//! allocator on the server's own thread.
//!
//! The connection machinery (buffers, parsing, head encoding, Date, timers, body framing)
//! allocates nothing per request. What is left is one `http::HeaderMap`'s storage (its
//! index and entry arrays: 2 allocations): the handler's response map when it sets a
//! header (that map is then recycled for the next request's headers, as hyper does), or
//! the request's map when the response has no header to recycle.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use ghostnet_http1::{Body, Server};
use http::{Method, Request, Response};
use support::Client;

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: defers to the system allocator; the counter is a thread-local Cell with a const
// initializer and no destructor, so touching it never allocates or re-enters.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCS.with(|a| a.set(a.get() + 1));
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCS.with(|a| a.set(a.get() + 1));
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs a server on its own current-thread runtime (counting on that thread) and
/// returns the allocations per request of `rounds` batches of `depth` pipelined GETs.
fn allocs_per_request(depth: usize, rounds: usize, typed: bool) -> f64 {
    type Query = tokio::sync::oneshot::Sender<u64>;
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (query_tx, mut query_rx) = tokio::sync::mpsc::unbounded_channel::<Query>();
    let server = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = ghostnet_transport::TcpListener::bind(
                "127.0.0.1:0".parse().unwrap(),
                ghostnet_transport::TcpOptions::default(),
            )
            .unwrap();
            addr_tx.send(listener.local_addr()).unwrap();
            let shutdown = ghostnet_runtime::Shutdown::new();
            let handler = move |_req: Request<Body>| async move {
                let mut res = Response::new(Body::from("Hello, World!"));
                if typed {
                    res.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static("text/plain"),
                    );
                }
                res
            };
            let serving = tokio::spawn(Server::builder().build().serve(
                listener,
                handler,
                shutdown.clone(),
            ));
            COUNTING.with(|c| c.set(true));
            while let Some(reply) = query_rx.recv().await {
                let _ = reply.send(ALLOCS.with(Cell::get));
            }
            COUNTING.with(|c| c.set(false));
            shutdown.trigger();
            serving.await.unwrap().unwrap();
        });
    });
    let addr = addr_rx.recv().unwrap();
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let batch: String = (0..depth)
        .map(|_| "GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .collect();
    let per_request = client_rt.block_on(async {
        let count = || async {
            let (tx, rx) = tokio::sync::oneshot::channel();
            query_tx.send(tx).unwrap();
            rx.await.unwrap()
        };
        let mut c = Client::new(tokio::net::TcpStream::connect(addr).await.unwrap());
        let mut before = 0;
        // 20 warm-up rounds first: buffers grow to their steady size, the Date cache fills.
        for round in 0..20 + rounds {
            if round == 20 {
                before = count().await;
            }
            c.send(batch.as_bytes()).await;
            for _ in 0..depth {
                let r = c.read(Method::GET).await.unwrap();
                assert_eq!(r.body, "Hello, World!");
            }
        }
        let after = count().await;
        (after - before) as f64 / (rounds * depth) as f64
    });
    drop(query_tx);
    server.join().unwrap();
    per_request
}

#[test]
fn keep_alive_plaintext_allocates_one_header_map() {
    for typed in [false, true] {
        let per_request = allocs_per_request(1, 300, typed);
        println!("keep-alive (content-type: {typed}): {per_request:.2} allocations per request");
        assert!(per_request <= 2.05, "{per_request} allocations per request");
    }
}

#[test]
fn pipelined_plaintext_allocates_one_header_map() {
    for typed in [false, true] {
        let per_request = allocs_per_request(16, 40, typed);
        println!("pipelined x16 (content-type: {typed}): {per_request:.2} allocations per request");
        assert!(per_request <= 2.05, "{per_request} allocations per request");
    }
}
