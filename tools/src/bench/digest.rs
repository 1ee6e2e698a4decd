//! What the load generator reads of an answer (the partial readers of
//! `diplomacy::wire::partial`): enough to check that it answers the
//! question asked, and no more.
//!
//! The load generator shares the machine's two cores with the server, so
//! every microsecond it spends is charged to the scenario's ratio. Decoding
//! a relation's hundred listed treaties and sources into strings it then
//! dropped cost it about twice the health check's CPU a call, whose answer
//! is two bytes. The readers keep a few fields and skip the rest. The answers are those of the same calls; only this reading of
//! them is smaller.

use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;
use tonic::{Request, Status};

pub use diplomacy::wire::partial::{HistoryEntries, RelationName, RelationNames};

/// One unary call to `path`, its answer decoded as `Answer`.
pub async fn call<Req, Answer>(
    channel: &Channel,
    path: &'static str,
    request: Req,
) -> Result<Answer, Status>
where
    Req: prost::Message + Send + Sync + 'static,
    Answer: prost::Message + Default + Send + Sync + 'static,
{
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(format!("the channel is not ready: {e}")))?;
    let codec = tonic_prost::ProstCodec::<Req, Answer>::default();
    grpc.unary(
        Request::new(request),
        PathAndQuery::from_static(path),
        codec,
    )
    .await
    .map(tonic::Response::into_inner)
}

/// One call's worth, if `relation` is the relation named `asked`.
pub fn relation_is_for(relation: &RelationName, asked: &str) -> Result<u64, Status> {
    if relation.name == asked {
        Ok(1)
    } else {
        Err(Status::data_loss(format!(
            "asked for {asked}, answered {}",
            relation.name
        )))
    }
}

/// How many relations `page` holds, if every one is of `parent`.
pub fn relations_all_of(page: &RelationNames, parent: &str) -> Result<u64, Status> {
    let prefix = format!("{parent}/relations/");
    match page.relations.iter().find(|r| !r.name.starts_with(&prefix)) {
        None => Ok(page.relations.len() as u64),
        Some(other) => Err(Status::data_loss(format!(
            "{} answered in a list of {parent}'s relations",
            other.name
        ))),
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use diplomacy::pb::diplomacy::v1 as pb;

    #[test]
    fn a_relation_is_checked_by_its_name_and_a_page_by_its_parent() {
        let relation = |name: &str| pb::Relation {
            name: name.into(),
            treaties_in_force: vec![pb::TreatySummary {
                name: "treaties/t".into(),
                ..Default::default()
            }],
            source_records: vec!["treaties/t".into()],
            ..Default::default()
        };
        let asked = "countries/AM/relations/TR";
        let read = RelationName::decode(relation(asked).encode_to_vec().as_slice()).expect("reads");
        assert_eq!(relation_is_for(&read, asked).expect("the asked pair"), 1);
        assert!(relation_is_for(&read, "countries/AM/relations/AZ").is_err());

        let page = pb::ListRelationsResponse {
            relations: vec![relation(asked), relation("countries/AM/relations/AZ")],
            next_page_token: "next".into(),
        };
        let read = RelationNames::decode(page.encode_to_vec().as_slice()).expect("reads");
        assert_eq!(
            relations_all_of(&read, "countries/AM").expect("all of AM"),
            2
        );
        assert!(relations_all_of(&read, "countries/AZ").is_err());
    }

    #[test]
    fn history_entries_are_counted_and_a_cut_answer_still_fails() {
        let page = pb::ListHistoryResponse {
            entries: vec![
                pb::HistoryEntry::default(),
                pb::HistoryEntry {
                    record: "meetings/m".into(),
                    title: "Talks".into(),
                    ..Default::default()
                },
            ],
            next_page_token: String::new(),
        }
        .encode_to_vec();
        let read = HistoryEntries::decode(page.as_slice()).expect("reads");
        assert_eq!(read.entries.len(), 2);
        assert!(HistoryEntries::decode(&page[..page.len() - 1]).is_err());
    }
}
