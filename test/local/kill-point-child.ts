/**
 * One process of the kill -9 cells (kill-nine.test.ts): the local runtime on a data directory, started as
 * `local serve` starts it (reconcile what an earlier process left, then set up prod), that sends itself SIGKILL at
 * one point. A real kill: the process ends at once, with no exit handler, finally block or flush.
 *
 *   KILL_AT=after-202             start a prod release through the release API; die as its 202 comes back
 *   KILL_AT=mid-alias-move        start one; die as Shift traffic's canary move of live has been made
 *   KILL_AT=mid-bake              start one; die as its first health check of the canary begins
 *   KILL_AT=mid-rollback          die inside the restart's reconcile: the record closed, live not yet restored
 *   KILL_AT=mid-rollback-restored die inside the restart's reconcile: live restored, the reconcile not yet recorded
 *   KILL_AT=after-reconciled      die just after the restart reconciled and set prod up
 *   KILL_AT=none                  reconcile, set prod up, close and exit 0
 *
 * Prints `fired <point>` just before it kills itself.
 */
import { releaseApiHandler } from '../../api/release-api.ts';
import { restProxyEvent } from '../../core/model/api-gateway-event.ts';
import { ExecutionLog, LocalReleaseOperations } from '../../local/local-release-operations.ts';
import { STATES } from '../../state-machine/state-names.ts';
import { openLocalRuntime } from '../../wiring/local.ts';

const killAt = process.env.KILL_AT ?? 'none';
const dataDir = process.env.DATA_DIR;
if (!dataDir) throw new Error('DATA_DIR is required');

function die(point: string): never {
  process.stdout.write(`fired ${point}\n`);
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

const rt = openLocalRuntime({
  dataDir,
  speedup: 600,
  approvals: 'auto',
  resume: true,
  onEvent: (_id, event) => {
    if (killAt === 'mid-bake' && event.type === 'StateEntered' && event.state === STATES.check) die(killAt);
  },
});
const ops = new LocalReleaseOperations(rt, new ExecutionLog());
const fn = 'switchyard-api-prod';

// Each wraps the runtime's own port after the original call, so the kill comes after that write took effect.
const updateAlias = rt.functions.updateAlias.bind(rt.functions);
let reconciling = false;
rt.functions.updateAlias = async (functionName, alias, version, routing) => {
  await updateAlias(functionName, alias, version, routing);
  if (functionName !== fn || alias !== 'live') return;
  if (killAt === 'mid-alias-move' && routing) die(killAt);
  if (killAt === 'mid-rollback-restored' && reconciling && !routing) die(killAt);
};
const closeRelease = rt.store.closeRelease.bind(rt.store);
rt.store.closeRelease = async (releaseId, close, event) => {
  const result = await closeRelease(releaseId, close, event);
  if (killAt === 'mid-rollback' && reconciling && result.closed) die(killAt);
  return result;
};

reconciling = true;
const reconciled = await rt.reconcileLeftovers();
reconciling = false;
const base = await rt.registry.build('switchyard-api', { commit: 'kill-base' });
const live = await rt.bootstrap('prod', base);
const gateway = rt.gatewayFor('prod');
rt.openGreenStage('prod', await gateway.start());
process.stdout.write(`${JSON.stringify({ reconciled, live })}\n`);
if (killAt === 'after-reconciled') die(killAt);

if (killAt === 'after-202' || killAt === 'mid-alias-move' || killAt === 'mid-bake') {
  const next = await rt.registry.build('switchyard-api', { commit: 'kill-next' });
  const response = await releaseApiHandler(ops)(
    restProxyEvent({
      method: 'POST',
      path: '/environments/prod/releases',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ imageDigest: next.digest }),
    }),
  );
  if (response.statusCode !== 202) throw new Error(`start answered ${response.statusCode}: ${response.body}`);
  process.stdout.write(`started ${(JSON.parse(response.body) as { releaseId: string }).releaseId}\n`);
  if (killAt === 'after-202') die(killAt);
  // Shift traffic's canary move kills the process (above); a release that ends first is a cell that never fired.
  for (const execution of rt.executions.values()) await execution.result;
}
await gateway.stop();
await rt.close();
