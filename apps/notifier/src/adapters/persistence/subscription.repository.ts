import { DataSource } from 'typeorm';
import { Subscription, SubscriptionFilter } from '../../domain/subscription';
import { SecretBox } from './secret-box';

/** Subscriptions, with an in-memory snapshot for the hot fan-out path (refreshed on change and every 2 s). */
export class SubscriptionRepository {
  private snapshot: Subscription[] = [];
  private loadedAt = 0;

  constructor(private readonly db: DataSource, private readonly secrets: SecretBox) {}

  async create(id: string, input: { name: string; url: string; secret: string; filter: SubscriptionFilter }, createdBy: string): Promise<Subscription> {
    const rows = await this.db.query(
      `WITH i AS (INSERT INTO nf_subscription (id, name, url, secret_sealed, filter, created_by) VALUES ($1,$2,$3,$4,$5::jsonb,$6)
         RETURNING id, name, url, filter, active, created_at) SELECT * FROM i`,
      [id, input.name, input.url, this.secrets.seal(input.secret), JSON.stringify(input.filter), createdBy],
    );
    this.loadedAt = 0;
    return toSubscription(rows[0]);
  }

  async list(): Promise<Subscription[]> {
    const rows = await this.db.query('SELECT id, name, url, filter, active, created_at FROM nf_subscription ORDER BY created_at');
    return rows.map(toSubscription);
  }

  async deactivate(id: string): Promise<boolean> {
    const res = await this.db.query('WITH u AS (UPDATE nf_subscription SET active = false WHERE id = $1 RETURNING id) SELECT id FROM u', [id]);
    this.loadedAt = 0;
    return res.length > 0;
  }

  async active(): Promise<Subscription[]> {
    if (Date.now() - this.loadedAt > 2000) {
      this.snapshot = (await this.list()).filter((s) => s.active);
      this.loadedAt = Date.now();
    }
    return this.snapshot;
  }

  async secretOf(id: string): Promise<string> {
    const rows = await this.db.query('SELECT secret_sealed FROM nf_subscription WHERE id = $1', [id]);
    return this.secrets.open(rows[0].secret_sealed);
  }
}

function toSubscription(r: Record<string, unknown>): Subscription {
  return { id: r.id as string, name: r.name as string, url: r.url as string, filter: r.filter as SubscriptionFilter, active: Boolean(r.active), createdAt: new Date(r.created_at as string).toISOString() };
}
