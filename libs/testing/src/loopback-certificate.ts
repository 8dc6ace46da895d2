import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway self-signed certificate for 127.0.0.1 and localhost, issued with Debian's openssl
 * (installed by tools/setup.sh): an https endpoint for tests that must see TLS. A service trusts it
 * through `NODE_EXTRA_CA_CERTS=<certFile>` in its environment — nothing is added to the system store.
 * `dispose()` removes the key and certificate files (call it once the service that reads them has stopped).
 */
export function loopbackCertificate(): { key: string; cert: string; certFile: string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'clinmesh-tls-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' });
  return {
    key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
