/** The fleet world lives in harness.ts, beside the one-target world; this name stays for the files that import it. */
export {
  enteredStates,
  FLEET_MEMBERS,
  FleetWorld,
  fleetEnvironments,
  type MemberTraffic,
  memberFunction,
} from './harness.ts';
