import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Why the `openssl` CLI cannot be used, or undefined when it can. */
export function opensslUnavailable(): string | undefined {
  const probe = spawnSync('openssl', ['version'], { timeout: 5_000, encoding: 'utf8' });
  if (probe.error) return `the openssl CLI is not available (${probe.error.message})`;
  if (probe.status !== 0) return `\`openssl version\` exited with ${probe.status}: ${probe.stderr.trim()}`;
  return undefined;
}

export interface CertificateFiles {
  /** Path of the PEM certificate. */
  cert: string;
  /** Path of the PEM private key (unencrypted PKCS#8). */
  key: string;
}

export interface TestCertificates {
  dir: string;
  ca: CertificateFiles;
  /** For 127.0.0.1 and localhost (subjectAltName IP:127.0.0.1, DNS:localhost). */
  server: CertificateFiles;
  /** A client certificate (extendedKeyUsage clientAuth). */
  client: CertificateFiles;
  /** The files' contents, for client credentials. */
  pem: { ca: Buffer; server: Buffer; serverKey: Buffer; client: Buffer; clientKey: Buffer };
  /** Removes the directory and everything in it. */
  remove(): Promise<void>;
}

const openssl = (dir: string, args: string[]) => run('openssl', args, { cwd: dir, timeout: 10_000 });

/** A P-256 key pair and a certificate signing request. */
async function keyAndRequest(dir: string, name: string, subject: string): Promise<void> {
  await openssl(dir, [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    subject,
  ]);
}

async function signed(dir: string, name: string, serial: number, extensions: string): Promise<CertificateFiles> {
  await writeFile(join(dir, `${name}.ext`), extensions);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-set_serial',
    String(serial),
    '-days',
    '2',
    '-sha256',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.pem`,
  ]);
  return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
}

/**
 * A throwaway CA and a server and a client certificate it signed, in a fresh
 * temporary directory (call remove() when done). Needs the `openssl` CLI:
 * check opensslUnavailable() first.
 */
export async function createTestCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'larder-tls-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    await openssl(dir, [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-sha256',
      '-subj',
      '/CN=Larder test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    await keyAndRequest(dir, 'server', '/CN=localhost');
    const server = await signed(
      dir,
      'server',
      2,
      [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '',
      ].join('\n'),
    );
    await keyAndRequest(dir, 'client', '/CN=larder-test-client');
    const client = await signed(
      dir,
      'client',
      3,
      ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth', ''].join('\n'),
    );
    const ca = { cert: join(dir, 'ca.pem'), key: join(dir, 'ca.key') };
    return {
      dir,
      ca,
      server,
      client,
      pem: {
        ca: await readFile(ca.cert),
        server: await readFile(server.cert),
        serverKey: await readFile(server.key),
        client: await readFile(client.cert),
        clientKey: await readFile(client.key),
      },
      remove,
    };
  } catch (error) {
    await remove();
    throw error;
  }
}
