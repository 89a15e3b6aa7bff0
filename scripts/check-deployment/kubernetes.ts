import path from 'node:path';
import type { Image } from '../dockerfile';
import { fail, notes } from './findings';
import { checkContainerLimits, checkServiceLifecycle, containerEnvironment } from './kubernetes-container';
import {
  configData,
  labelsMatch,
  loadKustomization,
  LONG_RUNNING,
  podTemplate,
  WORKLOADS,
  type ConfigKind,
  type Manifest,
} from './kubernetes-manifests';
import { checkProcess } from './process-environment';
import { root } from './repository-files';
import { arr, obj, str, text } from './yaml-values';

/** What each Service exposes, by name, checking that it reaches a pod. */
function servicePortsOf(manifests: Manifest[], workloads: Manifest[]): Map<string, Set<number>> {
  const servicePorts = new Map<string, Set<number>>();
  for (const service of manifests.filter((manifest) => manifest.kind === 'Service')) {
    const where = `${service.file} Service/${service.name}`;
    const spec = obj(service.body.spec);
    const selector = obj(spec.selector);
    const target = workloads.find((workload) =>
      labelsMatch(selector, obj(obj(podTemplate(workload).metadata).labels)),
    );
    if (!target) fail(where, 'selects no pod of these manifests');
    const containers = arr(obj(target && podTemplate(target).spec).containers).map(obj);
    const containerPorts = containers.flatMap((container) => arr(container.ports).map(obj));
    const ports = new Set<number>();
    for (const port of arr(spec.ports).map(obj)) {
      ports.add(Number(port.port));
      const targetPort = port.targetPort ?? port.port;
      if (
        target &&
        !containerPorts.some(
          (candidate) => candidate.name === targetPort || candidate.containerPort === targetPort,
        )
      )
        fail(where, `targetPort ${text(targetPort)} is no container port of ${target.name}`);
    }
    servicePorts.set(service.name, ports);
  }
  return servicePorts;
}

/** HPAs scale workloads of these manifests that set no replicas; PDBs select their pods. */
function checkScaling(manifests: Manifest[], workloads: Manifest[]) {
  for (const hpa of manifests.filter((manifest) => manifest.kind === 'HorizontalPodAutoscaler')) {
    const target = obj(obj(hpa.body.spec).scaleTargetRef);
    if (!workloads.some((workload) => workload.kind === target.kind && workload.name === target.name))
      fail(
        `${hpa.file} HorizontalPodAutoscaler/${hpa.name}`,
        `scales ${text(target.kind)}/${text(target.name)}, not in these manifests`,
      );
    const scaled = workloads.find((workload) => workload.name === target.name);
    if (scaled && obj(scaled.body.spec).replicas !== undefined)
      fail(
        `${scaled.file} ${scaled.kind}/${scaled.name}`,
        'sets replicas although an HPA scales it (each apply would reset them)',
      );
  }
  for (const pdb of manifests.filter((manifest) => manifest.kind === 'PodDisruptionBudget')) {
    const selector = obj(obj(obj(pdb.body.spec).selector).matchLabels);
    if (!workloads.some((workload) => labelsMatch(selector, obj(obj(podTemplate(workload).metadata).labels))))
      fail(`${pdb.file} PodDisruptionBudget/${pdb.name}`, 'selects no pod of these manifests');
  }
}

/**
 * The Kubernetes manifests of a kustomization: every container of the platform's image runs an
 * entry point of the image with an environment its config accepts, and fits how the code listens,
 * is probed and stops. Returns each long-running workload's entry point, by workload name.
 */
export async function checkKubernetes(dir: string, image: Image): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  const manifests = loadKustomization(path.resolve(root, dir));
  const data = (kind: ConfigKind, name: string) => configData(manifests, kind, name);
  const workloads = manifests.filter((manifest) => WORKLOADS.has(manifest.kind));
  const ofKind = (kind: string) => manifests.filter((manifest) => manifest.kind === kind);
  for (const manifest of [...ofKind('ConfigMap'), ...ofKind('Secret')]) {
    const placeholders = Object.entries(data(manifest.kind as ConfigKind, manifest.name) ?? {})
      .filter(([, value]) => /CHANGE-ME|example\.(com|internal)/.test(text(value)))
      .map(([key]) => key);
    if (placeholders.length > 0)
      notes.push(
        `${manifest.file} ${manifest.kind}/${manifest.name}: placeholders to replace: ${placeholders.join(', ')}`,
      );
  }
  const servicePorts = servicePortsOf(manifests, workloads);

  for (const workload of workloads) {
    const where = `${workload.file} ${workload.kind}/${workload.name}`;
    const pod = obj(podTemplate(workload).spec);
    for (const container of arr(pod.containers).map(obj)) {
      const imageName = str(container.image) ?? '';
      if (path.posix.basename(imageName).split(':')[0] !== 'brokerage-platform') continue;
      const at = `${where} container ${str(container.name) ?? '?'}`;
      if (container.command !== undefined) {
        fail(at, 'sets command, which replaces the entrypoint (tini, SIGTERM forwarding); use args');
        continue;
      }
      const args = arr(container.args).map(String);
      const entry = args[0] ?? image.cmd[0] ?? '';
      if (LONG_RUNNING.has(workload.kind)) entries.set(workload.name, entry);
      const env = containerEnvironment(at, container, data);
      await checkProcess(image, { where: at, entry, env }, (host) => servicePorts.get(host.split('.')[0]!));
      checkContainerLimits(at, container, pod);
      if (LONG_RUNNING.has(workload.kind)) checkServiceLifecycle(at, container, pod, env);
    }
  }
  checkScaling(manifests, workloads);
  return entries;
}
