import type { AlarmState, AlarmStateValue, Alarms } from '../../core/ports/ports.ts';

/** CloudWatch alarms by name; unknown names are left out, as DescribeAlarms does. */
export class MemoryAlarms implements Alarms {
  private readonly states = new Map<string, AlarmState>();

  set(name: string, state: AlarmStateValue, updatedAt: Date): void {
    this.states.set(name, { name, state, updatedAt: updatedAt.toISOString() });
  }

  /** Deletes an alarm (DeleteAlarms): describing it afterwards finds nothing. */
  delete(name: string): void {
    this.states.delete(name);
  }

  async describe(names: readonly string[]): Promise<AlarmState[]> {
    return names.flatMap((name) => {
      const state = this.states.get(name);
      return state ? [{ ...state }] : [];
    });
  }
}
