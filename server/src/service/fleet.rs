//! Where runs go and what credentials they get, for admins: read from the backend
//! (this host, or the cluster) at each call — an admin page, not a hot path.
use super::{public, Service};
use domain::auth::Action;
use domain::fleet::{CredentialsView, FleetView};
use domain::service::{Actor, FleetService};

#[async_trait::async_trait]
impl FleetService for Service {
    async fn fleet(&self, actor: &Actor) -> domain::Result<FleetView> {
        actor.role.require(Action::SeeFleet)?;
        Ok(self.backend.fleet().await)
    }

    async fn credentials(&self, actor: &Actor) -> domain::Result<CredentialsView> {
        actor.role.require(Action::SeeFleet)?;
        public(self.credentials_view().await)
    }

    async fn rotate_credential(
        &self,
        actor: &Actor,
        provider: &str,
    ) -> domain::Result<CredentialsView> {
        actor.role.require(Action::ChangeSettings)?;
        public(self.rotate(actor, provider).await)
    }
}
