// The node flags a production process runs with, as deploy/k8s/base sets them: the flags in its
// container's `args` (between `node` and the entry, e.g. --enable-source-maps) and its
// NODE_OPTIONS (V8's heap sizes). bench/memory.ts measures each process with them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type ServiceName = 'user-service' | 'session-service' | 'authz-service';
export type ProcessRole = 'server' | 'worker';

const K8S_BASE = join(import.meta.dirname, '..', '..', 'deploy', 'k8s', 'base');

/** The manifest of a service's server (its Deployment) or worker. */
export const manifestOf = (service: ServiceName, role: ProcessRole): string =>
  join(K8S_BASE, service, role === 'server' ? 'deployment.yaml' : 'worker.yaml');

export interface NodeFlags {
  /** Flags before the entry in the container's args. */
  args: string[];
  /** The container's NODE_OPTIONS ('' when it sets none). */
  nodeOptions: string;
}

/** The flags of the container named `role` (the server's or the worker's, not an init container's). */
export function productionNodeFlags(service: ServiceName, role: ProcessRole): NodeFlags {
  const manifest = readFileSync(manifestOf(service, role), 'utf8');
  const at = manifest.indexOf(`- name: ${role}\n`);
  if (at === -1) throw new Error(`no container ${role} in ${manifestOf(service, role)}`);
  // The container runs up to the next list item at its indentation, or the pod's volumes.
  const container = manifest.slice(at).split(/\n {8}- name: |\n {6}volumes:/)[0]!;
  const args = /args: \[([^\]]*)\]/.exec(container)?.[1];
  if (!args) throw new Error(`no args in the ${role} container of ${manifestOf(service, role)}`);
  const words = args.split(',').map((word) => word.trim().replace(/^'|'$/g, ''));
  return {
    args: words.slice(1, -1),
    nodeOptions: /\{ name: NODE_OPTIONS, value: '([^']*)' \}/.exec(container)?.[1] ?? '',
  };
}

/** All of them as one NODE_OPTIONS value (node takes these flags there too). */
export function productionNodeOptions(service: ServiceName, role: ProcessRole): string {
  const { args, nodeOptions } = productionNodeFlags(service, role);
  return [...args, nodeOptions].filter(Boolean).join(' ');
}
