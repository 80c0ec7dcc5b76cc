//! The pieces of the `http2` suite: the two servers and two clients compared (ghostnet-http2
//! and hyper, each with its default HTTP/2 settings), the body they send, and h2load.

pub mod client_rows;
pub mod clients;
pub mod h2load;
pub mod repeat;
pub mod servers;

/// Which implementation a server or client process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// ghostnet-http2.
    Ghostnet,
    /// hyper 1.x with hyper-util's tokio glue.
    Hyper,
}

impl Side {
    /// The name used on the command line of the helper processes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ghostnet => "ghostnet",
            Self::Hyper => "hyper",
        }
    }

    /// Parses [`name`](Self::name).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ghostnet" => Some(Self::Ghostnet),
            "hyper" => Some(Self::Hyper),
            _ => None,
        }
    }
}

/// ghostnet-http2's settings for the helper processes (servers, and the `fetch`
/// client): the defaults, unless `BENCH_H2_WINDOW` (stream window in bytes; the
/// connection gets twice as much) or `BENCH_H2_FRAME` (max frame size) are set. The
/// suite itself always uses the defaults; the variables are for the window and frame
/// size experiments in docs/http2.md.
pub fn ghostnet_settings() -> ghostnet::http2::Settings {
    let mut s = ghostnet::http2::Settings::default();
    let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u32>().ok());
    if let Some(w) = var("BENCH_H2_WINDOW") {
        s.initial_stream_window_size = w;
        s.initial_connection_window_size = w.saturating_mul(2).max(65_535);
    }
    if let Some(f) = var("BENCH_H2_FRAME") {
        s.max_frame_size = f;
    }
    s
}

/// The route both servers answer for everything but [`DOWNLOAD_PATH`].
pub const HELLO: &str = "Hello, World!";
/// `GET /download/<bytes>` streams that many bytes.
pub const DOWNLOAD_PATH: &str = "/download/";
