/**
 * The size rules of a node group, shared by config validation and the components.
 */

export interface NodeScaling {
    readonly minSize: number;
    readonly maxSize: number;
    readonly desiredSize?: number;
}

/** One broken size rule: the field to change and why. */
export interface ScalingProblem {
    readonly field: keyof NodeScaling;
    readonly value: number | undefined;
    readonly reason: string;
}

/** `maxSize ≥ minSize`, and `desiredSize` within them (checked only once the range is sound). */
export function scalingProblems(scaling: NodeScaling): ScalingProblem[] {
    const { minSize, maxSize, desiredSize } = scaling;
    if (maxSize < minSize) {
        return [{ field: "maxSize", value: maxSize, reason: `is below \`minSize\` (${minSize}); raise maxSize or lower minSize` }];
    }
    if (desiredSize !== undefined && (desiredSize < minSize || desiredSize > maxSize)) {
        return [{ field: "desiredSize", value: desiredSize, reason: `must lie between \`minSize\` (${minSize}) and \`maxSize\` (${maxSize})` }];
    }
    return [];
}
