/**
 * The pack's pod hardening beyond the workload rules: no access to the node (host namespaces,
 * host paths, host ports) and no capability beyond what a server needs. Counterparts: Kyverno's
 * pod-security baseline `disallow-host-namespaces`, `disallow-host-path`, `disallow-host-ports`
 * and restricted `disallow-capabilities-strict` (kyverno/policies pod-security-cel/).
 */
import type { PolicyConfigSchema, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { containersOf, describeObject, kubernetesObject, podSpecOf, type KubeObject } from "./kubernetes";

const exemptionsSchema: PolicyConfigSchema = {
    properties: {
        exemptions: { type: "array", items: { type: "string" }, default: [], description: "`namespace/name` of workloads that must reach the node, e.g. a node agent." },
    },
};

/** The object and its pod spec, unless exempt or not a workload. */
function workload(type: string, props: Record<string, any>, exemptions: readonly string[]): { object: KubeObject; pod: any; at: string } | undefined {
    const object = kubernetesObject(type, props);
    const pod = object && podSpecOf(object);
    if (!object || !pod || exemptions.includes(`${object.metadata.namespace ?? "default"}/${object.metadata.name}`)) {
        return undefined;
    }
    return { object, pod, at: object.kind === "Pod" ? "spec" : object.kind === "CronJob" ? "spec.jobTemplate.spec.template.spec" : "spec.template.spec" };
}

export const k8sNoHostAccess: ResourceValidationPolicy = {
    name: "k8s-no-host-access",
    description: "Checks whether pods stay out of the node: no host network, PID or IPC namespace, no hostPath volume and no host port.",
    enforcementLevel: "mandatory",
    remediationSteps: "Remove hostNetwork, hostPID and hostIPC, replace hostPath volumes with emptyDir, a ConfigMap or a PersistentVolumeClaim, and expose ports through a Service instead of hostPort; list a node agent that truly needs the node under `exemptions`.",
    configSchema: exemptionsSchema,
    validateResource: (args, report) => {
        const found = workload(args.type, args.props, args.getConfig<{ exemptions: string[] }>().exemptions);
        if (!found) {
            return;
        }
        const { object, pod, at } = found;
        const problems = [
            ...(["hostNetwork", "hostPID", "hostIPC"] as const).filter((field) => pod[field] === true).map((field) => `\`${at}.${field}\` is true`),
            ...((pod.volumes ?? []) as any[]).flatMap((v, i) => (v.hostPath ? [`\`${at}.volumes[${i}]\` (${v.name}) mounts the node's ${v.hostPath.path}`] : [])),
            ...containersOf(pod).flatMap(({ container, field }) => ((container.ports ?? []) as any[]).flatMap((port, i) => (port.hostPort ? [`\`${at}.${field}.ports[${i}].hostPort\` is ${port.hostPort}`] : []))),
        ];
        for (const problem of problems) {
            report(`${describeObject(object)}: ${problem}, which reaches into the node; remove it, or list ${object.metadata.namespace ?? "default"}/${object.metadata.name} under exemptions if it is a node agent.`);
        }
    },
};

/** The one capability a restricted pod may add (Pod Security restricted). */
const ALLOWED_ADDED = ["NET_BIND_SERVICE"];

export const k8sDropCapabilities: ResourceValidationPolicy = {
    name: "k8s-drop-capabilities",
    description: "Checks whether every container drops all Linux capabilities and adds none but NET_BIND_SERVICE, as Pod Security restricted requires.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set `securityContext.capabilities: { drop: [ALL] }` on every container, and add back NET_BIND_SERVICE only if it binds a port below 1024.",
    configSchema: exemptionsSchema,
    validateResource: (args, report) => {
        const found = workload(args.type, args.props, args.getConfig<{ exemptions: string[] }>().exemptions);
        if (!found) {
            return;
        }
        const { object, pod, at } = found;
        for (const { container, field } of containersOf(pod)) {
            const capabilities = container.securityContext?.capabilities ?? {};
            // Exact names, as Pod Security compares them (k8s.io/pod-security-admission policy/check_capabilities_restricted.go).
            const dropped = (capabilities.drop ?? []) as string[];
            const added = ((capabilities.add ?? []) as string[]).filter((c) => !ALLOWED_ADDED.includes(c));
            if (!dropped.includes("ALL")) {
                report(`${describeObject(object)}: \`${at}.${field}.securityContext.capabilities.drop\` does not include ALL; drop every capability the server does not need (all of them, for a model server).`);
            }
            if (added.length > 0) {
                report(`${describeObject(object)}: \`${at}.${field}.securityContext.capabilities.add\` adds ${added.join(", ")}; remove it (only NET_BIND_SERVICE may be added).`);
            }
        }
    },
};

export const podHardeningPolicies: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [k8sNoHostAccess, k8sDropCapabilities];
