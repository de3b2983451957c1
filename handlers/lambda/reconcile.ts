import { lambdaEntry, RECONCILE } from '../aws-dependencies.ts';

export const handler = lambdaEntry(RECONCILE);
