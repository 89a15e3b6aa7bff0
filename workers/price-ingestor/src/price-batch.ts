import type { TradeCancellation } from '@brokerage/price-fetcher-contract';
import { MinuteFold } from './minute-fold';

/** One step of a batch's writes: a fold of quotes, or a cancelled trade to take back. */
export type BatchStep = { fold: MinuteFold } | { cancellation: TradeCancellation };

/**
 * A batch of price messages as the writes that apply it, in the order of the messages. Quotes are
 * folded to the latest trade per stock-day and minute; a cancellation closes the fold before it,
 * so that it is applied after the quotes that came before it and before those that come after.
 * Folding across it could drop a trade: a fold keeps one trade a minute, and the one it keeps may
 * be the one cancelled. Cancellations are rare, so a batch is nearly always one fold.
 */
export class PriceBatch {
  readonly steps: BatchStep[] = [];
  private current: MinuteFold | undefined;

  /** The fold the next quotes go into. */
  get fold(): MinuteFold {
    if (!this.current) {
      this.current = new MinuteFold();
      this.steps.push({ fold: this.current });
    }
    return this.current;
  }

  takeBack(cancellation: TradeCancellation): void {
    this.steps.push({ cancellation });
    this.current = undefined;
  }
}
