import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { AppConfig } from '../../src/config/app-config';
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
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
};

/**
 * Variables left out on purpose: the embedded PostgreSQL is for laptops; HOST unset means every
 * interface; SYNC_RECORD_DIR (debug recordings) needs a writable volume the pods do not have; the
 * simulator's settings are for tests and the demo.
 */
const NOT_FOR_KUBERNETES = new Set([
  'EMBEDDED_POSTGRES_DIR',
  'EMBEDDED_POSTGRES_PORT',
  'HOST',
  'SYNC_RECORD_DIR',
  'WHATSAPP_SIMULATOR_ROOT_KEY',
  'WHATSAPP_SIMULATOR_MEDIA_CA',
]);

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

/** The example Secret: documented beside the base, never applied by it. */
function exampleSecret(): Manifest {
  return parse(readFileSync(join(BASE, 'secret.example.yaml'), 'utf8')) as Manifest;
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
  const secret = exampleSecret();
  const [service] = find('Service');
  const gateway = podSpec(deployment)!.containers[0];
  const config = configMap.data as Record<string, string>;

  it('renders one of each expected kind, with unique names', () => {
    expect(manifests.map((m) => m.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'HorizontalPodAutoscaler',
      'Job',
      'NetworkPolicy',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'Service',
      'ServiceAccount',
    ]);
    const ids = manifests.map((m) => `${m.kind}/${m.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('applies no Secret (it would overwrite the real one with placeholders); the example Secret validates and names every secret', () => {
    expect(manifests.filter((m) => m.kind === 'Secret')).toEqual([]);
    expect(() => new Secret(secret as any).validate()).not.toThrow();
    expect(Object.keys(secret.stringData).sort()).toEqual([...SECRET_VARIABLES].sort());
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
    for (const container of podSpec(deployment)!.containers) {
      expect(container.envFrom).toEqual([{ configMapRef: { name: configMap.metadata.name } }, { secretRef: { name: secret.metadata.name } }]);
    }
  });

  it('the migration Job gets the ConfigMap and DATABASE_URL only, not the credentials key, cursor secret or Redis URL', () => {
    const migrate = podSpec(job)!.containers[0];
    expect(migrate.envFrom).toEqual([{ configMapRef: { name: configMap.metadata.name } }]);
    const fromSecrets = migrate.env.filter((variable: Manifest) => variable.valueFrom?.secretKeyRef);
    expect(fromSecrets).toEqual([{ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: secret.metadata.name, key: 'DATABASE_URL' } } }]);
  });

  it("the ConfigMap, with real secrets in place of the placeholders, passes the gateway's own validation", () => {
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
    expect(() => AppConfig.forServer(env)).not.toThrow();
  });

  it('production rules: every placeholder of the example Secret is refused, and without the secrets the server does not start', () => {
    expect(config.NODE_ENV).toBe('production');
    expect(config.ALLOW_SECRETS_IN_DATABASE).toBe('false');
    const placeholders = Object.entries(secret.stringData as Record<string, string>).filter(([, value]) => value !== '');
    expect(placeholders.map(([name]) => name).sort()).toEqual(['CREDENTIALS_ENCRYPTION_KEY', 'CURSOR_SECRET', 'DATABASE_URL']);
    for (const [name, value] of placeholders) {
      const env = {
        ...config,
        DATABASE_URL: 'postgres://gateway:pw@db:5432/gateway',
        CURSOR_SECRET: 'c'.repeat(40),
        CREDENTIALS_ENCRYPTION_KEY: 'ab'.repeat(32),
        [name]: value,
      };
      expect(() => AppConfig.forServer(env)).toThrow(new RegExp(name));
    }
    expect(() => AppConfig.forServer({ ...config, DATABASE_URL: 'postgres://gateway:pw@db:5432/gateway' })).toThrow(/CREDENTIALS_ENCRYPTION_KEY is required/);
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

  it("the Service selects the Deployment's pods and exposes the API port only; metrics are scraped from the pods", () => {
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
    // With an HPA, `replicas` in the Deployment would scale it back on every apply.
    expect(deployment.spec).not.toHaveProperty('replicas');
  });

  it('NetworkPolicies: the API pods accept the http port from anyone and metrics from the monitoring namespace only; the Job accepts nothing', () => {
    const [api] = manifests.filter((m) => m.kind === 'NetworkPolicy' && m.spec.podSelector.matchLabels['app.kubernetes.io/component'] === 'api');
    const [migrate] = manifests.filter((m) => m.kind === 'NetworkPolicy' && m.spec.podSelector.matchLabels['app.kubernetes.io/component'] === 'migrate');
    expect(api.spec.podSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(migrate.spec.podSelector.matchLabels).toEqual(job.spec.template.metadata.labels);
    for (const policy of [api, migrate]) expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    const containerPorts = new Set(gateway.ports.map((port: Manifest) => port.name));
    const ingressPorts = api.spec.ingress.flatMap((rule: Manifest) => rule.ports.map((port: Manifest) => port.port));
    expect(ingressPorts.sort()).toEqual(['http', 'metrics']);
    for (const port of ingressPorts) expect(containerPorts.has(port)).toBe(true);
    const metricsRule = api.spec.ingress.find((rule: Manifest) => rule.ports.some((port: Manifest) => port.port === 'metrics'));
    expect(metricsRule.from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
    const egressPorts = (policy: Manifest) =>
      policy.spec.egress.flatMap((rule: Manifest) => rule.ports.map((port: Manifest) => port.port)).sort((a: number, b: number) => a - b);
    expect(egressPorts(api)).toEqual([53, 53, 443, 5432, 6379]);
    expect(migrate.spec.ingress).toBeUndefined();
    expect(egressPorts(migrate)).toEqual([53, 53, 5432]);
  });

  function manifestsForEach(): [string, Manifest][] {
    return render(BASE).map((manifest) => [`${manifest.kind}/${manifest.metadata.name}`, manifest]);
  }
});
