import { connect as tcpConnect } from 'node:net';
import pg from 'pg';
import { withDatabase } from '#libs/db/admin.js';

/**
 * Checks that PostgreSQL and NATS answer before anything starts, and says
 * exactly what is missing and how to start it, instead of a stack trace.
 */
export async function preflight(databaseUrl: string, natsUrl: string): Promise<string[]> {
  const problems: string[] = [];
  const client = new pg.Client({ connectionString: withDatabase(databaseUrl, 'postgres'), connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
  } catch (error) {
    const where = new URL(databaseUrl);
    problems.push(
      `PostgreSQL does not answer at ${where.hostname}:${where.port || 5432} (${(error as Error).message}).\n` +
        `  Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n` +
        `  or with containers: docker compose up -d postgres   (or set INVENTORY_DATABASE_URL and ORDER_DATABASE_URL)`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
  // NATS_URL may list every server of a cluster: one that answers is enough to start.
  const servers = natsUrl.split(',').map((entry) => new URL(entry.trim().replace(/^(nats|tls):/, 'http:')));
  const answers = await Promise.all(servers.map((server) => answersTcp(server.hostname, Number(server.port || 4222))));
  if (!answers.some(Boolean)) {
    const where = servers.map((server) => `${server.hostname}:${server.port || 4222}`).join(', ');
    problems.push(
      `NATS does not answer at ${where}.\n` +
        `  Start it: start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log\n` +
        `  or with containers: docker compose up -d nats   (or set NATS_URL)`,
    );
  }
  return problems;
}

function answersTcp(host: string, port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = tcpConnect({ host, port, timeout: 3_000 }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
