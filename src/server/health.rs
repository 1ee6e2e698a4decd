//! `grpc.health.v1.Health`, to the letter of the spec: `Check` of an unknown
//! service is NOT_FOUND, and `Watch` of an unknown service streams
//! SERVICE_UNKNOWN (tonic-health answers NOT_FOUND there), then follows the
//! status if the service appears.

use std::collections::BTreeMap;
use std::pin::Pin;

use tokio::sync::watch;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_server::Health;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

/// The serving status of every service, `""` being the whole server.
#[derive(Clone)]
pub struct HealthState {
    statuses: watch::Sender<BTreeMap<String, ServingStatus>>,
}

impl HealthState {
    pub fn new(services: &[&str]) -> Self {
        let all = services
            .iter()
            .copied()
            .chain([""])
            .map(|s| (s.to_string(), ServingStatus::Serving))
            .collect();
        Self {
            statuses: watch::Sender::new(all),
        }
    }

    /// Sets every service (and `""`) at once.
    pub fn set_all(&self, status: ServingStatus) {
        self.statuses.send_if_modified(|all| {
            let mut changed = false;
            for value in all.values_mut() {
                changed |= *value != status;
                *value = status;
            }
            changed
        });
    }

    pub fn status(&self, service: &str) -> Option<ServingStatus> {
        self.statuses.borrow().get(service).copied()
    }
}

pub struct HealthService {
    state: HealthState,
    /// Turns true when the server drains: watches then send their last
    /// status and end, so they do not hold the shutdown up.
    stopping: watch::Receiver<bool>,
}

impl HealthService {
    pub fn new(state: HealthState, stopping: watch::Receiver<bool>) -> Self {
        Self { state, stopping }
    }
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send>>;

#[tonic::async_trait]
impl Health for HealthService {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        let service = &request.get_ref().service;
        match self.state.status(service) {
            Some(status) => Ok(Response::new(HealthCheckResponse {
                status: status as i32,
            })),
            None => Err(Status::not_found(format!("unknown service {service:?}"))),
        }
    }

    type WatchStream = WatchStream;

    async fn watch(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let service = request.into_inner().service;
        let mut updates = self.state.statuses.subscribe();
        let mut stopping = self.stopping.clone();
        let stream = async_stream(move |sender| async move {
            let mut last = None;
            loop {
                let status = updates
                    .borrow_and_update()
                    .get(&service)
                    .copied()
                    .unwrap_or(ServingStatus::ServiceUnknown);
                if last != Some(status) {
                    last = Some(status);
                    if sender
                        .send(Ok(HealthCheckResponse {
                            status: status as i32,
                        }))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                if *stopping.borrow() {
                    return;
                }
                tokio::select! {
                    () = sender.closed() => return,
                    changed = updates.changed() => if changed.is_err() { return },
                    _ = stopping.changed() => {}
                }
            }
        });
        Ok(Response::new(stream))
    }
}

/// A stream fed by a task, ending when the task returns or the reader goes.
fn async_stream<F, Fut>(produce: F) -> WatchStream
where
    F: FnOnce(tokio::sync::mpsc::Sender<Result<HealthCheckResponse, Status>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    tokio::spawn(produce(sender));
    Box::pin(tokio_stream::wrappers::ReceiverStream::new(receiver))
}
