//! Glue to [`ghostnet_resilience::HealthCheck`]: it probes, the manager reads.
//!
//! The check runs in its own task and publishes statuses through a watch channel; the
//! manager borrows them (no copy, no await) whenever it looks at a mirror, and applies
//! what is new (see `Record::refresh`).

use ghostnet_resilience::{EndpointStatus, HealthCheck};
use ghostnet_runtime::channel::watch;
use http::Uri;

use super::base::{join, normalise_path};
use super::config::HealthConfig;
use crate::error::{Error, Result};

/// A running health check over the mirrors, in the order the mirrors were added.
pub(crate) struct Health {
    /// Kept for its lifetime: dropping it stops the probes.
    check: HealthCheck<Uri>,
    statuses: watch::Receiver<Vec<EndpointStatus<Uri>>>,
}

impl Health {
    /// Starts probing `bases` (or `health_path` under each) when a probe is configured.
    pub(crate) fn start(bases: &[Uri], cfg: HealthConfig) -> Result<Option<Self>> {
        let path = cfg.path.as_deref().map(normalise_path).transpose()?;
        let Some(probe) = cfg.probe else {
            return Ok(None);
        };
        let targets = bases
            .iter()
            .map(|b| match &path {
                Some(p) => join(b, p),
                None => Ok(b.clone()),
            })
            .collect::<Result<Vec<_>>>()?;
        let mut builder = HealthCheck::builder(targets, move |url: Uri| probe(url))
            .interval(cfg.interval)
            .timeout(cfg.timeout)
            .unhealthy_threshold(cfg.unhealthy_threshold)
            .healthy_threshold(cfg.healthy_threshold);
        if let Some(shutdown) = &cfg.shutdown {
            builder = builder.shutdown(shutdown);
        }
        let check = builder.spawn().map_err(Error::HealthCheck)?;
        let statuses = check.subscribe();
        Ok(Some(Self { check, statuses }))
    }

    /// The latest statuses, borrowed; hold only briefly (it blocks the next update).
    pub(crate) fn statuses(&self) -> watch::Ref<'_, Vec<EndpointStatus<Uri>>> {
        self.statuses.borrow()
    }

    pub(crate) fn is_running(&self) -> bool {
        self.check.is_running()
    }
}
