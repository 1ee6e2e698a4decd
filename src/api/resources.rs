//! The standard methods (AIP-131 to 135), written once for every record type:
//! each service file only says which request field goes where.

use prost_types::FieldMask;

use super::mask::apply_mask;
use super::page;
use crate::convert::now_timestamp;
use crate::domain::names::{is_valid_record_id, parse_record_name};
use crate::domain::{Collection, CountryCode};
use crate::error::{Error, Result};
use crate::records::{meta, normalize, validate_record, without_store_meta, Record, Resource};
use crate::store::{Outcome, Store, WriteOp};

/// The id part of `name` for collection `R`, or INVALID_ARGUMENT on `field`.
pub fn parse_name<R: Resource>(name: &str, field: &str) -> Result<String> {
    match parse_record_name(name) {
        Some((collection, id)) if collection == R::COLLECTION => Ok(id.to_string()),
        _ => Err(Error::invalid(
            field,
            format!(
                "{:?} is not a valid name: expected {}",
                short(name),
                name_pattern(R::COLLECTION)
            ),
        )),
    }
}

fn name_pattern(collection: Collection) -> &'static str {
    match collection {
        Collection::Countries => "`countries/{id}` with an upper-case ISO 3166-1 alpha-2 code (`TR`), an ISO 3166-3 code (`CSHH`), or a lower-case id with a hyphen (`cow-han`)",
        Collection::Treaties => "`treaties/{id}`, id of lower-case letters, digits and hyphens",
        Collection::Meetings => "`meetings/{id}`, id of lower-case letters, digits and hyphens",
        Collection::Events => "`events/{id}`, id of lower-case letters, digits and hyphens",
        Collection::Actors => "`actors/{id}`, id of lower-case letters, digits and hyphens",
    }
}

/// Keeps hostile megabyte strings out of error messages.
pub fn short(s: &str) -> String {
    match s.char_indices().nth(64) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// An optional country filter (`countries/TR`) that must name a country.
pub fn country_filter(store: &Store, value: &str, field: &str) -> Result<Option<CountryCode>> {
    if value.is_empty() {
        return Ok(None);
    }
    existing_country(store, value, field).map(Some)
}

/// A country name that must be well-formed and exist (INVALID_ARGUMENT
/// otherwise: queries about unknown countries are bad requests).
pub fn existing_country(store: &Store, name: &str, field: &str) -> Result<CountryCode> {
    let code = CountryCode::from_name(name).ok_or_else(|| {
        Error::invalid(
            field,
            format!(
                "{:?} is not a country name such as `countries/TR`",
                short(name)
            ),
        )
    })?;
    ensure_known(store, code, field)?;
    Ok(code)
}

pub fn ensure_known(store: &Store, code: CountryCode, field: &str) -> Result<()> {
    if !store.country_exists(code) {
        return Err(Error::invalid(
            field,
            format!("unknown country code {code}"),
        ));
    }
    Ok(())
}

pub fn get<R: Resource>(store: &Store, name: &str) -> Result<R> {
    let id = parse_name::<R>(name, "name")?;
    store
        .get(R::COLLECTION, &id)?
        .and_then(R::from_record)
        .ok_or_else(|| Error::not_found(name))
}

pub async fn create<R: Resource>(store: &Store, resource: Option<R>, id: &str) -> Result<R> {
    let mut resource = resource.ok_or_else(|| Error::invalid(R::FIELD, "is required"))?;
    let id = if id.is_empty() && R::COLLECTION != Collection::Countries {
        format!(
            "{}-{}",
            &R::COLLECTION.as_str()[..1],
            uuid::Uuid::new_v4().simple()
        )
    } else {
        id.to_string()
    };
    let id_field = format!("{}_id", R::FIELD);
    let valid_id = match R::COLLECTION {
        Collection::Countries => CountryCode::parse(&id).is_some(),
        _ => is_valid_record_id(&id),
    };
    if !valid_id {
        return Err(Error::invalid(
            id_field,
            format!(
                "{:?} is not a valid id: expected {}",
                short(&id),
                name_pattern(R::COLLECTION)
            ),
        ));
    }
    let name = format!("{}/{id}", R::COLLECTION.as_str());
    resource.set_name(name.clone());
    let now = now_timestamp();
    resource.set_times(Some(now), Some(now));
    let mut record = without_store_meta(resource.into_record());
    normalize(&mut record);
    let violations = validate_record(&record, R::FIELD);
    if !violations.is_empty() {
        return Err(Error::InvalidArgument(violations));
    }
    let compute_name = name.clone();
    let outcome = store
        .write_one(WriteOp {
            revision: None,
            collection: R::COLLECTION,
            id,
            compute: Box::new(move |old| match old {
                Some(_) => Err(Error::AlreadyExists {
                    resource: compute_name.clone(),
                }),
                None => Ok(Some(record.clone())),
            }),
        })
        .await?;
    resource_of(outcome, &name)
}

fn resource_of<R: Resource>(outcome: Outcome, name: &str) -> Result<R> {
    match outcome {
        Outcome::Created(r) | Outcome::Updated(r) | Outcome::Unchanged(r) => {
            R::from_record(r).ok_or_else(|| Error::DataLoss(format!("{name} has the wrong kind")))
        }
        Outcome::Deleted(_) | Outcome::Absent => Err(Error::not_found(name)),
    }
}

/// Fails with ABORTED when the client sent an etag that is not the stored one.
fn check_etag(name: &str, given: &str, stored: &Record) -> Result<()> {
    let mut stored = stored.clone();
    let current = meta(&mut stored).etag.clone();
    if given.is_empty() || given == current {
        Ok(())
    } else {
        Err(Error::Aborted {
            resource: name.to_string(),
            given: short(given),
            current,
        })
    }
}

pub async fn update<R: Resource>(
    store: &Store,
    patch: Option<R>,
    mask: Option<&FieldMask>,
) -> Result<R> {
    let mut patch = patch.ok_or_else(|| Error::invalid(R::FIELD, "is required"))?;
    let name = patch.name().to_string();
    let id = parse_name::<R>(&name, &format!("{}.name", R::FIELD))?;
    let given_etag = std::mem::take(patch.meta().etag);
    let mask = mask.cloned();
    let compute_name = name.clone();
    let outcome = store
        .write_one(WriteOp {
            revision: None,
            collection: R::COLLECTION,
            id,
            compute: Box::new(move |old| {
                let old = old.ok_or_else(|| Error::not_found(&compute_name))?;
                check_etag(&compute_name, &given_etag, old)?;
                let stored =
                    R::from_record(old.clone()).ok_or_else(|| Error::not_found(&compute_name))?;
                let mut merged =
                    apply_mask(&stored, &patch, mask.as_ref()).map_err(Error::InvalidArgument)?;
                merged.set_name(compute_name.clone());
                merged.set_times(stored.create_time().cloned(), Some(now_timestamp()));
                let mut record = merged.into_record();
                normalize(&mut record);
                let violations = validate_record(&record, R::FIELD);
                if !violations.is_empty() {
                    return Err(Error::InvalidArgument(violations));
                }
                Ok(Some(record))
            }),
        })
        .await?;
    resource_of(outcome, &name)
}

pub async fn delete<R: Resource>(store: &Store, name: &str, etag: &str) -> Result<()> {
    let id = parse_name::<R>(name, "name")?;
    let compute_name = name.to_string();
    let etag = etag.to_string();
    let outcome = store
        .write_one(WriteOp {
            revision: None,
            collection: R::COLLECTION,
            id,
            compute: Box::new(move |old| match old {
                Some(old) => {
                    check_etag(&compute_name, &etag, old)?;
                    Ok(None)
                }
                None => Err(Error::not_found(&compute_name)),
            }),
        })
        .await?;
    match outcome {
        Outcome::Deleted(_) => Ok(()),
        _ => Err(Error::not_found(name)),
    }
}

/// One page of a collection: `principal` restricts it to records where that
/// country has a principal role, `keep` filters further, `query` identifies
/// the filter for the page token.
pub fn list<R: Resource>(
    store: &Store,
    page_size: i32,
    page_token: &str,
    principal: Option<CountryCode>,
    query: &[&[u8]],
    keep: impl Fn(&R) -> bool,
) -> Result<(Vec<R>, String)> {
    let limit = page::page_size(page_size).map_err(|v| Error::InvalidArgument(vec![v]))?;
    let fingerprint = page::fingerprint(query);
    let after = page::decode_token(page_token, fingerprint)
        .map_err(|v| Error::InvalidArgument(vec![v]))?
        .map(page::position_text)
        .transpose()?;
    let keep_record = |record: &Record| R::from_record(record.clone()).is_some_and(|r| keep(&r));
    let (records, more) = store.list(
        R::COLLECTION,
        principal,
        after.as_deref(),
        limit,
        keep_record,
    )?;
    let resources: Vec<R> = records.into_iter().filter_map(R::from_record).collect();
    let next = match resources.last() {
        Some(last) if more => {
            let id = last.name().rsplit('/').next().unwrap_or_default();
            page::encode_token(fingerprint, id.as_bytes())
        }
        _ => String::new(),
    };
    Ok((resources, next))
}
