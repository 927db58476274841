/**
 * How the pack's Kubernetes rules see an object, whoever made it: a typed `kubernetes:*`
 * resource, a CustomResource (`kubernetes:<group>/<version>:<Kind>`), or a YAML document
 * `mlmesh check` read. Pure; no import from outside policy-pack/, so the pack publishes alone.
 */

export interface KubeObject {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: { readonly name?: string; readonly namespace?: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
    readonly spec?: any;
    readonly [key: string]: unknown;
}

/** `kubernetes:apps/v1:Deployment` → `{ apiVersion: "apps/v1", kind: "Deployment" }`; core is `core/v1` → `v1`. Helm releases and providers are not objects. */
export function kubernetesType(type: string): { apiVersion: string; kind: string } | undefined {
    const match = /^kubernetes:([^:]+):([A-Za-z0-9]+)$/.exec(type);
    if (!match || match[1].startsWith("helm.sh/") || match[1].startsWith("yaml/") || type.startsWith("kubernetes:index:")) {
        return undefined;
    }
    return { apiVersion: match[1].replace(/^core\//, ""), kind: match[2] };
}

const seen = new WeakMap<object, { type: string; object: KubeObject | undefined }>();

/**
 * The object a resource stands for, or undefined when it is not a Kubernetes object. Made once per
 * resource's props: every rule of the pack asks for it, and reading the props (the engine's
 * proxy, which checks each value for unknowns) is the expensive part.
 */
export function kubernetesObject(type: string, props: Record<string, any>): KubeObject | undefined {
    const known = seen.get(props);
    if (known?.type === type) {
        return known.object;
    }
    const kind = kubernetesType(type);
    const object = kind ? ({ ...props, apiVersion: kind.apiVersion, kind: kind.kind, metadata: props.metadata ?? {} } as KubeObject) : undefined;
    seen.set(props, { type, object });
    return object;
}

/** Kinds that carry a pod template, and where. */
export const POD_TEMPLATE_KINDS = ["Pod", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet"] as const;

/** The pod spec an object runs (a CronJob's through its job template), or undefined. */
export function podSpecOf(object: KubeObject): any | undefined {
    switch (object.kind) {
        case "Pod":
            return object.spec;
        case "CronJob":
            return object.spec?.jobTemplate?.spec?.template?.spec;
        default:
            return (POD_TEMPLATE_KINDS as readonly string[]).includes(object.kind) ? object.spec?.template?.spec : undefined;
    }
}

/** The pod template's metadata (labels, annotations), or the Pod's own. */
export function podMetadataOf(object: KubeObject): { labels?: Record<string, string>; annotations?: Record<string, string> } {
    if (object.kind === "Pod") {
        return object.metadata;
    }
    const template = object.kind === "CronJob" ? object.spec?.jobTemplate?.spec?.template : object.spec?.template;
    return template?.metadata ?? {};
}

export interface ContainerRef {
    readonly container: any;
    /** `spec.containers[0]`, `spec.initContainers[1]`, relative to the pod spec. */
    readonly field: string;
    readonly init: boolean;
}

/** Every container of a pod spec, init containers included. */
export function containersOf(podSpec: any): ContainerRef[] {
    return [
        ...((podSpec?.initContainers ?? []) as any[]).map((container, i) => ({ container, field: `initContainers[${i}]`, init: true })),
        ...((podSpec?.containers ?? []) as any[]).map((container, i) => ({ container, field: `containers[${i}]`, init: false })),
    ];
}

/** How messages name an object: `Deployment ml-serving/resnet-v1`. */
export function describeObject(object: KubeObject): string {
    return `${object.kind} ${object.metadata.namespace ? `${object.metadata.namespace}/` : ""}${object.metadata.name ?? "(unnamed)"}`;
}
