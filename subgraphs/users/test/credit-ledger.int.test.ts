import {
  createDataSource,
  createMetrics,
  dropDatabase,
  moneyFromColumn,
  openDatabase,
  type ServiceMetrics,
} from '@brokerage/common';
import type { DataSource } from 'typeorm';
import { testDatabaseUrl, testLogger } from '../../../test/support/services';
import { usersDatabase } from '../src/db';
import { CreditLedger, type ReservationStatus } from '../src/db/credit-ledger';

// The credit ledger against the real SQL. Every test opens an account of its own, so its books
// (spendable credit, RESERVED and CAPTURED reservations, deposits) can be checked exactly, and with
// them the invariant: credit + RESERVED + CAPTURED - deposits stays what the account opened with.
// Ids are bigints beyond 2^53: they must come back as the same strings.

const MAX_BIGINT = 9223372036854775807n;

describe('credit ledger', () => {
  const url = testDatabaseUrl('users_credit');
  let dataSource: DataSource;
  let metrics: ServiceMetrics;
  let ledger: CreditLedger;
  const opened = new Map<string, number>();
  let lastUser = 44891482026867833n;
  let lastOrder = 65883838195688438n;
  const newOrderId = () => (++lastOrder).toString();

  beforeAll(async () => {
    // The statements the data source sends are counted here, BEGIN and COMMIT included.
    metrics = createMetrics('users', { collectDefaults: false });
    dataSource = await openDatabase(
      createDataSource({ url, ...usersDatabase, logger: testLogger('users'), metrics }),
      url,
    );
    ledger = new CreditLedger(dataSource);
  });

  afterAll(async () => {
    await dataSource.destroy();
    await dropDatabase(url);
  });

  async function openAccount(credit: number): Promise<string> {
    const [row] = await dataSource.query<Array<{ id: string }>>(
      `INSERT INTO users (id, name, credit) OVERRIDING SYSTEM VALUE VALUES ($1, 'Trader', $2) RETURNING id`,
      [(++lastUser).toString(), credit],
    );
    opened.set(row!.id, credit);
    return row!.id;
  }

  interface Books {
    credit: number;
    reserved: number;
    captured: number;
    deposited: number;
  }

  async function books(userId: string): Promise<Books> {
    const [row] = await dataSource.query<Array<Record<keyof Books, string>>>(
      `SELECT credit,
         (SELECT coalesce(sum(amount), 0) FROM credit_reservations
           WHERE user_id = users.id AND status = 'RESERVED') AS reserved,
         (SELECT coalesce(sum(amount), 0) FROM credit_reservations
           WHERE user_id = users.id AND status = 'CAPTURED') AS captured,
         (SELECT coalesce(sum(amount), 0) FROM credit_deposits WHERE user_id = users.id) AS deposited
       FROM users WHERE id = $1`,
      [userId],
    );
    return {
      credit: moneyFromColumn(row!.credit),
      reserved: moneyFromColumn(row!.reserved),
      captured: moneyFromColumn(row!.captured),
      deposited: moneyFromColumn(row!.deposited),
    };
  }

  async function expectBooks(userId: string, expected: Books) {
    const actual = await books(userId);
    expect(actual).toEqual(expected);
    // Money is only ever moved between the columns, never made or lost.
    expect(actual.credit + actual.reserved + actual.captured - actual.deposited).toBe(opened.get(userId));
  }

  const statusOf = async (orderId: string) =>
    (
      await dataSource.query<Array<{ status: ReservationStatus }>>(
        'SELECT status FROM credit_reservations WHERE order_id = $1',
        [orderId],
      )
    )[0]?.status;

  // The codedError a call rejects with, by its extensions.code (what the GraphQL client sees).
  const coded = (code: string): unknown =>
    expect.objectContaining({ extensions: expect.objectContaining({ code }) as unknown });

  // A transaction of another session, left open: it holds its row locks until it commits.
  async function openTransaction(statements: Array<[sql: string, parameters: unknown[]]>) {
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    for (const [sql, parameters] of statements) await runner.query(sql, parameters);
    return {
      commit: async () => {
        await runner.commitTransaction();
        await runner.release();
      },
    };
  }

  // Waits until `count` statements of this database wait for a lock: the interleaving a test sets up
  // has to be in place before it lets the holder go, or the race it means to show never happens.
  async function waitForLockWaiters(count: number) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const [row] = await dataSource.query<Array<{ waiting: number }>>(
        `SELECT count(*)::int AS waiting FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      if (row!.waiting >= count) return;
      if (Date.now() > deadline) throw new Error(`${row!.waiting} statements wait for a lock, not ${count}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async function statementsSent(work: () => Promise<unknown>): Promise<number> {
    const count = async () =>
      (await metrics.dbQueries.get()).values.reduce((sum, { value }) => sum + value, 0);
    const before = await count();
    await work();
    return (await count()) - before;
  }

  it('captures a RESERVED reservation, keeping the money spent; a repeat answers CAPTURED and moves nothing', async () => {
    const userId = await openAccount(1_000);
    const orderId = newOrderId();
    await ledger.reserve(orderId, userId, 300);
    await expectBooks(userId, { credit: 700, reserved: 300, captured: 0, deposited: 0 });

    const captured = { orderId, userId, amount: 300, status: 'CAPTURED' };
    expect(await ledger.capture(orderId)).toEqual(captured);
    await expectBooks(userId, { credit: 700, reserved: 0, captured: 300, deposited: 0 });

    expect(await ledger.capture(orderId)).toEqual(captured);
    await expectBooks(userId, { credit: 700, reserved: 0, captured: 300, deposited: 0 });
  });

  it('releases a RESERVED reservation and gives the amount back; a repeat answers RELEASED and moves nothing', async () => {
    const userId = await openAccount(1_000);
    const orderId = newOrderId();
    await ledger.reserve(orderId, userId, 300);

    const released = { orderId, userId, amount: 300, status: 'RELEASED' };
    expect(await ledger.release(orderId)).toEqual(released);
    await expectBooks(userId, { credit: 1_000, reserved: 0, captured: 0, deposited: 0 });

    expect(await ledger.release(orderId)).toEqual(released);
    await expectBooks(userId, { credit: 1_000, reserved: 0, captured: 0, deposited: 0 });
  });

  it('answers the release of a DENIED reservation as it is: nothing was taken, so nothing goes back', async () => {
    const userId = await openAccount(100);
    const orderId = newOrderId();
    expect(await ledger.reserve(orderId, userId, 500)).toMatchObject({ status: 'DENIED' });

    expect(await ledger.release(orderId)).toEqual({ orderId, userId, amount: 500, status: 'DENIED' });
    expect(await statusOf(orderId)).toBe('DENIED');
    await expectBooks(userId, { credit: 100, reserved: 0, captured: 0, deposited: 0 });
  });

  it('refuses to capture a RELEASED or a DENIED reservation with RESERVATION_CONFLICT and changes nothing', async () => {
    const userId = await openAccount(1_000);
    const released = newOrderId();
    const denied = newOrderId();
    await ledger.reserve(released, userId, 300);
    await ledger.release(released);
    await ledger.reserve(denied, userId, 5_000);

    await expect(ledger.capture(released)).rejects.toEqual(coded('RESERVATION_CONFLICT'));
    await expect(ledger.capture(denied)).rejects.toEqual(coded('RESERVATION_CONFLICT'));
    expect(await statusOf(released)).toBe('RELEASED');
    expect(await statusOf(denied)).toBe('DENIED');
    await expectBooks(userId, { credit: 1_000, reserved: 0, captured: 0, deposited: 0 });
  });

  it('refuses to release a CAPTURED reservation with RESERVATION_CONFLICT: the money stays spent', async () => {
    const userId = await openAccount(1_000);
    const orderId = newOrderId();
    await ledger.reserve(orderId, userId, 300);
    await ledger.capture(orderId);

    await expect(ledger.release(orderId)).rejects.toEqual(coded('RESERVATION_CONFLICT'));
    expect(await statusOf(orderId)).toBe('CAPTURED');
    await expectBooks(userId, { credit: 700, reserved: 0, captured: 300, deposited: 0 });
  });

  it('answers RESERVATION_NOT_FOUND to a capture or a release of an order that reserved nothing', async () => {
    const orderId = newOrderId();
    await expect(ledger.capture(orderId)).rejects.toEqual(coded('RESERVATION_NOT_FOUND'));
    await expect(ledger.release(orderId)).rejects.toEqual(coded('RESERVATION_NOT_FOUND'));
    expect(await statusOf(orderId)).toBeUndefined();
  });

  it('deposits proceeds once; a repeat, even with other arguments, answers the first deposit and moves nothing', async () => {
    const userId = await openAccount(1_000);
    const otherUserId = await openAccount(0);
    const orderId = newOrderId();

    const first = { orderId, userId, amount: 250 };
    expect(await ledger.deposit(orderId, userId, 250)).toEqual(first);
    await expectBooks(userId, { credit: 1_250, reserved: 0, captured: 0, deposited: 250 });

    expect(await ledger.deposit(orderId, userId, 250)).toEqual(first);
    // The order id alone makes a deposit: a retry that got its amount or user wrong pays no one.
    expect(await ledger.deposit(orderId, otherUserId, 999)).toEqual(first);
    await expectBooks(userId, { credit: 1_250, reserved: 0, captured: 0, deposited: 250 });
    await expectBooks(otherUserId, { credit: 0, reserved: 0, captured: 0, deposited: 0 });
  });

  it('answers USER_NOT_FOUND to a deposit for an unknown user and records nothing', async () => {
    const orderId = newOrderId();
    await expect(ledger.deposit(orderId, '9007199254740993', 100)).rejects.toEqual(coded('USER_NOT_FOUND'));
    expect(await dataSource.query('SELECT 1 FROM credit_deposits WHERE order_id = $1', [orderId])).toEqual(
      [],
    );
  });

  it('settles the common case in one statement outside any transaction, and reads once more only when it changed nothing', async () => {
    // Each round trip costs CPU in the service and in PostgreSQL, once per finished order: a
    // transaction (BEGIN, lock, read, write, COMMIT) coming back would show here.
    const userId = await openAccount(1_000);
    const [captured, released] = [newOrderId(), newOrderId()];
    await ledger.reserve(captured, userId, 100);
    await ledger.reserve(released, userId, 100);
    const deposited = newOrderId();

    expect(await statementsSent(() => ledger.capture(captured))).toBe(1);
    expect(await statementsSent(() => ledger.release(released))).toBe(1);
    expect(await statementsSent(() => ledger.deposit(deposited, userId, 100))).toBe(1);

    expect(await statementsSent(() => ledger.capture(captured))).toBe(2);
    expect(await statementsSent(() => ledger.release(released))).toBe(2);
    expect(await statementsSent(() => ledger.deposit(deposited, userId, 100))).toBe(2);
    expect(
      await statementsSent(() =>
        expect(ledger.release(captured)).rejects.toEqual(coded('RESERVATION_CONFLICT')),
      ),
    ).toBe(2);
    await expectBooks(userId, { credit: 1_000, reserved: 0, captured: 100, deposited: 100 });
  });

  it('lets exactly one of a capture and a release racing for each of 20 orders win, and refunds only the released', async () => {
    const userId = await openAccount(100_000);
    // Distinct amounts, so the credit tells exactly which orders were refunded.
    const orders = Array.from({ length: 20 }, (_, index) => ({
      orderId: newOrderId(),
      amount: (index + 1) * 100,
    }));
    for (const { orderId, amount } of orders) await ledger.reserve(orderId, userId, amount);

    const outcomes = await Promise.all(
      orders.map(({ orderId }) => Promise.allSettled([ledger.capture(orderId), ledger.release(orderId)])),
    );

    let capturedAmount = 0;
    for (const [index, [capture, release]] of outcomes.entries()) {
      const { orderId, amount } = orders[index]!;
      const winners = [capture, release].filter(({ status }) => status === 'fulfilled');
      expect(winners).toHaveLength(1);
      const loser = capture.status === 'rejected' ? capture : release;
      expect(loser).toEqual({ status: 'rejected', reason: coded('RESERVATION_CONFLICT') });
      const won = capture.status === 'fulfilled' ? 'CAPTURED' : 'RELEASED';
      expect(winners[0]).toEqual({ status: 'fulfilled', value: { orderId, userId, amount, status: won } });
      expect(await statusOf(orderId)).toBe(won);
      if (won === 'CAPTURED') capturedAmount += amount;
    }
    await expectBooks(userId, {
      credit: 100_000 - capturedAmount,
      reserved: 0,
      captured: capturedAmount,
      deposited: 0,
    });
  });

  it('lets the first of 5 captures and 5 releases racing for one order decide what all of them answer', async () => {
    const userId = await openAccount(1_000);
    const orderId = newOrderId();
    await ledger.reserve(orderId, userId, 400);

    const calls = Array.from({ length: 10 }, (_, index) =>
      index % 2 === 0 ? ledger.capture(orderId) : ledger.release(orderId),
    );
    const outcomes = await Promise.allSettled(calls);

    // Captures and releases alternate in `calls`; the winning kind answers its status every time.
    const won = await statusOf(orderId);
    const captures = outcomes.filter((_, index) => index % 2 === 0);
    const releases = outcomes.filter((_, index) => index % 2 === 1);
    const [winning, losing] = won === 'CAPTURED' ? [captures, releases] : [releases, captures];
    for (const outcome of winning) {
      expect(outcome).toEqual({ status: 'fulfilled', value: { orderId, userId, amount: 400, status: won } });
    }
    for (const outcome of losing) {
      expect(outcome).toEqual({ status: 'rejected', reason: coded('RESERVATION_CONFLICT') });
    }
    await expectBooks(
      userId,
      won === 'CAPTURED'
        ? { credit: 600, reserved: 0, captured: 400, deposited: 0 }
        : { credit: 1_000, reserved: 0, captured: 0, deposited: 0 },
    );
  });

  it('gives the money back once when 10 releases race for one order, and answers RELEASED to all', async () => {
    const userId = await openAccount(1_000);
    const orderId = newOrderId();
    await ledger.reserve(orderId, userId, 400);

    const answers = await Promise.all(Array.from({ length: 10 }, () => ledger.release(orderId)));

    for (const answer of answers)
      expect(answer).toEqual({ orderId, userId, amount: 400, status: 'RELEASED' });
    await expectBooks(userId, { credit: 1_000, reserved: 0, captured: 0, deposited: 0 });
  });

  it('moves the money once when 10 deposits of one order race, and answers the first deposit to all', async () => {
    const userId = await openAccount(0);
    const orderId = newOrderId();

    const answers = await Promise.all(Array.from({ length: 10 }, () => ledger.deposit(orderId, userId, 700)));

    for (const answer of answers) expect(answer).toEqual({ orderId, userId, amount: 700 });
    await expectBooks(userId, { credit: 700, reserved: 0, captured: 0, deposited: 700 });
  });

  it('adds up every refund and deposit of distinct orders racing into one account', async () => {
    // They all change the same users row: each statement must add to the credit the one before it
    // committed, not to the credit it first saw.
    const userId = await openAccount(50_000);
    const reserved = Array.from({ length: 20 }, () => newOrderId());
    for (const orderId of reserved) await ledger.reserve(orderId, userId, 1_000);
    await expectBooks(userId, { credit: 30_000, reserved: 20_000, captured: 0, deposited: 0 });

    await Promise.all([
      ...reserved.map((orderId) => ledger.release(orderId)),
      ...Array.from({ length: 20 }, () => ledger.deposit(newOrderId(), userId, 10)),
    ]);

    await expectBooks(userId, { credit: 50_200, reserved: 0, captured: 0, deposited: 200 });
  });

  // The races above may or may not overlap on a given run; these set the overlap up: a transaction
  // of another session holds a lock, the calls queue behind it, and only then is it let go.

  it.each([
    ['release', 'capture', 'CAPTURED', { credit: 600, reserved: 0, captured: 400, deposited: 0 }],
    ['capture', 'release', 'RELEASED', { credit: 1_000, reserved: 0, captured: 0, deposited: 0 }],
  ] as const)(
    'answers RESERVATION_CONFLICT to a %s that waited for a %s of the same order to commit',
    async (second, first, won, expected) => {
      const userId = await openAccount(1_000);
      const orderId = newOrderId();
      await ledger.reserve(orderId, userId, 400);
      const holder = await openTransaction([
        ['SELECT 1 FROM credit_reservations WHERE order_id = $1 FOR UPDATE', [orderId]],
      ]);

      // The first in the row's queue goes first once the holder commits; the second then finds
      // the row changed under it and must re-check it, not overwrite it.
      const winner = ledger[first](orderId);
      await waitForLockWaiters(1);
      const loser = ledger[second](orderId);
      await waitForLockWaiters(2);
      await holder.commit();

      expect(await winner).toEqual({ orderId, userId, amount: 400, status: won });
      await expect(loser).rejects.toEqual(coded('RESERVATION_CONFLICT'));
      expect(await statusOf(orderId)).toBe(won);
      await expectBooks(userId, expected);
    },
  );

  it('answers the first deposit to a deposit of the same order that waited for it to commit', async () => {
    const userId = await openAccount(0);
    const orderId = newOrderId();
    // Holding the user's row stops the first deposit after its INSERT, before it commits.
    const holder = await openTransaction([['SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [userId]]]);

    const first = ledger.deposit(orderId, userId, 700);
    await waitForLockWaiters(1);
    // This INSERT meets the first one's uncommitted row: it has to wait to learn whether it stays.
    const second = ledger.deposit(orderId, userId, 700);
    await waitForLockWaiters(2);
    await holder.commit();

    expect(await first).toEqual({ orderId, userId, amount: 700 });
    expect(await second).toEqual({ orderId, userId, amount: 700 });
    await expectBooks(userId, { credit: 700, reserved: 0, captured: 0, deposited: 700 });
  });

  it.each(['release', 'deposit'] as const)(
    'adds a %s to the credit another transaction committed while it waited for the user',
    async (call) => {
      const userId = await openAccount(1_000);
      const reservedOrder = newOrderId();
      await ledger.reserve(reservedOrder, userId, 400);
      // A deposit made by hand, in a transaction left open on the user's row.
      const holder = await openTransaction([
        [
          'INSERT INTO credit_deposits (order_id, user_id, amount) VALUES ($1, $2, 5)',
          [newOrderId(), userId],
        ],
        ['UPDATE users SET credit = credit + 5 WHERE id = $1', [userId]],
      ]);

      const settled =
        call === 'release' ? ledger.release(reservedOrder) : ledger.deposit(newOrderId(), userId, 400);
      await waitForLockWaiters(1);
      await holder.commit();
      await settled;

      // 600 spendable, +5 by hand, +400 by the call: a credit computed from what the call first
      // saw would have lost the 5.
      await expectBooks(
        userId,
        call === 'release'
          ? { credit: 1_005, reserved: 0, captured: 0, deposited: 5 }
          : { credit: 1_005, reserved: 400, captured: 0, deposited: 405 },
      );
    },
  );

  // The second half of a statement can be made to fail from outside only by overflowing the credit.
  // Were the halves separate statements, the first would stay done: a reservation RELEASED, or a
  // deposit recorded, with the money never arrived, and every retry answering "already done".

  it('leaves the reservation RESERVED when its refund cannot be credited, so a retry still refunds it', async () => {
    const userId = await openAccount(1_000);
    const orderId = newOrderId();
    await ledger.reserve(orderId, userId, 400);
    await dataSource.query('UPDATE users SET credit = $2 WHERE id = $1', [
      userId,
      (MAX_BIGINT - 100n).toString(),
    ]);

    await expect(ledger.release(orderId)).rejects.toThrow(/out of range/);
    expect(await statusOf(orderId)).toBe('RESERVED');

    await dataSource.query('UPDATE users SET credit = 600 WHERE id = $1', [userId]);
    expect(await ledger.release(orderId)).toMatchObject({ status: 'RELEASED' });
    await expectBooks(userId, { credit: 1_000, reserved: 0, captured: 0, deposited: 0 });
  });

  it('records no deposit when its proceeds cannot be credited, so a retry still pays them', async () => {
    const userId = await openAccount(1_000);
    const orderId = newOrderId();
    await dataSource.query('UPDATE users SET credit = $2 WHERE id = $1', [
      userId,
      (MAX_BIGINT - 100n).toString(),
    ]);

    await expect(ledger.deposit(orderId, userId, 400)).rejects.toThrow(/out of range/);
    expect(await dataSource.query('SELECT 1 FROM credit_deposits WHERE order_id = $1', [orderId])).toEqual(
      [],
    );

    await dataSource.query('UPDATE users SET credit = 1000 WHERE id = $1', [userId]);
    expect(await ledger.deposit(orderId, userId, 400)).toEqual({ orderId, userId, amount: 400 });
    await expectBooks(userId, { credit: 1_400, reserved: 0, captured: 0, deposited: 400 });
  });
});
