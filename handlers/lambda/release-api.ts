import { releaseApiEntry } from '../../api/aws-release-operations.ts';

export const handler = releaseApiEntry();
