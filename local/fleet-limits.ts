/** The most members a fleet rehearsal runs: each is a function with two worker threads and its own gateway and load. */
export const MAX_REHEARSAL_FLEET = 24;
