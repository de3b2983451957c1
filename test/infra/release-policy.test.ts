import { describe, expect, it } from 'vitest';
import { environmentsWith } from '../support/environments.ts';
import { synthesizeService } from './service-stack.ts';

describe('the release policy at synth', () => {
  it('refuses windows whose occurrences overlap, in one line naming the field', () => {
    const envs = environmentsWith('prod', {
      policy: {
        timeZone: 'Europe/Berlin',
        windows: [
          { name: 'morning', opens: '0 9 * * MON-FRI', durationMinutes: 240 },
          { name: 'late-morning', opens: '0 12 * * MON-FRI', durationMinutes: 60 },
        ],
      },
    });
    expect(() => synthesizeService(envs)).toThrow(
      /^invalid environment config: prod\.policy\.windows\.1: overlaps window "morning" \(windows\.0\) at \S+$/,
    );
  });
});
