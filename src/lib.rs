//! `diplomacy`: a gRPC service that answers typed, sourced, time-aware
//! questions about the relations between states.
//!
//! Data flows one way: wire → [`api`] (convert, validate) → [`domain`]
//! (decide) → [`store`] (persist) and back.
//!
//! No `unsafe` but in two documented places: `store::compact`'s
//! `renameat2` (no safe wrapper in std) and the unit tests' counting
//! allocator (`store::cache::heap_probe`).

#![deny(unsafe_code)]

pub mod api;
pub mod convert;
pub mod descriptors;
pub mod domain;
pub mod error;
pub mod ingest;
pub mod middleware;
pub mod records;
pub mod replica;
pub mod server;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
pub mod wire;

/// Generated protobuf and gRPC code. Do not edit: it comes from `proto/`.
pub mod pb {
    #![allow(clippy::all, clippy::pedantic, missing_docs)]
    pub mod google {
        pub mod r#type {
            tonic::include_proto!("google.r#type");
        }
    }
    pub mod diplomacy {
        pub mod v1 {
            tonic::include_proto!("diplomacy.v1");
        }
    }
    /// The etcd v3 client (a vendored subset of etcd's API, `proto/etcd/`)
    /// that the replicated mode (`replica`) speaks.
    pub mod etcd {
        pub mod mvccpb {
            tonic::include_proto!("mvccpb");
        }
        pub mod etcdserverpb {
            tonic::include_proto!("etcdserverpb");
        }
    }
    /// `RelationService`'s server code over `wire`'s types: a history
    /// entry is sent as it is stored.
    pub mod wire {
        include!(concat!(env!("OUT_DIR"), "/wire/diplomacy.v1.rs"));
    }
    /// The API's `FileDescriptorSet` (with imports and comments), for
    /// reflection and offline tooling.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/diplomacy_descriptor.bin"));
}
