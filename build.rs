//! Compiles `proto/` with the pure-Rust `protox` compiler (no system `protoc`
//! needed), generates the tonic/prost code, and writes the descriptor set that
//! server reflection and offline tooling use.

use std::path::PathBuf;

const PROTO_ROOT: &str = "proto";
const API_FILES: &[&str] = &[
    "proto/diplomacy/v1/common.proto",
    "proto/diplomacy/v1/country.proto",
    "proto/diplomacy/v1/actor.proto",
    "proto/diplomacy/v1/treaty.proto",
    "proto/diplomacy/v1/meeting.proto",
    "proto/diplomacy/v1/event.proto",
    "proto/diplomacy/v1/relation.proto",
    "proto/diplomacy/v1/record.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed={PROTO_ROOT}");
    let mut compiler = protox::Compiler::new([PROTO_ROOT])?;
    compiler
        .include_imports(true)
        .include_source_info(true)
        .open_files(API_FILES)?;
    let fds = compiler.file_descriptor_set();

    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let descriptor_path = out_dir.join("diplomacy_descriptor.bin");
    // Encoded by the compiler, not from `fds`: prost's descriptor types drop
    // the custom options (`google.api.http`) that the HTTP/JSON mapping and
    // other tools read from the served descriptors.
    std::fs::write(&descriptor_path, compiler.encode_file_descriptor_set())?;

    tonic_prost_build::configure()
        .emit_rerun_if_changed(false)
        .compile_fds(fds.clone())?;

    // The server side of the relation and history calls again, over the
    // messages above, except that history entries and a relation's listed
    // treaties and conflicts are the stored bytes, sent as they are
    // (`src/wire/`): decoding them only to encode them again was a
    // fifth of a history page's server time, a sixth of a relation's.
    let wire_dir = out_dir.join("wire");
    std::fs::create_dir_all(&wire_dir)?;
    // Only the file that declares RelationService: every message is extern,
    // so nothing else would be generated but unused servers.
    let mut relation_only = fds;
    relation_only
        .file
        .retain(|f| f.name() == "diplomacy/v1/relation.proto");
    tonic_prost_build::configure()
        .emit_rerun_if_changed(false)
        .build_client(false)
        .out_dir(&wire_dir)
        .extern_path(".google.type", "crate::pb::google::r#type")
        .extern_path(".diplomacy.v1", "crate::pb::diplomacy::v1")
        .extern_path(".diplomacy.v1.HistoryEntry", "crate::wire::RawMessage")
        .extern_path(
            ".diplomacy.v1.ListHistoryResponse",
            "crate::wire::ListHistoryResponse",
        )
        .extern_path(".diplomacy.v1.Relation", "crate::wire::Relation")
        .extern_path(
            ".diplomacy.v1.ListRelationsResponse",
            "crate::wire::ListRelationsResponse",
        )
        .compile_fds(relation_only)?;

    compile_etcd_client()?;
    Ok(())
}

/// The etcd v3 client the replicated mode uses (`src/replica/`), from the
/// vendored subset of etcd's own API protos: clients only, and kept out of
/// the descriptor set our reflection serves.
fn compile_etcd_client() -> Result<(), Box<dyn std::error::Error>> {
    let fds = protox::compile(["proto/etcd/etcdserverpb/rpc.proto"], [PROTO_ROOT])?;
    tonic_prost_build::configure()
        .emit_rerun_if_changed(false)
        .build_server(false)
        .compile_fds(fds)?;
    Ok(())
}
