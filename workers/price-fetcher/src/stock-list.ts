import type { StockListingEvent, StockListings } from '@brokerage/stocks-contract';
import type { StockRef } from './config';

/**
 * The stocks to fetch, as the stocks service lists them: rebuilt from its snapshot at start, then
 * kept current by its announcements. Each stock keeps the version of the list at its latest change
 * (delisted ones too), so an announcement the snapshot already holds, a repeat, or one older than
 * what is known of its stock changes nothing.
 */
export class StockList {
  private readonly byId = new Map<string, { symbol: string; version: number; listed: boolean }>();
  private snapshotVersion = 0;
  private listed: StockRef[] = [];

  constructor(fixed: readonly StockRef[] = []) {
    for (const { id, symbol } of fixed) this.byId.set(id, { symbol, version: 0, listed: true });
    this.refresh();
  }

  /** Starts again from the owner's snapshot. */
  reset(snapshot: StockListings): void {
    this.byId.clear();
    this.snapshotVersion = snapshot.version;
    for (const { id, symbol, version } of snapshot.stocks)
      this.byId.set(id, { symbol, version, listed: true });
    this.refresh();
  }

  /** Applies an announcement; true when it changed the list. */
  apply(event: StockListingEvent): boolean {
    if (event.version <= this.snapshotVersion) return false;
    const known = this.byId.get(event.stockId);
    if (known && known.version >= event.version) return false;
    const listed = event.type === 'listed';
    this.byId.set(event.stockId, { symbol: event.symbol, version: event.version, listed });
    this.refresh();
    return true;
  }

  /** The stocks to fetch now. */
  current(): readonly StockRef[] {
    return this.listed;
  }

  private refresh(): void {
    this.listed = [...this.byId]
      .filter(([, stock]) => stock.listed)
      .map(([id, { symbol }]) => ({ id, symbol }))
      .sort((a, b) => a.symbol.localeCompare(b.symbol));
  }
}
