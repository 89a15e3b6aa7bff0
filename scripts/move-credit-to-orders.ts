import { createDataSource, openDatabase } from '@brokerage/postgres';
import { createLogger, type Logger } from '@brokerage/service';
import { Client } from 'pg';
import { ordersDatabase } from '../subgraphs/orders/src/db';
import { ledgerDiscrepancies } from '../subgraphs/orders/src/db/ledger-check';

// `npm run move-credit`: for a deployment of the version whose users service held credit, moves
// every user's credit and every open reservation into the orders service's trading accounts.
// Run it with both services stopped (docs/order-flow.md#moving-credit-into-the-orders-service):
//
//   USERS_DATABASE_URL=... ORDERS_DATABASE_URL=... npm run move-credit
//
// It migrates the orders database first (which refuses while the old flow has anything in
// flight), copies in one orders transaction, proves the ledger, and then marks the users database
// (`credit_handover`) so that the users service's next migration may drop the credit columns.
// Running it again moves nothing twice: accounts that exist are left alone.

interface LegacyUser {
  id: string;
  credit: string;
}

interface LegacyReservation {
  order_id: string;
  user_id: string;
  amount: string;
  status: 'RESERVED' | 'DENIED' | 'CAPTURED' | 'RELEASED';
}

interface LegacyDeposit {
  order_id: string;
  user_id: string;
  amount: string;
}

export interface MoveSummary {
  accountsOpened: number;
  cash: bigint;
  reserved: bigint;
}

export async function moveCreditToOrders(
  usersUrl: string,
  ordersUrl: string,
  logger: Logger,
): Promise<MoveSummary> {
  const orders = await openDatabase(
    createDataSource({ url: ordersUrl, ...ordersDatabase, logger }),
    ordersUrl,
  );
  const users = new Client({ connectionString: usersUrl });
  await users.connect();
  try {
    const [{ has_credit: hasCredit }] = (
      await users.query<{ has_credit: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM information_schema.columns
                         WHERE table_name = 'users' AND column_name = 'credit') AS has_credit`,
      )
    ).rows as [{ has_credit: boolean }];
    if (!hasCredit) {
      logger.info('the users database holds no credit: nothing to move');
      return { accountsOpened: 0, cash: 0n, reserved: 0n };
    }
    // One snapshot of the users database: what is read adds up.
    await users.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const legacyUsers = (await users.query<LegacyUser>('SELECT id, credit FROM users ORDER BY id')).rows;
    const reservations = (
      await users.query<LegacyReservation>(
        "SELECT order_id, user_id, amount, status FROM credit_reservations WHERE status <> 'DENIED' ORDER BY order_id",
      )
    ).rows;
    const deposits = (
      await users.query<LegacyDeposit>('SELECT order_id, user_id, amount FROM credit_deposits')
    ).rows;
    await users.query('COMMIT');

    const summary = await orders.transaction(async (manager) => {
      let opened = 0;
      let cash = 0n;
      let reserved = 0n;
      for (const user of legacyUsers) {
        const own = reservations.filter(({ user_id }) => user_id === user.id);
        const proceeds = deposits.filter(({ user_id }) => user_id === user.id);
        const sum = (rows: Array<{ amount: string }>) =>
          rows.reduce((total, { amount }) => total + BigInt(amount), 0n);
        const held = sum(own.filter(({ status }) => status === 'RESERVED'));
        const inserted = await manager.query<Array<{ user_id: string }>>(
          `INSERT INTO accounts (user_id, cash, reserved) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING RETURNING user_id`,
          [user.id, user.credit, held.toString()],
        );
        if (inserted.length === 0) continue;
        // The old books, line for line: credit + RESERVED + CAPTURED - proceeds was what the user
        // was given, so that is the opening deposit, and every reservation's life follows it.
        const opening =
          BigInt(user.credit) +
          sum(own) -
          sum(own.filter(({ status }) => status === 'RELEASED')) -
          sum(proceeds);
        const lines: Array<[kind: string, amount: string, orderId: string | null, reference: string | null]> =
          [];
        if (opening > 0n) lines.push(['DEPOSIT', opening.toString(), null, `moved:${user.id}`]);
        for (const reservation of own) {
          lines.push(['RESERVATION', reservation.amount, reservation.order_id, null]);
          if (reservation.status === 'CAPTURED')
            lines.push(['CAPTURE', reservation.amount, reservation.order_id, null]);
          if (reservation.status === 'RELEASED')
            lines.push(['RELEASE', reservation.amount, reservation.order_id, null]);
        }
        for (const deposit of proceeds) lines.push(['PROCEEDS', deposit.amount, deposit.order_id, null]);
        await manager.query(
          `INSERT INTO cash_movements (user_id, kind, amount, order_id, reference)
           SELECT $1, kind, amount, order_id, reference
             FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::text[]) AS line(kind, amount, order_id, reference)`,
          [
            user.id,
            lines.map(([kind]) => kind),
            lines.map(([, amount]) => amount),
            lines.map(([, , orderId]) => orderId),
            lines.map(([, , , reference]) => reference),
          ],
        );
        opened += 1;
        cash += BigInt(user.credit);
        reserved += held;
      }
      // Proven before it commits: books that do not balance are not moved at all.
      const discrepancies = await ledgerDiscrepancies(manager);
      if (discrepancies.length > 0) {
        throw new Error(`the moved books do not balance: ${JSON.stringify(discrepancies.slice(0, 10))}`);
      }
      return { accountsOpened: opened, cash, reserved };
    });
    await users.query(
      'CREATE TABLE IF NOT EXISTS credit_handover (moved_at timestamptz NOT NULL DEFAULT now())',
    );
    await users.query('INSERT INTO credit_handover DEFAULT VALUES');
    logger.info(
      {
        accountsOpened: summary.accountsOpened,
        cash: summary.cash.toString(),
        reserved: summary.reserved.toString(),
      },
      'credit moved into the orders database',
    );
    return summary;
  } finally {
    await users.end();
    await orders.destroy();
  }
}

if (require.main === module) {
  const logger = createLogger({ service: 'move-credit' });
  moveCreditToOrders(
    process.env.USERS_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/users',
    process.env.ORDERS_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/orders',
    logger,
  ).catch((error: unknown) => {
    logger.error({ err: error }, 'moving credit failed; nothing was written to the orders database');
    process.exit(1);
  });
}
