import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** What the deploy tests read of a rendered Kubernetes object. */
export interface K8sObject {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  spec?: {
    template: {
      spec: {
        containers: Array<{
          env?: Array<{ name: string; value: string }>;
          envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
          volumeMounts?: Array<{ name: string; mountPath: string }>;
        }>;
        volumes?: Array<{ name: string; secret?: { secretName: string } }>;
      };
    };
  };
}

const DEV_OVERLAY = join(import.meta.dirname, '..', '..', 'deploy', 'k8s', 'overlays', 'dev');

/**
 * The dev overlay as `kubectl kustomize` renders it (offline; kubectl is on this kind of machine).
 * Without kubectl the deploy tests fail naming it rather than skip.
 */
export function renderDevOverlay(): K8sObject[] {
  return renderKustomization(DEV_OVERLAY);
}

/** Any kustomization directory (paths inside it relative, as kustomize wants them). */
export function renderKustomization(dir: string): K8sObject[] {
  let rendered: string;
  try {
    rendered = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  } catch (error) {
    throw new Error(
      `kubectl kustomize ${dir} failed (install kubectl): ${(error as Error).message}`,
    );
  }
  return parseAllDocuments(rendered).map((d) => d.toJS() as K8sObject);
}
