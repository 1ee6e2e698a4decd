// The real `diplomacy` binary on an ephemeral port over a temporary data
// dir, for the Node suites: started with `serve --ready-file` (the one
// readiness contract, rather than its log text) and stopped by SIGTERM.
'use strict';

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..', '..');
const binary = process.env.DIPLOMACY_BIN || path.join(root, 'target', 'debug', 'diplomacy');

// The server's ready file, once it is written by this process (a file
// naming another was left by one that was killed).
const waitForReadyFile = (file, child, timeoutMs = 60000) =>
  new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    let exited = null;
    child.on('exit', (code) => { exited = code; });
    const poll = () => {
      const ready = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null;
      if (ready && ready.pid === child.pid) return resolve(ready);
      if (exited !== null) return reject(new Error(`server exited with ${exited} before it was ready`));
      if (Date.now() > deadline) return reject(new Error(`server not ready within ${timeoutMs} ms`));
      setTimeout(poll, 20);
    };
    poll();
  });

// Starts a server; resolves to { address, stop }, where `stop` asserts a
// clean exit on SIGTERM and removes the data dir.
async function startServer(prefix) {
  assert.ok(fs.existsSync(binary), `${binary} not found: run \`cargo build\` first (tests/run.sh does)`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const readyFile = path.join(dataDir, 'ready.json');
  const child = spawn(binary, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--ready-file', readyFile], {
    env: { ...process.env, RUST_LOG: 'warn', DIPLOMACY_DRAIN_DELAY_SECS: '0' },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const ready = await waitForReadyFile(readyFile, child);
  const stop = async () => {
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    const code = await exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
    assert.equal(code, 0, 'the server stops cleanly on SIGTERM');
  };
  return { address: ready.grpc, stop };
}

module.exports = { root, startServer };
