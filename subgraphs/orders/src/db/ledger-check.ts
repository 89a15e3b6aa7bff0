import type { DataSource, EntityManager } from 'typeorm';

/** A place where the money does not add up; an empty list means every balance is proven. */
export interface LedgerDiscrepancy {
  kind: 'account' | 'order';
  id: string;
  detail: string;
}

/**
 * Proves the books: every account's cash and reserved amount equal the sums of its ledger lines,
 * every account's reserved amount equals the totals of its open buys, and every order moved
 * exactly the money its status says (IN_PROGRESS buy: reserved; COMPLETED buy: reserved then
 * captured; FAILED or CANCELLED buy: reserved then released; COMPLETED sell: proceeds; nothing
 * else moves cash). Read in one snapshot, so it holds while orders are placed.
 */
export function checkLedger(dataSource: DataSource): Promise<LedgerDiscrepancy[]> {
  return dataSource.transaction('REPEATABLE READ', (manager) => ledgerDiscrepancies(manager));
}

/** `checkLedger` inside a transaction of the caller's (which sees its own writes). */
export async function ledgerDiscrepancies(manager: EntityManager): Promise<LedgerDiscrepancy[]> {
  const accounts = await manager.query<
    Array<{
      user_id: string;
      cash: string;
      reserved: string;
      ledger_cash: string;
      ledger_reserved: string;
      open_buys: string;
    }>
  >(
    `SELECT a.user_id, a.cash, a.reserved,
              COALESCE(m.cash, 0) AS ledger_cash, COALESCE(m.reserved, 0) AS ledger_reserved,
              COALESCE(o.open_buys, 0) AS open_buys
         FROM accounts a
         LEFT JOIN (
           SELECT user_id,
                  sum(CASE kind WHEN 'DEPOSIT' THEN amount WHEN 'RELEASE' THEN amount WHEN 'PROCEEDS' THEN amount
                                WHEN 'WITHDRAWAL' THEN -amount WHEN 'RESERVATION' THEN -amount ELSE 0 END) AS cash,
                  sum(CASE kind WHEN 'RESERVATION' THEN amount WHEN 'CAPTURE' THEN -amount
                                WHEN 'RELEASE' THEN -amount ELSE 0 END) AS reserved
             FROM cash_movements GROUP BY user_id
         ) m USING (user_id)
         LEFT JOIN (
           SELECT user_id, sum(total) AS open_buys FROM orders
            WHERE side = 'BUY' AND status = 'IN_PROGRESS' GROUP BY user_id
         ) o USING (user_id)
        WHERE a.cash <> COALESCE(m.cash, 0) OR a.reserved <> COALESCE(m.reserved, 0)
           OR a.reserved <> COALESCE(o.open_buys, 0)`,
  );
  const orders = await manager.query<
    Array<{ id: string; side: string; status: string; moved: string | null }>
  >(
    `SELECT o.id, o.side, o.status, string_agg(m.kind || ':' || m.amount, ',' ORDER BY m.id) AS moved
         FROM orders o LEFT JOIN cash_movements m ON m.order_id = o.id
        GROUP BY o.id, o.side, o.status, o.total
       HAVING coalesce(string_agg(m.kind || ':' || m.amount, ',' ORDER BY m.id), '') <>
              CASE WHEN o.side = 'BUY' AND o.status = 'IN_PROGRESS' THEN 'RESERVATION:' || o.total
                   WHEN o.side = 'BUY' AND o.status = 'COMPLETED' THEN 'RESERVATION:' || o.total || ',CAPTURE:' || o.total
                   WHEN o.side = 'BUY' AND o.status IN ('FAILED', 'CANCELLED') THEN 'RESERVATION:' || o.total || ',RELEASE:' || o.total
                   WHEN o.side = 'SELL' AND o.status = 'COMPLETED' THEN 'PROCEEDS:' || o.total
                   ELSE '' END`,
  );
  return [
    ...accounts.map((row) => ({
      kind: 'account' as const,
      id: row.user_id,
      detail:
        `cash ${row.cash} (ledger ${row.ledger_cash}), reserved ${row.reserved} ` +
        `(ledger ${row.ledger_reserved}, open buys ${row.open_buys})`,
    })),
    ...orders.map((row) => ({
      kind: 'order' as const,
      id: row.id,
      detail: `${row.side} ${row.status} moved ${row.moved ?? 'nothing'}`,
    })),
  ];
}
