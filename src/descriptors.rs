//! The API's descriptors, decoded once, in the one place that field masks,
//! JSON Lines, metrics and reflection share.

use std::sync::LazyLock;

use prost_reflect::DescriptorPool;

/// The API's `FileDescriptorSet` (with imports and comments), compiled in.
pub const FILE_DESCRIPTOR_SET: &[u8] = crate::pb::FILE_DESCRIPTOR_SET;

/// Every descriptor set the server serves: the API, health, rich error
/// details, and both reflection versions (each lists itself).
pub const SERVED_DESCRIPTOR_SETS: [&[u8]; 5] = [
    FILE_DESCRIPTOR_SET,
    tonic_health::pb::FILE_DESCRIPTOR_SET,
    tonic_types::pb::FILE_DESCRIPTOR_SET,
    tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
    tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
];

static API: LazyLock<DescriptorPool> = LazyLock::new(|| {
    DescriptorPool::decode(FILE_DESCRIPTOR_SET)
        .expect("the descriptor set compiled into the binary is valid")
});

static SERVED: LazyLock<DescriptorPool> = LazyLock::new(|| {
    let mut pool = DescriptorPool::new();
    for set in SERVED_DESCRIPTOR_SETS {
        // A set that repeats a file another already added (the well-known
        // types) is the same file: keep the first.
        let _ = pool.decode_file_descriptor_set(set);
    }
    pool
});

/// The API's own messages and services (`diplomacy.v1`, `google.type`).
pub fn api_pool() -> &'static DescriptorPool {
    &API
}

/// Everything the server serves, for per-method facts such as a method's
/// streaming type.
pub fn served_pool() -> &'static DescriptorPool {
    &SERVED
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_service_is_in_the_served_pool() {
        let names: Vec<String> = served_pool()
            .services()
            .map(|s| s.full_name().to_string())
            .collect();
        for service in crate::server::SERVICE_NAMES.iter().chain(&[
            "grpc.health.v1.Health",
            "grpc.reflection.v1alpha.ServerReflection",
        ]) {
            assert!(names.iter().any(|n| n == service), "{service} in {names:?}");
        }
        assert!(api_pool()
            .get_message_by_name("diplomacy.v1.Record")
            .is_some());
    }
}
