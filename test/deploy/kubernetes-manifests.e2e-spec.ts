import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { environmentVariableNames, SECRET_VARIABLES, validateEnvironment } from '../../src/config/environment';

const BASE = join(__dirname, '..', '..', 'deploy', 'k8s', 'base');

/**
 * The Kubernetes models for each kind used: `kubernetes-models` ships the Kubernetes OpenAPI JSON
 * schemas compiled to validators (types, formats, required fields), so this runs offline.
 */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
};

/**
 * Variables left out on purpose: the embedded PostgreSQL is for laptops; HOST unset means every
 * interface; SYNC_RECORD_DIR (debug recordings) needs a writable volume the pods do not have.
 */
const NOT_FOR_KUBERNETES = new Set(['EMBEDDED_POSTGRES_DIR', 'EMBEDDED_POSTGRES_PORT', 'HOST', 'SYNC_RECORD_DIR']);

type Manifest = Record<string, any>;

/**
 * `kustomize build` for the subset of kustomize this base uses (resources, images). Any other
 * kustomization field fails the test rather than being silently ignored.
 */
function render(directory: string): Manifest[] {
  const kustomization = parse(readFileSync(join(directory, 'kustomization.yaml'), 'utf8'));
  const unsupported = Object.keys(kustomization).filter((key) => !['apiVersion', 'kind', 'resources', 'images'].includes(key));
  if (unsupported.length > 0) throw new Error(`the test's renderer does not support kustomization fields: ${unsupported.join(', ')}`);
  const manifests = (kustomization.resources as string[]).flatMap((file) =>
    parseAllDocuments(readFileSync(join(directory, file), 'utf8')).map((document) => {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0].message}`);
      return document.toJS() as Manifest;
    }),
  );
  for (const image of kustomization.images ?? []) {
    for (const manifest of manifests) {
      for (const container of podSpec(manifest)?.containers ?? []) {
        if (container.image === image.name) container.image = `${image.newName ?? image.name}:${image.newTag}`;
      }
    }
  }
  return manifests;
}

function podSpec(manifest: Manifest): Manifest | undefined {
  return manifest.spec?.template?.spec;
}

describe('Kubernetes manifests (deploy/k8s/base)', () => {
  const manifests = render(BASE);
  const find = (kind: string, component?: string) =>
    manifests.filter((m) => m.kind === kind && (component === undefined || m.metadata.labels?.['app.kubernetes.io/component'] === component));
  const [deployment] = find('Deployment');
  const [job] = find('Job');
  const [configMap] = find('ConfigMap');
  const [secret] = find('Secret');
  const [service] = find('Service');
  const gateway = podSpec(deployment)!.containers[0];
  const config = configMap.data as Record<string, string>;

  it('renders one of each expected kind, with unique names', () => {
    expect(manifests.map((m) => m.kind).sort()).toEqual(
      ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'Job', 'PodDisruptionBudget', 'Secret', 'Service', 'ServiceAccount'],
    );
    const ids = manifests.map((m) => `${m.kind}/${m.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each(manifestsForEach())('%s validates against the Kubernetes JSON schema', (_id, manifest) => {
    const model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
    expect(model).toBeDefined();
    expect(() => new model(manifest).validate()).not.toThrow();
  });

  it('the schema validation can fail (a wrong type is caught)', () => {
    const broken = structuredClone(deployment);
    podSpec(broken)!.containers[0].ports[0].containerPort = 'three thousand';
    expect(() => new Deployment(broken).validate()).toThrow(/containerPort/);
  });

  it('probes: startup and liveness on /healthz, readiness on /readyz, all on the http port', () => {
    expect(gateway.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(gateway.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(gateway.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(gateway.ports.find((port: Manifest) => port.name === 'http').containerPort).toBe(Number(config.PORT));
    // The readiness probe waits longer than the database check may take.
    expect(gateway.readinessProbe.timeoutSeconds * 1000).toBeGreaterThan(Number(config.DATABASE_HEALTH_TIMEOUT_MS));
  });

  it('shutdown: the process finishes within SHUTDOWN_GRACE_MS, before terminationGracePeriodSeconds ends', () => {
    const terminationGraceMs = podSpec(deployment)!.terminationGracePeriodSeconds * 1000;
    expect(Number(config.SHUTDOWN_DELAY_MS)).toBeGreaterThan(0);
    expect(Number(config.SHUTDOWN_DELAY_MS)).toBeLessThan(Number(config.SHUTDOWN_GRACE_MS));
    expect(Number(config.SHUTDOWN_GRACE_MS)).toBeLessThan(terminationGraceMs);
    // The image's CMD (`node dist/main.js`, PID 1) receives SIGTERM itself: no shell or npm wrapper in between.
    expect(gateway.command).toBeUndefined();
    expect(gateway.args).toBeUndefined();
  });

  it('resources: requests and limits on every container', () => {
    for (const manifest of [deployment, job]) {
      for (const container of podSpec(manifest)!.containers) {
        expect(container.resources.requests).toEqual({ cpu: expect.anything(), memory: expect.anything() });
        expect(container.resources.limits).toEqual({ cpu: expect.anything(), memory: expect.anything() });
      }
    }
  });

  it('security: non-root, read-only root filesystem, no privilege escalation, no capabilities, no API token', () => {
    for (const manifest of [deployment, job]) {
      const pod = podSpec(manifest)!;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const container of pod.containers) {
        expect(container.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
        });
        // The one writable place is an emptyDir at /tmp.
        expect(container.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
      }
      expect(pod.volumes).toEqual([{ name: 'tmp', emptyDir: expect.any(Object) }]);
    }
  });

  it('every setting is wired through the ConfigMap or the Secret (REPLICA_ID: the pod name); secrets only through the Secret', () => {
    const inConfig = new Set(Object.keys(config));
    const inSecret = new Set(Object.keys(secret.stringData ?? secret.data));
    const replicaId = gateway.env.find((variable: Manifest) => variable.name === 'REPLICA_ID');
    expect(replicaId).toEqual({ name: 'REPLICA_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
    for (const name of environmentVariableNames()) {
      if (NOT_FOR_KUBERNETES.has(name) || name === 'REPLICA_ID') continue;
      const wired = SECRET_VARIABLES.has(name) ? inSecret.has(name) && !inConfig.has(name) : inConfig.has(name);
      expect({ name, wired }).toEqual({ name, wired: true });
    }
    for (const manifest of [deployment, job]) {
      for (const container of podSpec(manifest)!.containers) {
        expect(container.envFrom).toEqual([
          { configMapRef: { name: configMap.metadata.name } },
          { secretRef: { name: secret.metadata.name } },
        ]);
      }
    }
  });

  it('the ConfigMap, with real secrets in place of the placeholders, passes the gateway\'s own validation', () => {
    const env = {
      ...config,
      DATABASE_URL: 'postgres://gateway:pw@db:5432/gateway',
      CURSOR_SECRET: 'c'.repeat(40),
      CREDENTIALS_ENCRYPTION_KEY: 'ab'.repeat(32),
      REDIS_URL: '',
    };
    const parsed = validateEnvironment(env);
    expect(parsed.DATABASE_MIGRATE_ON_START).toBe(false);
    expect(parsed.METRICS_PORT).toBe(9464);
    // The placeholders themselves are refused: a forgotten Secret fails at boot, not later.
    expect(() => validateEnvironment({ ...config, ...secret.stringData })).toThrow(/DATABASE_URL/);
  });

  it('migrations: a Job runs `node dist/migrate.js` with the same image and settings; the Deployment does not migrate on start', () => {
    expect(config.DATABASE_MIGRATE_ON_START).toBe('false');
    const migrate = podSpec(job)!.containers[0];
    expect(migrate.command).toEqual(['node', 'dist/migrate.js']);
    expect(migrate.image).toBe(gateway.image);
    expect(gateway.image).toMatch(/^whatsapp-gateway:\d+\.\d+\.\d+$/);
    expect(podSpec(job)!.restartPolicy).toBe('Never');
    expect(job.spec.backoffLimit).toBeGreaterThan(0);
  });

  it('the Service selects the Deployment\'s pods and exposes the API port only; metrics are scraped from the pods', () => {
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
    expect(service.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).toBe(config.METRICS_PORT);
    expect(gateway.ports.find((port: Manifest) => port.name === 'metrics').containerPort).toBe(Number(config.METRICS_PORT));
  });

  it('the PodDisruptionBudget and HorizontalPodAutoscaler target the Deployment, and rollouts never drop capacity', () => {
    const [pdb] = find('PodDisruptionBudget');
    const [hpa] = find('HorizontalPodAutoscaler');
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  function manifestsForEach(): [string, Manifest][] {
    return render(BASE).map((manifest) => [`${manifest.kind}/${manifest.metadata.name}`, manifest]);
  }
});
