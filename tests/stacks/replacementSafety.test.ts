import * as assert from "node:assert/strict";
import type { PlanResult } from "../../offline/plan";
import { plannedStack } from "../offline/fixtures/plannedStack";

/**
 * What prod keeps through a replacement or a deletion: everything that loses data or every
 * workload when replaced is protected, KMS keys outlive the stack, and no key is deleted before
 * its replacement exists.
 */
describe("replacement safety of the committed stacks", () => {
    const plans: Record<string, PlanResult> = {};
    before(async () => {
        for (const stack of ["dev", "prod"]) {
            plans[stack] = await plannedStack(stack);
        }
    });

    const of = (stack: string, type: string) => plans[stack].resources.filter((r) => r.type === type);

    // [type, what it holds]: every one of them in prod is protected.
    const PROTECTED: [string, string][] = [
        ["aws:kms/key:Key", "the secrets key and each SageMaker endpoint's key"],
        ["aws:sagemaker/endpoint:Endpoint", "the SageMaker endpoints"],
        ["aws:ec2/vpc:Vpc", "the VPC"],
        ["aws:ec2/subnet:Subnet", "every subnet"],
    ];
    for (const [type, what] of PROTECTED) {
        it(`protects ${what} in prod, and nothing in dev`, () => {
            assert.ok(of("prod", type).length > 0, `prod has no ${type}`);
            assert.deepEqual(of("prod", type).filter((r) => r.options.protect !== true).map((r) => r.name), []);
            assert.deepEqual(of("dev", type).filter((r) => r.options.protect === true).map((r) => r.name), []);
        });
    }

    it("protects the ingress NLB's Service (the gateway release that renders it, and its namespace) in prod, and not in dev", () => {
        const gateway = (stack: string) => of(stack, "kubernetes:helm.sh/v3:Release").filter((r) => r.inputs.chart === "gateway").map((r) => r.options.protect === true);
        const namespace = (stack: string) => of(stack, "kubernetes:core/v1:Namespace").filter((r) => (r.inputs.metadata as { name?: string }).name === "istio-ingress").map((r) => r.options.protect === true);
        assert.deepEqual([gateway("prod"), namespace("prod"), gateway("dev"), namespace("dev")], [[true], [true], [false], [false]]);
    });

    it("protects the prod control plane (through a transform on the eks component) and turns on EKS deletion protection; dev neither", () => {
        const [prod] = of("prod", "eks:index:Cluster");
        const [dev] = of("dev", "eks:index:Cluster");
        assert.deepEqual([prod.options.transforms, prod.inputs.deletionProtection, dev.options.transforms, dev.inputs.deletionProtection], [2, true, 1, false]);
    });

    it("keeps every prod KMS key when it leaves the stack, and never deletes one before its replacement", () => {
        const keys = of("prod", "aws:kms/key:Key");
        assert.deepEqual(keys.filter((k) => k.options.retainOnDelete !== true).map((k) => k.name), []);
        assert.deepEqual([...keys, ...of("dev", "aws:kms/key:Key")].filter((k) => k.options.deleteBeforeReplace !== undefined).map((k) => k.name), []);
    });

    // EKS's upgrade policy, set explicitly: EXTENDED, since STANDARD cannot be set on a version already in extended support (1.33 since July 2026).
    for (const [stack, supportType] of [["dev", "EXTENDED"], ["prod", "EXTENDED"]]) {
        it(`sets the EKS upgrade policy of ${stack} to ${supportType}`, () => {
            assert.deepEqual(of(stack, "eks:index:Cluster")[0].inputs.upgradePolicy, { supportType });
        });
    }
});
