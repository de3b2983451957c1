import type { Clock } from '../../core/ports/ports.ts';

export class SystemClock implements Clock {
  now(): Date {
    return new Date();
  }
}

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  private current: number;
  constructor(start: Date | string = '2026-11-26T10:00:00.000Z') {
    this.current = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  advance(seconds: number): void {
    this.current += seconds * 1000;
  }
}

/**
 * Virtual time that runs `speedup` times faster than the wall clock, so a 10-minute bake rehearses in seconds
 * while metrics, windows and lock expiry still see minutes.
 */
export class ScaledClock implements Clock {
  private readonly realStart = Date.now();
  constructor(
    readonly speedup: number,
    private readonly virtualStart = Date.now(),
  ) {}
  now(): Date {
    return new Date(this.virtualStart + (Date.now() - this.realStart) * this.speedup);
  }
}
