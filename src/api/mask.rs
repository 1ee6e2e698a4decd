//! `FieldMask` updates (AIP-134), done once for every resource type through
//! reflection on the API's own descriptors.

use prost_reflect::{DynamicMessage, MessageDescriptor, ReflectMessage, Value};
use prost_types::FieldMask;

use crate::descriptors::api_pool;
use crate::error::FieldViolation;
use crate::records::Resource;

/// Fields no update may change.
const IMMUTABLE: &[&str] = &["name", "create_time", "update_time", "revision", "etag"];

fn descriptor<R: Resource>() -> MessageDescriptor {
    api_pool()
        .get_message_by_name(R::MESSAGE)
        .expect("every resource message is in the descriptor set")
}

/// `stored` with the fields named by `mask` taken from `patch`. An empty mask
/// takes every field but the immutable ones. Paths may be nested
/// (`place.city`).
pub fn apply_mask<R: Resource>(
    stored: &R,
    patch: &R,
    mask: Option<&FieldMask>,
) -> Result<R, Vec<FieldViolation>> {
    let desc = descriptor::<R>();
    let decode = |msg: &R| DynamicMessage::decode(desc.clone(), msg.encode_to_vec().as_slice());
    let (Ok(mut target), Ok(source)) = (decode(stored), decode(patch)) else {
        return Err(vec![FieldViolation::new(R::FIELD, "cannot be read")]);
    };
    let paths: Vec<String> = match mask {
        Some(mask) if !mask.paths.is_empty() => mask.paths.clone(),
        _ => desc
            .fields()
            .map(|f| f.name().to_string())
            .filter(|name| !IMMUTABLE.contains(&name.as_str()))
            .collect(),
    };
    let mut violations = Vec::new();
    for path in &paths {
        let parts: Vec<&str> = path.split('.').collect();
        if IMMUTABLE.contains(&parts[0]) {
            violations.push(FieldViolation::new(
                "update_mask",
                format!("{path:?} cannot be changed"),
            ));
            continue;
        }
        if let Err(why) = copy_path(&mut target, &source, &parts) {
            violations.push(FieldViolation::new(
                "update_mask",
                format!("{path:?}: {why}"),
            ));
        }
    }
    if !violations.is_empty() {
        return Err(violations);
    }
    target
        .transcode_to::<R>()
        .map_err(|_| vec![FieldViolation::new(R::FIELD, "cannot be encoded")])
}

fn copy_path(
    target: &mut DynamicMessage,
    source: &DynamicMessage,
    path: &[&str],
) -> Result<(), String> {
    let Some((first, rest)) = path.split_first() else {
        return Err("empty path".into());
    };
    let field = target
        .descriptor()
        .get_field_by_name(first)
        .ok_or_else(|| format!("no field {first:?} in {}", target.descriptor().name()))?;
    if rest.is_empty() {
        if source.has_field(&field) {
            target.set_field(&field, source.get_field(&field).into_owned());
        } else {
            target.clear_field(&field);
        }
        return Ok(());
    }
    if field.is_list() || field.is_map() || field.kind().as_message().is_none() {
        return Err(format!("{first:?} has no sub-fields"));
    }
    let source_child = match source.get_field(&field).as_message() {
        Some(m) => m.clone(),
        None => return Err(format!("{first:?} is not a message")),
    };
    match target.get_field_mut(&field) {
        Value::Message(child) => copy_path(child, &source_child, rest),
        _ => Err(format!("{first:?} is not a message")),
    }
}
