//! The gRPC services: each handler converts and validates the request, asks
//! the domain and the store, and converts back. Nothing else lives here.

mod actors;
mod countries;
mod events;
pub mod mask;
mod meetings;
pub mod page;
mod records;
mod relations;
mod resources;
mod treaties;

pub use actors::Actors;
pub use countries::Countries;
pub use events::Events;
pub use meetings::Meetings;
pub use records::{import_response, Records};
pub use relations::{relation_of, Relations};
pub use treaties::Treaties;
