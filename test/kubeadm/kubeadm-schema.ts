// A structural checker for kubeadm's v1beta3 configuration API (Kubernetes 1.30), written from the Go types in
// cmd/kubeadm/app/apis/kubeadm/v1beta3/types.go and bootstraptoken/v1 (no JSON schema is published for them):
// unknown fields (kubeadm's strict decoding warns and drops them), wrong types, missing required fields, and the
// validation kubeadm itself applies to the fields these sites use (token format, certificate key, discovery).

/** A field type: a primitive, a list or map of a type, or an object with its fields. */
type FieldType =
  | 'string'
  | 'int'
  | 'bool'
  | 'duration'
  | { readonly list: FieldType }
  | { readonly map: FieldType }
  | ObjectType;

interface ObjectType {
  readonly fields: { readonly [name: string]: FieldType };
  readonly required?: readonly string[];
}

export const KUBEADM_V1BETA3 = 'kubeadm.k8s.io/v1beta3';

const apiEndpoint: ObjectType = { fields: { advertiseAddress: 'string', bindPort: 'int' } };
const taint: ObjectType = { fields: { key: 'string', value: 'string', effect: 'string', timeAdded: 'string' }, required: ['key', 'effect'] };
const nodeRegistration: ObjectType = {
  fields: {
    name: 'string', criSocket: 'string', taints: { list: taint }, kubeletExtraArgs: { map: 'string' }, ignorePreflightErrors: { list: 'string' },
    imagePullPolicy: 'string',
  },
};
const hostPathMount: ObjectType = { fields: { name: 'string', hostPath: 'string', mountPath: 'string', readOnly: 'bool', pathType: 'string' }, required: ['name', 'hostPath', 'mountPath'] };
const controlPlaneComponent = { extraArgs: { map: 'string' as const }, extraVolumes: { list: hostPathMount } };
const patches: ObjectType = { fields: { directory: 'string' } };
const bootstrapToken: ObjectType = {
  fields: { token: 'string', description: 'string', ttl: 'duration', expires: 'string', usages: { list: 'string' }, groups: { list: 'string' } },
  required: ['token'],
};

const KINDS: { readonly [kind: string]: ObjectType } = {
  InitConfiguration: {
    fields: {
      apiVersion: 'string', kind: 'string', bootstrapTokens: { list: bootstrapToken }, nodeRegistration, localAPIEndpoint: apiEndpoint,
      certificateKey: 'string', skipPhases: { list: 'string' }, patches,
    },
  },
  ClusterConfiguration: {
    fields: {
      apiVersion: 'string', kind: 'string',
      etcd: {
        fields: {
          local: { fields: { imageRepository: 'string', imageTag: 'string', dataDir: 'string', extraArgs: { map: 'string' }, serverCertSANs: { list: 'string' }, peerCertSANs: { list: 'string' } } },
          external: { fields: { endpoints: { list: 'string' }, caFile: 'string', certFile: 'string', keyFile: 'string' }, required: ['endpoints'] },
        },
      },
      networking: { fields: { serviceSubnet: 'string', podSubnet: 'string', dnsDomain: 'string' } },
      kubernetesVersion: 'string',
      controlPlaneEndpoint: 'string',
      apiServer: { fields: { ...controlPlaneComponent, certSANs: { list: 'string' }, timeoutForControlPlane: 'duration' } },
      controllerManager: { fields: controlPlaneComponent },
      scheduler: { fields: controlPlaneComponent },
      dns: { fields: { imageRepository: 'string', imageTag: 'string' } },
      certificatesDir: 'string',
      imageRepository: 'string',
      featureGates: { map: 'bool' },
      clusterName: 'string',
    },
  },
  JoinConfiguration: {
    fields: {
      apiVersion: 'string', kind: 'string', nodeRegistration, caCertPath: 'string',
      discovery: {
        fields: {
          bootstrapToken: {
            fields: { token: 'string', apiServerEndpoint: 'string', caCertHashes: { list: 'string' }, unsafeSkipCAVerification: 'bool' },
            required: ['token'],
          },
          file: { fields: { kubeConfigPath: 'string' }, required: ['kubeConfigPath'] },
          tlsBootstrapToken: 'string',
          timeout: 'duration',
        },
      },
      controlPlane: { fields: { localAPIEndpoint: apiEndpoint, certificateKey: 'string' } },
      skipPhases: { list: 'string' },
      patches,
    },
    required: ['discovery'],
  },
};

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function checkType(value: unknown, type: FieldType, path: string, problems: string[]): void {
  if (type === 'string') {
    if (typeof value !== 'string') problems.push(`${path}: ${JSON.stringify(value)} is not a string`);
  } else if (type === 'int') {
    if (!Number.isInteger(value)) problems.push(`${path}: ${JSON.stringify(value)} is not an integer`);
  } else if (type === 'bool') {
    if (typeof value !== 'boolean') problems.push(`${path}: ${JSON.stringify(value)} is not a boolean`);
  } else if (type === 'duration') {
    // metav1.Duration: Go's time.ParseDuration syntax.
    if (typeof value !== 'string' || !/^(\d+(\.\d+)?(h|m|s|ms|us|ns))+$|^0$/.test(value)) problems.push(`${path}: ${JSON.stringify(value)} is not a Go duration`);
  } else if ('list' in type) {
    if (!Array.isArray(value)) problems.push(`${path}: not a list`);
    else value.forEach((item, i) => checkType(item, type.list, `${path}[${i}]`, problems));
  } else if ('map' in type) {
    if (!isObject(value)) problems.push(`${path}: not a map`);
    else Object.entries(value).forEach(([key, item]) => checkType(item, type.map, `${path}.${key}`, problems));
  } else if (!isObject(value)) {
    problems.push(`${path}: not an object`);
  } else {
    for (const [key, item] of Object.entries(value)) {
      const field = type.fields[key];
      if (field === undefined) problems.push(`${path}.${key}: unknown field`);
      else checkType(item, field, `${path}.${key}`, problems);
    }
    (type.required ?? []).filter((key) => value[key] === undefined).forEach((key) => problems.push(`${path}.${key}: required`));
  }
}

const TOKEN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;
const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;

/**
 * Problems of one kubeadm document: structure against the v1beta3 types, then kubeadm's own validation of the
 * fields the sites use. Pass documents with Terraform references already replaced by plausible values.
 */
export function kubeadmDocumentProblems(document: unknown): string[] {
  if (!isObject(document)) {
    return ['the document is not an object'];
  }
  const kind = String(document.kind);
  const problems: string[] = [];
  if (document.apiVersion !== KUBEADM_V1BETA3) problems.push(`apiVersion: ${JSON.stringify(document.apiVersion)} is not ${KUBEADM_V1BETA3}`);
  const type = KINDS[kind];
  if (!type) {
    return [...problems, `kind: ${JSON.stringify(document.kind)} is not a kubeadm v1beta3 kind`];
  }
  checkType(document, type, kind, problems);
  const registration = document.nodeRegistration as Record<string, unknown> | undefined;
  if (registration?.criSocket !== undefined && !/^unix:\/\/\//.test(String(registration.criSocket))) problems.push(`${kind}.nodeRegistration.criSocket: not a unix:// URL`);
  if (kind === 'InitConfiguration') {
    for (const token of (document.bootstrapTokens as Record<string, unknown>[] | undefined) ?? []) {
      if (!TOKEN.test(String(token.token))) problems.push(`${kind}.bootstrapTokens[].token: ${JSON.stringify(token.token)} is not [a-z0-9]{6}.[a-z0-9]{16}`);
    }
  }
  const certificateKey = kind === 'InitConfiguration' ? document.certificateKey : (document.controlPlane as Record<string, unknown> | undefined)?.certificateKey;
  if (certificateKey !== undefined && !/^[0-9a-f]{64}$/.test(String(certificateKey))) problems.push(`${kind}: certificateKey ${JSON.stringify(certificateKey)} is not 32 bytes in hex`);
  if (kind === 'ClusterConfiguration') {
    if (!/^v1\.\d+\.\d+$/.test(String(document.kubernetesVersion))) problems.push(`${kind}.kubernetesVersion: ${JSON.stringify(document.kubernetesVersion)} is not v1.x.y`);
    if (!/^[A-Za-z0-9.-]+:\d+$/.test(String(document.controlPlaneEndpoint))) problems.push(`${kind}.controlPlaneEndpoint: ${JSON.stringify(document.controlPlaneEndpoint)} is not host:port`);
    const networking = (document.networking ?? {}) as Record<string, unknown>;
    for (const key of ['podSubnet', 'serviceSubnet']) {
      if (networking[key] !== undefined && !CIDR.test(String(networking[key]))) problems.push(`${kind}.networking.${key}: not a CIDR`);
    }
    const etcd = (document.etcd ?? {}) as Record<string, unknown>;
    if (etcd.local !== undefined && etcd.external !== undefined) problems.push(`${kind}.etcd: local and external are mutually exclusive`);
  }
  if (kind === 'JoinConfiguration' && isObject(document.discovery)) {
    const discovery = document.discovery;
    if ((discovery.bootstrapToken === undefined) === (discovery.file === undefined)) problems.push(`${kind}.discovery: exactly one of bootstrapToken and file`);
    if (discovery.file !== undefined && !TOKEN.test(String(discovery.tlsBootstrapToken))) {
      problems.push(`${kind}.discovery.tlsBootstrapToken: ${JSON.stringify(discovery.tlsBootstrapToken)} is required with file discovery and must be a bootstrap token`);
    }
  }
  return problems;
}
