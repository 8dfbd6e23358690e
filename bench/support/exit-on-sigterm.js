// Preloaded into the gateway when the bench profiles it (BENCH_CPU_PROF): Nest's shutdown hooks end
// the process by re-raising SIGTERM, and a process killed by a signal never writes its --cpu-prof
// profile. Exiting normally on SIGTERM does.
process.once('SIGTERM', () => process.exit(0));
