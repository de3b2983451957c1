import { beforeEach, describe, expect, it } from 'vitest';
import type { AlarmStateValue, Alarms } from '../../core/ports/ports.ts';

export interface AlarmsSubject {
  readonly alarms: Alarms;
  /** Puts an alarm in a state, as CloudWatch would after evaluating it. */
  setAlarm(name: string, state: AlarmStateValue, changedAt: Date): void;
}

/** What the release logic relies on from CloudWatch alarms, for every Alarms. */
export function describeAlarmsContract(name: string, makeSubject: () => Promise<AlarmsSubject> | AlarmsSubject) {
  describe(`${name} (Alarms contract)`, () => {
    let subject: AlarmsSubject;
    beforeEach(async () => {
      subject = await makeSubject();
    });

    it('reports each named alarm with its state and when it changed, in the order asked', async () => {
      subject.setAlarm('api-5xx', 'ALARM', new Date('2026-11-26T09:00:00Z'));
      subject.setAlarm('api-latency', 'OK', new Date('2026-11-26T08:00:00Z'));
      subject.setAlarm('unwatched', 'ALARM', new Date('2026-11-26T08:00:00Z'));

      expect(await subject.alarms.describe(['api-latency', 'api-5xx'])).toEqual([
        { name: 'api-latency', state: 'OK', updatedAt: '2026-11-26T08:00:00.000Z' },
        { name: 'api-5xx', state: 'ALARM', updatedAt: '2026-11-26T09:00:00.000Z' },
      ]);
    });

    it('leaves out names that are not alarms', async () => {
      subject.setAlarm('api-5xx', 'INSUFFICIENT_DATA', new Date('2026-11-26T09:00:00Z'));
      expect(await subject.alarms.describe(['missing', 'api-5xx'])).toEqual([
        { name: 'api-5xx', state: 'INSUFFICIENT_DATA', updatedAt: '2026-11-26T09:00:00.000Z' },
      ]);
      expect(await subject.alarms.describe([])).toEqual([]);
    });

    it('describes more alarms than one call can name', async () => {
      const names = Array.from({ length: 130 }, (_, i) => `alarm-${String(i).padStart(3, '0')}`);
      for (const n of names) subject.setAlarm(n, 'OK', new Date('2026-11-26T09:00:00Z'));
      const states = await subject.alarms.describe(names);
      expect(states.map((s) => s.name)).toEqual(names);
    });
  });
}
