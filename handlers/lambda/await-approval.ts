import { STATES } from '../../state-machine/state-names.ts';
import { lambdaEntry } from '../aws-dependencies.ts';

export const handler = lambdaEntry(STATES.approval);
