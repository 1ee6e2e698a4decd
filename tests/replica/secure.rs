//! A replica of a secured etcd: client TLS with client certificates, and
//! etcd's own users and passwords. A wrong password or certificate stops
//! the replica with a message naming etcd and what it refused.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diplomacy::pb::diplomacy::v1::*;

use crate::harness::{etcd_binary, free_port, Replica, ReplicaSpec};

/// PEM files of two CAs (the second one etcd does not trust), a server
/// certificate for `localhost` and a client certificate.
struct Certificates {
    ca: PathBuf,
    stranger_ca: PathBuf,
    server: PathBuf,
    server_key: PathBuf,
    client: PathBuf,
    client_key: PathBuf,
    stranger: PathBuf,
    stranger_key: PathBuf,
}

fn authority() -> (rcgen::Certificate, rcgen::Issuer<'static, rcgen::KeyPair>) {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let certificate = params.clone().self_signed(&key).expect("CA");
    (certificate, rcgen::Issuer::new(params, key))
}

fn certificates(dir: &Path) -> Certificates {
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write a PEM file");
        path
    };
    let (ca, issuer) = authority();
    let (stranger_ca, stranger_issuer) = authority();
    let server_key = rcgen::KeyPair::generate().expect("key");
    let server = rcgen::CertificateParams::new(vec!["localhost".into()])
        .expect("params")
        .signed_by(&server_key, &issuer)
        .expect("server certificate");
    let client_key = rcgen::KeyPair::generate().expect("key");
    let client = rcgen::CertificateParams::new(vec!["diplomacy".into()])
        .expect("params")
        .signed_by(&client_key, &issuer)
        .expect("client certificate");
    let stranger_key = rcgen::KeyPair::generate().expect("key");
    let stranger = rcgen::CertificateParams::new(vec!["stranger".into()])
        .expect("params")
        .signed_by(&stranger_key, &stranger_issuer)
        .expect("stranger certificate");
    Certificates {
        ca: write("ca.pem", ca.pem()),
        stranger_ca: write("stranger-ca.pem", stranger_ca.pem()),
        server: write("server.pem", server.pem()),
        server_key: write("server.key", server_key.serialize_pem()),
        client: write("client.pem", client.pem()),
        client_key: write("client.key", client_key.serialize_pem()),
        stranger: write("stranger.pem", stranger.pem()),
        stranger_key: write("stranger.key", stranger_key.serialize_pem()),
    }
}

/// `etcdctl` (Debian's `etcd-client`), for what the replica never does:
/// adding users and roles, and turning authentication on.
fn etcdctl() -> PathBuf {
    let path = std::env::var_os("ETCDCTL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/etcdctl"));
    assert!(
        path.exists(),
        "etcdctl is required for the secured etcd test: apt-get install etcd-client (as root), or set ETCDCTL"
    );
    path
}

struct SecureEtcd {
    child: Child,
    endpoint: String,
}

impl Drop for SecureEtcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SecureEtcd {
    /// One member serving clients over TLS only, requiring a client
    /// certificate its CA signed, with authentication on: `root` and
    /// `diplomacy` (read-write on `/diplomacy/` only).
    fn start(dir: &Path, certs: &Certificates) -> Self {
        let client = free_port();
        let peer = free_port();
        let endpoint = format!("https://localhost:{client}");
        let log = std::fs::File::create(dir.join("etcd.log")).expect("etcd log");
        let child = Command::new(etcd_binary())
            .args(["--name", "secure", "--data-dir"])
            .arg(dir.join("etcd"))
            .arg("--listen-client-urls")
            .arg(format!("https://127.0.0.1:{client}"))
            .arg("--advertise-client-urls")
            .arg(&endpoint)
            .arg("--listen-peer-urls")
            .arg(format!("http://127.0.0.1:{peer}"))
            .arg("--initial-advertise-peer-urls")
            .arg(format!("http://127.0.0.1:{peer}"))
            .arg("--initial-cluster")
            .arg(format!("secure=http://127.0.0.1:{peer}"))
            .arg("--cert-file")
            .arg(&certs.server)
            .arg("--key-file")
            .arg(&certs.server_key)
            .arg("--trusted-ca-file")
            .arg(&certs.ca)
            .arg("--client-cert-auth")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start etcd");
        let etcd = Self { child, endpoint };
        etcd.wait_answering(certs);
        for args in [
            &["user", "add", "root:root-password"][..],
            &["user", "add", "diplomacy:the-secret"],
            &["role", "add", "diplomacy"],
            &[
                "role",
                "grant-permission",
                "diplomacy",
                "--prefix=true",
                "readwrite",
                "/diplomacy/",
            ],
            &["user", "grant-role", "diplomacy", "diplomacy"],
            &["auth", "enable"],
        ] {
            etcd.ctl(certs, args, None);
        }
        etcd
    }

    /// `etcdctl` on this member, as the client certificate's holder.
    fn command(&self, certs: &Certificates) -> Command {
        let mut command = Command::new(etcdctl());
        command
            .env("ETCDCTL_API", "3")
            .arg("--endpoints")
            .arg(&self.endpoint)
            .arg("--cacert")
            .arg(&certs.ca)
            .arg("--cert")
            .arg(&certs.client)
            .arg("--key")
            .arg(&certs.client_key);
        command
    }

    fn ctl(&self, certs: &Certificates, args: &[&str], user: Option<&str>) -> std::process::Output {
        let mut command = self.command(certs);
        if let Some(user) = user {
            command.arg("--user").arg(user);
        }
        let output = command.args(args).output().expect("etcdctl");
        assert!(
            output.status.success(),
            "etcdctl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn wait_answering(&self, certs: &Certificates) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let health = self
                .command(certs)
                .args(["endpoint", "health"])
                .output()
                .expect("etcdctl");
            if health.status.success() {
                return;
            }
            assert!(Instant::now() < deadline, "the secured etcd never answered");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn secret(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write the password file");
    path.display().to_string()
}

/// A replica's flags for etcd over TLS with client certificate `cert`, as
/// the user `diplomacy` when a password file is given.
fn etcd_flags<'a>(
    ca: &'a str,
    cert: &'a str,
    key: &'a str,
    password_file: Option<&'a str>,
) -> Vec<&'a str> {
    let mut flags = vec!["--etcd-ca", ca, "--etcd-cert", cert, "--etcd-key", key];
    if let Some(file) = password_file {
        flags.extend(["--etcd-user", "diplomacy", "--etcd-password-file", file]);
    }
    flags
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_of_an_etcd_with_tls_and_users_writes_and_a_wrong_secret_is_refused_by_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    let certs = certificates(dir.path());
    let etcd = SecureEtcd::start(dir.path(), &certs);
    let path = |p: &PathBuf| p.display().to_string();
    let right_password = secret(dir.path(), "password", "the-secret\n");
    let wrong_password = secret(dir.path(), "wrong-password", "guess");
    let (ca, cert, key) = (
        path(&certs.ca),
        path(&certs.client),
        path(&certs.client_key),
    );
    let stranger_ca = path(&certs.stranger_ca);
    let (stranger, stranger_key) = (path(&certs.stranger), path(&certs.stranger_key));

    // All right: TLS with a client certificate, the diplomacy user.
    let secured = etcd_flags(&ca, &cert, &key, Some(&right_password));
    let replica = Replica::start(ReplicaSpec {
        endpoints: &etcd.endpoint,
        data_dir: &dir.path().join("r0"),
        extra: &secured,
    })
    .await;
    let client = replica.client().await;
    client
        .treaties()
        .create_treaty(CreateTreatyRequest {
            treaty_id: "secured".into(),
            treaty: Some(Treaty {
                title: "Written through a secured etcd".into(),
                kind: TreatyKind::Trade as i32,
                status: TreatyStatus::InForce as i32,
                signed_date: Some(diplomacy::pb::google::r#type::Date {
                    year: 2001,
                    month: 2,
                    day: 3,
                }),
                parties: ["countries/FR", "countries/DE"]
                    .map(|c| TreatyParty {
                        country: c.into(),
                        ..Default::default()
                    })
                    .to_vec(),
                sources: vec![Source {
                    title: "secure test".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
        })
        .await
        .expect("a write through TLS and a user");
    let stored = etcd.ctl(
        &certs,
        &["get", "--keys-only", "/diplomacy/records/treaties/secured"],
        Some("root:root-password"),
    );
    assert!(String::from_utf8_lossy(&stored.stdout).contains("/diplomacy/records/treaties/secured"));
    drop(replica);

    // Each wrong secret: the replica stops, naming etcd and what it refused.
    let cases: [(&str, Vec<&str>, &[&str]); 4] = [
        (
            "a wrong password",
            etcd_flags(&ca, &cert, &key, Some(&wrong_password)),
            &[
                "etcd at https://localhost",
                "refused the user diplomacy",
                "authentication failed",
            ],
        ),
        (
            "no password at all",
            etcd_flags(&ca, &cert, &key, None),
            &["etcd refused this replica", "etcd at https://localhost"],
        ),
        (
            "a CA that did not sign etcd's certificate",
            etcd_flags(&stranger_ca, &cert, &key, Some(&right_password)),
            &["etcd at https://localhost", "certificate"],
        ),
        (
            "a client certificate etcd's CA did not sign",
            etcd_flags(&ca, &stranger, &stranger_key, Some(&right_password)),
            &["etcd at https://localhost"],
        ),
    ];
    for (i, (what, extra, expected)) in cases.iter().enumerate() {
        let started = Replica::spawn(&ReplicaSpec {
            endpoints: &etcd.endpoint,
            data_dir: &dir.path().join(format!("refused-{i}")),
            extra,
        });
        let error = started
            .err()
            .unwrap_or_else(|| panic!("{what}: the replica started"));
        assert!(error.contains("exited (exit status: 1)"), "{what}: {error}");
        for part in expected.iter() {
            assert!(error.contains(part), "{what}: no `{part}` in\n{error}");
        }
    }
}
