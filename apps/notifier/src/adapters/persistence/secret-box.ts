import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** Opened secrets kept in memory: more than any deployment's subscriptions (each has at most two secrets in use). */
const OPENED_SECRETS_KEPT = 1024;

/**
 * Subscriber secrets are needed in clear to sign, so they are stored
 * encrypted (AES-256-GCM) under a key from configuration, never in clear.
 *
 * `open` keeps what it opened, by the sealed text: every webhook attempt signs with its subscription's
 * secret, and a decipher per attempt was 16 % of the attempts' time in a profile. Nothing more is exposed
 * than before — the process holds the key that opens every secret anyway — and a rotated secret is a new
 * sealed text. A sealed text that does not authenticate is never kept, so it fails every time.
 */
export class SecretBox {
  private readonly key: Buffer;
  private readonly opened = new Map<string, string>();
  constructor(keyMaterial: string) {
    this.key = createHash('sha256').update(`clinmesh-notifier-secrets:${keyMaterial}`).digest();
  }
  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `v1.${iv.toString('base64')}.${cipher.getAuthTag().toString('base64')}.${data.toString('base64')}`;
  }
  open(sealed: string): string {
    const known = this.opened.get(sealed);
    if (known !== undefined) return known;
    const plain = this.decrypt(sealed);
    if (this.opened.size >= OPENED_SECRETS_KEPT) this.opened.clear();
    this.opened.set(sealed, plain);
    return plain;
  }

  private decrypt(sealed: string): string {
    const [v, iv, tag, data] = sealed.split('.');
    if (v !== 'v1') throw new Error('unknown secret format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  }
}
