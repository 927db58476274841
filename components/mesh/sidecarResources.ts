/**
 * The Istio sidecar's resources and worker threads as a typed, validated value: parse once,
 * compare requests with limits, and render the pod annotations Istio's injector reads.
 * @see https://istio.io/latest/docs/reference/config/annotations/
 */
import { PropertyErrors } from "../propertyErrors";
import { parseQuantity, requestAboveLimit } from "./quantity";

export interface SidecarResourcesSpec {
    /** CPU request, e.g. "100m". */
    cpu?: string;
    /** Memory request, e.g. "128Mi". */
    memory?: string;
    cpuLimit?: string;
    memoryLimit?: string;
    /** Envoy worker threads; 0 means one per CPU core the node has. */
    concurrency?: number;
}

export const SIDECAR_CONCURRENCY_RANGE = { min: 0, max: 64 } as const;

/** The annotations Istio's sidecar injector reads. */
export const SIDECAR_ANNOTATIONS = {
    cpu: "sidecar.istio.io/proxyCPU",
    memory: "sidecar.istio.io/proxyMemory",
    cpuLimit: "sidecar.istio.io/proxyCPULimit",
    memoryLimit: "sidecar.istio.io/proxyMemoryLimit",
    proxyConfig: "proxy.istio.io/config",
} as const;

/** A complete, checked set of sidecar resources. Build it with {@link SidecarResources.of}. */
export class SidecarResources {
    private constructor(
        readonly cpu: string,
        readonly memory: string,
        readonly cpuLimit: string,
        readonly memoryLimit: string,
        readonly concurrency: number,
    ) {}

    /**
     * Checks a complete spec (every field set): valid quantities, each request no higher than its
     * limit, concurrency in range. Records each bad field under `path`; returns whether it is valid.
     */
    static validate(spec: Required<SidecarResourcesSpec>, errors: PropertyErrors, path = "sidecar"): boolean {
        const before = errors.list.length;
        const quantities = [["cpu", "cpu"], ["cpuLimit", "cpu"], ["memory", "memory"], ["memoryLimit", "memory"]] as const;
        for (const [field, kind] of quantities) {
            const parsed = parseQuantity(spec[field], kind);
            errors.check(`${path}.${field}`, spec[field], typeof parsed === "string" ? parsed : undefined);
        }
        // Each pair is compared only when both of its quantities parse.
        errors.check(`${path}.cpu`, spec.cpu, requestAboveLimit(spec.cpu, spec.cpuLimit, "cpu", "cpuLimit"));
        errors.check(`${path}.memory`, spec.memory, requestAboveLimit(spec.memory, spec.memoryLimit, "memory", "memoryLimit"));
        const { min, max } = SIDECAR_CONCURRENCY_RANGE;
        errors.check(`${path}.concurrency`, spec.concurrency, Number.isInteger(spec.concurrency) && spec.concurrency >= min && spec.concurrency <= max
            ? undefined
            : `must be a whole number from ${min} to ${max} (0: one worker per node core)`);
        return errors.list.length === before;
    }

    /** Builds a checked value; throws InputPropertiesError naming each bad field under `path`. */
    static of(spec: Required<SidecarResourcesSpec>, path = "sidecar"): SidecarResources {
        const errors = new PropertyErrors();
        SidecarResources.validate(spec, errors, path);
        errors.throwIfAny("SidecarResources");
        return new SidecarResources(spec.cpu, spec.memory, spec.cpuLimit, spec.memoryLimit, spec.concurrency);
    }

    /** This value with a workload's fields laid over it; the result is checked as a whole. */
    override(spec: SidecarResourcesSpec | undefined, path = "sidecar"): SidecarResources {
        return SidecarResources.of({
            cpu: spec?.cpu ?? this.cpu,
            memory: spec?.memory ?? this.memory,
            cpuLimit: spec?.cpuLimit ?? this.cpuLimit,
            memoryLimit: spec?.memoryLimit ?? this.memoryLimit,
            concurrency: spec?.concurrency ?? this.concurrency,
        }, path);
    }

    /** Pod annotations that size this pod's sidecar. */
    annotations(): Record<string, string> {
        return {
            [SIDECAR_ANNOTATIONS.cpu]: this.cpu,
            [SIDECAR_ANNOTATIONS.memory]: this.memory,
            [SIDECAR_ANNOTATIONS.cpuLimit]: this.cpuLimit,
            [SIDECAR_ANNOTATIONS.memoryLimit]: this.memoryLimit,
            [SIDECAR_ANNOTATIONS.proxyConfig]: JSON.stringify({ concurrency: this.concurrency }),
        };
    }

    /** The mesh-wide default, as istiod's `global.proxy.resources` value. */
    helmResources(): { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } } {
        return { requests: { cpu: this.cpu, memory: this.memory }, limits: { cpu: this.cpuLimit, memory: this.memoryLimit } };
    }
}
