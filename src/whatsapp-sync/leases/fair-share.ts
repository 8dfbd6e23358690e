/**
 * How many running sessions this replica should hold so that they spread evenly over the live
 * replicas, given each replica's capacity: water-filling, where a replica whose capacity is below
 * the even share holds all it can and the rest is shared evenly by the others. Rounds up, so the
 * shares always cover every session that the capacities can cover.
 */
export function fairShare(runningSessions: number, liveCapacities: readonly number[], myCapacity: number): number {
  const capacities = [...liveCapacities].filter((capacity) => capacity > 0).sort((a, b) => a - b);
  let remaining = runningSessions;
  let replicas = capacities.length;
  for (const capacity of capacities) {
    const even = Math.ceil(remaining / replicas);
    if (capacity >= even) return Math.min(myCapacity, even);
    remaining -= capacity;
    replicas--;
  }
  // Every replica is below the even share: each holds all it can.
  return myCapacity;
}
