import { fail } from './findings';
import { OPAQUE, type EnvValue } from './process-environment';
import type { ConfigKind } from './kubernetes-manifests';
import { arr, obj, str, text, type Obj } from './yaml-values';

/** The ops routes every service serves (common/service/src/health.ts). */
const LIVENESS_PATH = '/health';
const READINESS_PATH = '/ready';

/** Seconds a process may need to exit after its shutdown timeout fired (flush logs, close sockets). */
const EXIT_MARGIN_SECONDS = 5;

type ConfigData = (kind: ConfigKind, name: string) => Obj | undefined;

/** A container's environment, with its ConfigMap and Secret references resolved. */
export function containerEnvironment(at: string, container: Obj, data: ConfigData): Map<string, EnvValue> {
  const env = new Map<string, EnvValue>();
  for (const variable of arr(container.env).map(obj)) {
    const name = str(variable.name) ?? '';
    if (variable.value !== undefined) {
      env.set(name, text(variable.value));
      continue;
    }
    const from = obj(variable.valueFrom);
    const reference = from.configMapKeyRef ?? from.secretKeyRef;
    if (!reference) {
      env.set(name, OPAQUE);
      continue;
    }
    const kind = from.configMapKeyRef ? 'ConfigMap' : 'Secret';
    const { name: source, key, optional } = obj(reference);
    const values = data(kind, text(source));
    const value = values?.[text(key)];
    if (value === undefined) {
      if (optional !== true)
        fail(
          at,
          `${name} refers to ${kind} ${text(source)} key ${text(key)}, which these manifests do not define`,
        );
      env.set(name, OPAQUE);
    } else {
      env.set(name, text(value));
    }
  }
  for (const source of arr(container.envFrom).map(obj)) {
    const reference = obj(source.configMapRef ?? source.secretRef);
    const values = data(source.configMapRef ? 'ConfigMap' : 'Secret', text(reference.name));
    if (!values) fail(at, `envFrom ${text(reference.name)}: not defined in these manifests`);
    for (const [key, value] of Object.entries(values ?? {}))
      env.set(`${str(source.prefix) ?? ''}${key}`, text(value));
  }
  return env;
}

/** Resources and security settings every container of the platform's image needs. */
export function checkContainerLimits(at: string, container: Obj, pod: Obj) {
  const resources = obj(container.resources);
  for (const kind of ['requests', 'limits'])
    for (const resource of ['cpu', 'memory'])
      if (obj(resources[kind])[resource] === undefined) fail(at, `has no resources.${kind}.${resource}`);
  const podSecurity = obj(pod.securityContext);
  const security = obj(container.securityContext);
  const runAsNonRoot = security.runAsNonRoot ?? podSecurity.runAsNonRoot;
  const runAsUser = security.runAsUser ?? podSecurity.runAsUser;
  if (runAsNonRoot !== true) fail(at, 'does not set runAsNonRoot: true');
  if (typeof runAsUser !== 'number' || runAsUser === 0)
    fail(at, 'needs a numeric non-zero runAsUser (the image user `node` is a name the kubelet cannot check)');
  if (security.readOnlyRootFilesystem !== true) fail(at, 'does not set readOnlyRootFilesystem: true');
  if (security.allowPrivilegeEscalation !== false) fail(at, 'does not set allowPrivilegeEscalation: false');
}

/**
 * A long-running service's port, probes and shutdown: it listens on a container port, is probed on
 * the ops routes there, and its grace period outlasts preStop plus its own shutdown timeout.
 */
export function checkServiceLifecycle(at: string, container: Obj, pod: Obj, env: Map<string, EnvValue>) {
  const portValue = env.get('PORT');
  const port = typeof portValue === 'string' ? Number(portValue) : undefined;
  const ports = arr(container.ports).map(obj);
  if (port === undefined) fail(at, 'does not set PORT');
  else if (!ports.some((candidate) => candidate.containerPort === port))
    fail(at, `listens on PORT ${port}, which is not among its containerPorts`);
  const probePort = (probe: Obj) => {
    const target = obj(probe.httpGet).port;
    return typeof target === 'number'
      ? target
      : ports.find((candidate) => candidate.name === target)?.containerPort;
  };
  for (const [probeName, wanted] of [
    ['livenessProbe', LIVENESS_PATH],
    ['readinessProbe', READINESS_PATH],
  ] as const) {
    const probe = obj(container[probeName]);
    const httpGet = obj(probe.httpGet);
    if (httpGet.path !== wanted) fail(at, `${probeName} should be httpGet ${wanted}`);
    else if (port !== undefined && probePort(probe) !== port)
      fail(at, `${probeName} does not probe PORT ${port}`);
  }
  const shutdownValue = env.get('SHUTDOWN_TIMEOUT_MS');
  const shutdownSeconds = (typeof shutdownValue === 'string' ? Number(shutdownValue) : 15_000) / 1000;
  const preStop = arr(obj(obj(obj(container.lifecycle).preStop).exec).command).map(String);
  const preStopSeconds = preStop[0] === 'sleep' ? Number(preStop[1] ?? 0) : 0;
  const grace =
    typeof pod.terminationGracePeriodSeconds === 'number' ? pod.terminationGracePeriodSeconds : 30;
  const needed = preStopSeconds + shutdownSeconds + EXIT_MARGIN_SECONDS;
  if (grace < needed)
    fail(
      at,
      `terminationGracePeriodSeconds ${grace} < preStop ${preStopSeconds} s + SHUTDOWN_TIMEOUT_MS ${shutdownSeconds} s + ${EXIT_MARGIN_SECONDS} s: SIGKILL before the graceful stop ends`,
    );
}
