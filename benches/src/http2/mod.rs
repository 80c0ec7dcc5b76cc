//! The pieces of the `http2` suite: the two servers and two clients compared (ghostnet-http2
//! and hyper, each with its default HTTP/2 settings), the body they send, and h2load.

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

/// The route both servers answer for everything but [`DOWNLOAD_PATH`].
pub const HELLO: &str = "Hello, World!";
/// `GET /download/<bytes>` streams that many bytes.
pub const DOWNLOAD_PATH: &str = "/download/";
