/**
 * How long to wait before looking again for something nothing will announce: a FIFO head
 * held back by an older transaction that is still open (it may end without writing, and so
 * without a NOTIFY). Short at first, as such transactions are usually milliseconds long, then
 * doubling up to `maxMs`, so one left open for hours costs a statement a second, not a hundred.
 */
export class RecheckDelay {
  private current: number;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {
    this.current = minMs;
  }

  /** The delay to wait now; the next one is twice as long, up to the maximum. */
  next(): number {
    const delay = this.current;
    this.current = Math.min(2 * this.current, this.maxMs);
    return delay;
  }

  /** Nothing is held back any more: the next wait starts short again. */
  reset(): void {
    this.current = this.minMs;
  }
}
