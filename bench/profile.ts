import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const SPECIAL = new Set(['(idle)', '(garbage collector)', '(program)', '(root)']);

function ownerOf(url: string): string | undefined {
  const inPackage = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  if (inPackage) return inPackage[1];
  const project = process.cwd();
  const inBuild = url.includes(`${project}/dist/`) ? /\/dist\/([^/]+)/.exec(url.slice(url.indexOf(project))) : null;
  if (inBuild) return `gateway: ${inBuild[1]}`;
  // The simulator and the bench run from source (ts-node).
  const inSource = url.includes(`${project}/src/`) ? /\/src\/([^/]+)/.exec(url.slice(url.indexOf(project))) : null;
  if (inSource) return `source: ${inSource[1]}`;
  if (url.includes(`${project}/bench/baseline/`)) return 'bench baseline';
  return url.includes(`${project}/bench/`) ? 'bench' : undefined;
}

/**
 * Where a --cpu-prof profile's busy time went, by package: each sample is charged to the nearest
 * frame on its stack that belongs to a package (or to the gateway's own code), so Node's internals
 * count for whoever called them. write(2)/writev(2) are shown apart: they are the cost of a round
 * trip on loopback (the socket to PostgreSQL or to the client), not of the code that asked for it.
 */
export function summarizeProfile(file: string, top = 20): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const totals = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    const leaf = byId.get(id)!;
    const name = leaf.callFrame.functionName;
    if (name === '(idle)') return;
    busy += delta;
    let owner: string | undefined = SPECIAL.has(name) ? name : undefined;
    for (let current: number | undefined = id; owner === undefined && current !== undefined; current = parent.get(current)) {
      owner = ownerOf(byId.get(current)!.callFrame.url);
    }
    owner ??= 'node internals';
    if (name === 'writev' || name === 'writeUtf8String' || name === 'writeBuffer') owner = `socket writes (from ${owner})`;
    totals.set(owner, (totals.get(owner) ?? 0) + delta);
  });
  const lines = [...totals].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [
    `Busy CPU time by package (${(busy / 1e6).toFixed(1)} s busy in ${file}):`,
    ...lines.map(([owner, micros]) => `  ${((100 * micros) / busy).toFixed(1).padStart(5)}%  ${owner}`),
  ].join('\n');
}

/** Summaries of each gateway's profile (in `directory`/<platform>) and the baseline's (in `directory`/baseline). */
export function summarizeProfiles(directory: string, gateways: readonly string[]): string {
  const files = (folder: string) => {
    try {
      return readdirSync(folder)
        .filter((name) => name.endsWith('.cpuprofile'))
        .map((name) => join(folder, name));
    } catch {
      return [];
    }
  };
  return [...gateways, 'baseline']
    .flatMap((name) => files(join(directory, name)))
    .map((file) => summarizeProfile(file))
    .join('\n\n');
}

/** Summaries of every profile under `directory` (one level of folders deep). */
export function summarizeProfilesIn(directory: string): string {
  const found: string[] = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory())
      found.push(
        ...readdirSync(path)
          .filter((name) => name.endsWith('.cpuprofile'))
          .map((name) => join(path, name)),
      );
    else if (entry.name.endsWith('.cpuprofile')) found.push(path);
  }
  return found.map((file) => summarizeProfile(file)).join('\n\n');
}
