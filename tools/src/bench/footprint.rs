//! sled's own footprint for a data dir: the resident memory of a process
//! that opens the database with the server's page cache and nothing else,
//! which the bench sets the server's memory against (#30).

use std::path::Path;
use std::process::Command;

use diplomacy::store::SledKv;

use super::memory_kib;

/// Opens the database and prints `resident KIB peak KIB` (`sled-footprint`).
pub fn print(data_dir: &Path, cache_mb: u64) -> Result<(), String> {
    let kv = SledKv::open(data_dir, cache_mb << 20).map_err(|e| e.to_string())?;
    let (resident, peak) = (memory_kib("self", "VmRSS:"), memory_kib("self", "VmHWM:"));
    drop(kv);
    match (resident, peak) {
        (Some(resident), Some(peak)) => {
            println!("resident {resident} KiB peak {peak} KiB");
            Ok(())
        }
        _ => Err("no VmRSS in /proc/self/status (Linux only)".into()),
    }
}

/// sled's memory for a data dir, in KiB: resident right after its open, and
/// the peak during it.
pub struct Footprint {
    pub resident: u64,
    pub peak: u64,
}

/// Runs `sled-footprint` in a process of its own (this binary) on
/// `data_dir`. Right after the open the allocator may still hold what
/// sled's recovery freed (a busy process hands it back; an idle one keeps
/// it), so the peak is the steadier figure to set a server against.
pub fn measure(data_dir: &Path, cache_mb: u64) -> Result<Footprint, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(exe)
        .arg("sled-footprint")
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--cache-mb")
        .arg(cache_mb.to_string())
        .output()
        .map_err(|e| format!("cannot run sled-footprint: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "sled-footprint failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    match words[..] {
        ["resident", resident, "KiB", "peak", peak, "KiB"] => Ok(Footprint {
            resident: resident.parse().map_err(|e| format!("{text:?}: {e}"))?,
            peak: peak.parse().map_err(|e| format!("{text:?}: {e}"))?,
        }),
        _ => Err(format!("sled-footprint printed {text:?}")),
    }
}
