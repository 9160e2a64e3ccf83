//! Usage and cost over the runs (from the figures the store keeps as runs change), and
//! the price table they are costed with.
use super::{public, Service};
use crate::clock::now_ms;
use crate::store::AuditEntry;
use domain::auth::Action;
use domain::cost::PriceTable;
use domain::links::{LinkCheck, ObservabilityLinks};
use domain::metrics::{MetricsReport, RunCost, TimeRange};
use domain::overview::{Overview, UpcomingRun};
use domain::service::{Actor, MetricsService, ScheduleService};

const PRICE_TABLE: &str = "price_table";
const LINKS: &str = "observability_links";
/// How long a link check waits for an answer.
const LINK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

impl Service {
    /// The admin's price table, or the built-in one until an admin saves theirs.
    /// The observability links, or none when they can't be read (a page still shows).
    pub(crate) async fn site_links(&self) -> ObservabilityLinks {
        self.store
            .setting::<ObservabilityLinks>(LINKS)
            .await
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    pub(crate) async fn prices(&self) -> PriceTable {
        match self.store.setting::<PriceTable>(PRICE_TABLE).await {
            Ok(Some(table)) => table,
            Ok(None) => PriceTable::default(),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the price table; using the built-in one");
                PriceTable::default()
            }
        }
    }
}

#[async_trait::async_trait]
impl MetricsService for Service {
    async fn metrics(&self, actor: &Actor, range: TimeRange) -> domain::Result<MetricsReport> {
        actor.role.require(Action::SeeMetrics)?;
        let prices = self.prices().await;
        let report = public(self.store.metrics(range, now_ms(), prices).await)?;
        let hours = range.length_ms() / 3_600_000;
        Ok(MetricsReport {
            grafana_url: self.site_links().await.grafana_for_range(hours),
            ..report
        })
    }

    async fn run_costs(&self, actor: &Actor, range: TimeRange) -> domain::Result<Vec<RunCost>> {
        actor.role.require(Action::SeeMetrics)?;
        let prices = self.prices().await;
        public(self.store.run_costs(range, now_ms(), prices).await)
    }

    async fn price_table(&self, actor: &Actor) -> domain::Result<PriceTable> {
        actor.role.require(Action::SeeMetrics)?;
        Ok(self.prices().await)
    }

    async fn overview(&self, actor: &Actor) -> domain::Result<Overview> {
        actor.role.require(Action::SeeMetrics)?;
        let now = now_ms();
        let stored = public(self.store.overview().await)?;
        let fleet = self.backend.fleet().await;
        let mut upcoming: Vec<UpcomingRun> = self
            .list_schedules(actor)
            .await?
            .into_iter()
            .filter(|s| !s.suspended)
            .filter_map(|s| {
                Some(UpcomingRun {
                    at_ms: s.next_fire_ms?,
                    template: s.dispatch.template.clone(),
                    schedule: s.name,
                })
            })
            .collect();
        upcoming.sort_by_key(|u| u.at_ms);
        upcoming.truncate(10);
        Ok(Overview {
            now_ms: now,
            active: stored.active,
            waiting: stored.waiting,
            failures: stored.failures,
            upcoming,
            machines: fleet.machines,
            fleet_source: fleet.source,
            fleet_notes: fleet.notes,
        })
    }

    async fn links(&self, actor: &Actor) -> domain::Result<ObservabilityLinks> {
        actor.role.require(Action::View)?;
        Ok(public(self.store.setting(LINKS).await)?.unwrap_or_default())
    }

    async fn set_links(
        &self,
        actor: &Actor,
        links: ObservabilityLinks,
    ) -> domain::Result<ObservabilityLinks> {
        actor.role.require(Action::ChangeSettings)?;
        let links = links.cleaned()?;
        let audit = AuditEntry {
            at_ms: now_ms(),
            actor: actor.name.clone(),
            source: actor.from.clone(),
            action: "settings.links".into(),
            target: None,
            detail: Some(
                links
                    .probes()
                    .iter()
                    .map(|(n, u, _)| format!("{n}={u}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        };
        public(self.store.set_setting(LINKS, &links, audit).await)?;
        Ok(links)
    }

    async fn check_links(&self, actor: &Actor) -> domain::Result<Vec<LinkCheck>> {
        actor.role.require(Action::ChangeSettings)?;
        let links: ObservabilityLinks =
            public(self.store.setting(LINKS).await)?.unwrap_or_default();
        let http = reqwest::Client::builder()
            .timeout(LINK_TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .map_err(|e| domain::Error::internal(e.to_string()))?;
        let checks = links.probes().into_iter().map(|(name, url, path)| {
            let http = http.clone();
            async move { check_link(&http, name, url, path).await }
        });
        Ok(futures::future::join_all(checks).await)
    }

    async fn set_price_table(
        &self,
        actor: &Actor,
        table: PriceTable,
    ) -> domain::Result<PriceTable> {
        actor.role.require(Action::ChangeSettings)?;
        table.validate()?;
        let audit = AuditEntry {
            at_ms: now_ms(),
            actor: actor.name.clone(),
            source: actor.from.clone(),
            action: "settings.prices".into(),
            target: None,
            detail: Some(format!("{} models", table.prices.len())),
        };
        public(self.store.set_setting(PRICE_TABLE, &table, audit).await)?;
        Ok(table)
    }
}

/// Asks `url` + `path` and words the answer as something to do.
async fn check_link(http: &reqwest::Client, name: &str, url: String, path: &str) -> LinkCheck {
    let probe = format!("{url}{path}");
    let (ok, detail) = match http.get(&probe).send().await {
        Ok(r) if r.status().is_success() => (true, format!("answered {}", r.status().as_u16())),
        Ok(r) => (
            false,
            format!(
                "{name} at {probe} answered {}: check the URL (and that {name} is ready).",
                r.status()
            ),
        ),
        Err(e) if e.is_timeout() => (
            false,
            format!("{name} at {probe} did not answer within {} s: check that it runs and that this server can reach it (firewall, network policy).", LINK_TIMEOUT.as_secs()),
        ),
        Err(e) if e.is_connect() => (
            false,
            format!("{name} at {probe} refused the connection or could not be found: check that {name} runs and the URL's host and port."),
        ),
        Err(e) => (false, format!("{name} at {probe} failed: {e}.")),
    };
    LinkCheck {
        name: name.to_string(),
        url,
        ok,
        detail,
    }
}
