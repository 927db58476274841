import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { subnetLayout } from "../../../components/cluster/cidr";
import { ClusterVpc, subnetTags, validateClusterVpcArgs, type ClusterVpcArgs } from "../../../components/cluster/clusterVpc";
import { PlanMocks } from "../../../offline/mockOutputs";
import { runProgram, type RecordedResource } from "../../../offline/recorder";
import { s3EndpointPolicy } from "../../../components/cluster/s3EndpointPolicy";

const T = {
    component: "mlmesh:cluster:ClusterVpc",
    vpc: "aws:ec2/vpc:Vpc",
    subnet: "aws:ec2/subnet:Subnet",
    igw: "aws:ec2/internetGateway:InternetGateway",
    routeTable: "aws:ec2/routeTable:RouteTable",
    route: "aws:ec2/route:Route",
    association: "aws:ec2/routeTableAssociation:RouteTableAssociation",
    eip: "aws:ec2/eip:Eip",
    nat: "aws:ec2/natGateway:NatGateway",
    endpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
    defaultSg: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
} as const;

const BASE_ARGS: ClusterVpcArgs = { cidrBlock: "10.40.0.0/16", clusterName: "mlmesh-test", tags: { team: "ml-platform" } };
const ZONES = ["us-west-2a", "us-west-2b", "us-west-2c"];

interface Plan {
    readonly all: RecordedResource[];
    /** The recorded resources of one type token, sorted by name so zone N is at index N-1. */
    of(type: string): RecordedResource[];
}

function runVpc(overrides: Partial<ClusterVpcArgs> = {}, program = (args: ClusterVpcArgs) => { new ClusterVpc("net", args); }, region = "us-west-2") {
    return runProgram({
        project: "mlmesh",
        stack: "test",
        config: {},
        mocks: new PlanMocks({ region, accountId: "123456789012", partition: "aws" }),
        program: () => program({ ...BASE_ARGS, ...overrides }),
    });
}

/** Runs a ClusterVpc named `net` and groups what it registered by type token. */
async function planVpc(overrides: Partial<ClusterVpcArgs> = {}): Promise<Plan> {
    const { resources } = await runVpc(overrides);
    const groups = new Map<string, RecordedResource[]>();
    for (const resource of [...resources].sort((a, b) => a.name.localeCompare(b.name))) {
        groups.set(resource.type, [...(groups.get(resource.type) ?? []), resource]);
    }
    return {
        all: resources,
        of: (type) => groups.get(type) ?? [],
    };
}

/** The mock id of a recorded AWS resource: the last segment of its ARN. */
const idOf = (resource: RecordedResource) => String(resource.outputs.arn).split("/").pop();
const input = (resource: RecordedResource, key: string) => resource.inputs[key];
const tier = (plan: Plan, which: "private" | "public") => plan.of(T.subnet).filter((s) => s.name.startsWith(`net-${which}-`));
const byId = (plan: Plan, type: string, id: unknown) => plan.of(type).find((r) => idOf(r) === id) ?? assert.fail(`no ${type} with id ${id}`);

/** The NAT gateway that the default route of the route table associated with `subnet` targets. */
function natFor(plan: Plan, subnet: RecordedResource): RecordedResource {
    const association = plan.of(T.association).find((a) => input(a, "subnetId") === idOf(subnet)) ?? assert.fail(`${subnet.name} has no route table`);
    const route = plan.of(T.route).find((r) => input(r, "routeTableId") === input(association, "routeTableId") && input(r, "destinationCidrBlock") === "0.0.0.0/0");
    return byId(plan, T.nat, input(route ?? assert.fail(`${subnet.name} has no default route`), "natGatewayId"));
}

describe("ClusterVpc with default arguments", () => {
    let plan: Plan;
    before(async () => {
        plan = await planVpc();
    });

    it("creates one VPC with DNS support, DNS hostnames and the given CIDR block", () => {
        assert.equal(plan.of(T.vpc).length, 1);
        assert.deepEqual(
            [input(plan.of(T.vpc)[0], "cidrBlock"), input(plan.of(T.vpc)[0], "enableDnsSupport"), input(plan.of(T.vpc)[0], "enableDnsHostnames")],
            ["10.40.0.0/16", true, true],
        );
    });

    it("protects the VPC and every subnet from deletion only when asked (prod): replacing them replaces everything in them", async () => {
        assert.deepEqual([...plan.of(T.vpc), ...plan.of(T.subnet)].filter((r) => r.options.protect === true).map((r) => r.name), []);
        const protectedPlan = await planVpc({ protect: true });
        assert.deepEqual([...protectedPlan.of(T.vpc), ...protectedPlan.of(T.subnet)].filter((r) => r.options.protect !== true).map((r) => r.name), []);
        assert.deepEqual(protectedPlan.of(T.nat).filter((r) => r.options.protect === true).map((r) => r.name), [], "NAT gateways are replaceable: --compare guards them as traffic-bearing");
    });

    it("creates one private and one public subnet per zone with the CIDRs from subnetLayout", () => {
        const layout = subnetLayout("10.40.0.0/16", 3);
        assert.deepEqual(tier(plan, "private").map((s) => input(s, "cidrBlock")), layout.privateCidrs);
        assert.deepEqual(tier(plan, "public").map((s) => input(s, "cidrBlock")), layout.publicCidrs);
        assert.equal(plan.of(T.subnet).length, 6);
    });

    // EKS refuses subnets in use1-az3, usw1-az2 and cac1-az3 (awsdocs/amazon-eks-user-guide:latest/ug/networking/network-reqs.adoc);
    // the offline account maps us-east-1a to use1-az3, as a real account may.
    it("places subnets by zone ID when the zones are pinned, in the order given, whatever the lookup lists first", async () => {
        const { resources } = await runVpc({ availabilityZoneIds: ["use1-az6", "use1-az1", "use1-az2"] }, undefined, "us-east-1");
        const subnets = resources.filter((r) => r.type === T.subnet).sort((a, b) => a.name.localeCompare(b.name));
        assert.deepEqual(subnets.map((s) => [s.name, s.inputs.availabilityZoneId, s.inputs.availabilityZone]), [
            ["net-private-1", "use1-az6", undefined], ["net-private-2", "use1-az1", undefined], ["net-private-3", "use1-az2", undefined],
            ["net-public-1", "use1-az6", undefined], ["net-public-2", "use1-az1", undefined], ["net-public-3", "use1-az2", undefined],
        ]);
    });

    it("fails naming the zone when a pinned zone ID is not an available zone EKS accepts", async () => {
        await assert.rejects(runVpc({ availabilityZoneIds: ["use1-az1", "use1-az9"] }, undefined, "us-east-1"), /availabilityZoneIds has use1-az9, which is not an available zone of the region that EKS accepts/);
    });

    it("never places a subnet in a zone EKS refuses: us-east-1's use1-az3 is left out", async () => {
        const { resources } = await runVpc({}, undefined, "us-east-1");
        const zones = [...new Set(resources.filter((r) => r.type === T.subnet).map((r) => String(r.inputs.availabilityZone)))].sort();
        assert.deepEqual(zones, ["us-east-1b", "us-east-1c", "us-east-1d"]);
    });

    for (const which of ["private", "public"] as const) {
        it(`places the ${which} subnets in distinct zones taken in order from the region`, () => {
            assert.deepEqual(tier(plan, which).map((s) => input(s, "availabilityZone")), ZONES);
        });
    }

    const expectedTags = {
        private: { "kubernetes.io/role/internal-elb": "1", "kubernetes.io/cluster/mlmesh-test": "shared" },
        public: { "kubernetes.io/role/elb": "1", "kubernetes.io/cluster/mlmesh-test": "shared" },
    };
    for (const [which, tags] of Object.entries(expectedTags) as ["private" | "public", Record<string, string>][]) {
        it(`tags the ${which} subnets for ${which === "private" ? "internal" : "internet-facing"} load balancers of the cluster only`, () => {
            for (const subnet of tier(plan, which)) {
                const actual = input(subnet, "tags") as Record<string, string>;
                assert.deepEqual(Object.fromEntries(Object.keys(tags).map((key) => [key, actual[key]])), tags, subnet.name);
                const otherRole = which === "private" ? "kubernetes.io/role/elb" : "kubernetes.io/role/internal-elb";
                assert.equal(actual[otherRole], undefined, subnet.name);
            }
        });
    }

    it("maps no public IPs on launch in any subnet", () => {
        assert.deepEqual(plan.of(T.subnet).map((s) => input(s, "mapPublicIpOnLaunch")), Array(6).fill(false));
    });

    it("creates one NAT gateway with its own Elastic IP in each zone's public subnet", () => {
        const nats = plan.of(T.nat);
        assert.equal(nats.length, 3);
        assert.equal(plan.of(T.eip).length, 3);
        assert.deepEqual(nats.map((n) => byId(plan, T.eip, input(n, "allocationId")).name), ["net-nat-1", "net-nat-2", "net-nat-3"]);
        assert.deepEqual(nats.map((n) => byId(plan, T.subnet, input(n, "subnetId")).name), ["net-public-1", "net-public-2", "net-public-3"]);
    });

    it("routes each private subnet's default route to the NAT gateway in its own zone", () => {
        for (const subnet of tier(plan, "private")) {
            const natSubnet = byId(plan, T.subnet, input(natFor(plan, subnet), "subnetId"));
            assert.equal(input(natSubnet, "availabilityZone"), input(subnet, "availabilityZone"), subnet.name);
        }
    });

    it("routes every public subnet through one route table whose default route is the internet gateway", () => {
        const publicTable = idOf(plan.of(T.routeTable).find((t) => t.name === "net-public-rt") ?? assert.fail("no public route table"));
        const route = plan.of(T.route).find((r) => input(r, "routeTableId") === publicTable);
        assert.deepEqual(route?.inputs, { destinationCidrBlock: "0.0.0.0/0", gatewayId: idOf(plan.of(T.igw)[0]), routeTableId: publicTable });
        const tables = tier(plan, "public").map((s) => plan.of(T.association).find((a) => input(a, "subnetId") === idOf(s)));
        assert.deepEqual(tables.map((a) => a && input(a, "routeTableId")), Array(3).fill(publicTable));
    });

    it("makes every NAT gateway depend explicitly on the internet gateway", () => {
        const igw = plan.of(T.igw);
        assert.equal(igw.length, 1);
        for (const nat of plan.of(T.nat)) {
            assert.ok(nat.options.dependsOn?.includes(igw[0].urn), `${nat.name} dependsOn ${nat.options.dependsOn}`);
        }
    });

    it("attaches an S3 gateway endpoint for the region to every private route table", () => {
        const [endpoint, ...others] = plan.of(T.endpoint);
        assert.equal(others.length, 0);
        assert.equal(input(endpoint, "serviceName"), "com.amazonaws.us-west-2.s3");
        assert.equal(input(endpoint, "vpcEndpointType"), "Gateway");
        const privateTables = plan.of(T.routeTable).filter((t) => t.name.startsWith("net-private-rt-")).map(idOf);
        assert.equal(privateTables.length, 3);
        assert.deepEqual([...(input(endpoint, "routeTableIds") as string[])].sort(), privateTables.sort());
    });

    it("limits the S3 endpoint to the account's buckets and the AWS-owned ones nodes read", () => {
        const [endpoint] = plan.of(T.endpoint);
        assert.deepEqual(JSON.parse(String(input(endpoint, "policy"))), s3EndpointPolicy({ partition: "aws", region: "us-west-2", accountId: "123456789012" }));
    });

    it("takes over the default security group with no ingress or egress rules", () => {
        const [group, ...others] = plan.of(T.defaultSg);
        assert.equal(others.length, 0);
        assert.equal(input(group, "vpcId"), idOf(plan.of(T.vpc)[0]));
        for (const key of ["ingress", "egress"]) {
            const rules = input(group, key);
            assert.ok(rules === undefined || (Array.isArray(rules) && rules.length === 0), `${key} is ${JSON.stringify(rules)}`);
        }
    });

    it("names every child resource with the component name as prefix", () => {
        const children = plan.all.filter((r) => r.type.startsWith("aws:"));
        assert.ok(children.length > 0);
        assert.deepEqual(children.filter((r) => !r.name.startsWith("net-")).map((r) => r.name), []);
    });

    it("parents every child resource through a chain that leads to the component", () => {
        const component = plan.of(T.component);
        assert.equal(component.length, 1);
        const parentOf = new Map(plan.all.map((r) => [r.urn, r.parent]));
        const leadsToComponent = (urn: string | undefined, depth = 0): boolean =>
            urn === component[0].urn || (urn !== undefined && depth < 10 && leadsToComponent(parentOf.get(urn), depth + 1));
        const orphans = plan.all.filter((r) => r.type.startsWith("aws:") && !leadsToComponent(r.parent)).map((r) => r.name);
        assert.deepEqual(orphans, []);
    });

    for (const type of [T.vpc, T.subnet, T.igw, T.routeTable, T.eip, T.nat, T.endpoint, T.defaultSg]) {
        it(`applies the user tags to every ${type.split(":").pop()} along with its Name`, () => {
            for (const resource of plan.of(type)) {
                const tags = input(resource, "tags") as Record<string, string>;
                assert.deepEqual([tags.team, tags.Name], ["ml-platform", resource.name], resource.name);
            }
        });
    }
});

describe("ClusterVpc with natGateways single", () => {
    let plan: Plan;
    before(async () => {
        plan = await planVpc({ natGateways: "single" });
    });

    it("creates one NAT gateway and one Elastic IP, in the first zone's public subnet", () => {
        assert.deepEqual(plan.of(T.nat).map((n) => n.name), ["net-nat-1"]);
        assert.deepEqual(plan.of(T.eip).map((e) => e.name), ["net-nat-1"]);
        assert.equal(byId(plan, T.subnet, input(plan.of(T.nat)[0], "subnetId")).name, "net-public-1");
    });

    it("routes every private subnet's default route to the single NAT gateway", () => {
        assert.deepEqual(tier(plan, "private").map((s) => natFor(plan, s).name), ["net-nat-1", "net-nat-1", "net-nat-1"]);
    });
});

describe("ClusterVpc argument validation", () => {
    const isPropertiesError = (paths: string[]) => (error: unknown) => {
        assert.ok(pulumi.InputPropertiesError.isInstance(error), `not an InputPropertiesError: ${error}`);
        assert.deepEqual(error.errors.map((e) => e.propertyPath), paths);
        return true;
    };
    const bad: [string, Partial<ClusterVpcArgs>][] = [
        ["cidrBlock", { cidrBlock: "8.8.0.0/16" }],
        ["availabilityZoneCount", { availabilityZoneCount: 1 }],
        ["natGateways", { natGateways: "triple" as ClusterVpcArgs["natGateways"] }],
        ["s3Accounts[0]", { s3Accounts: ["12345"] }],
        ["clusterName", { clusterName: "-mlmesh" }],
    ];
    for (const [property, overrides] of bad) {
        it(`throws an InputPropertiesError naming ${property} when it is ${JSON.stringify(Object.values(overrides)[0])}`, async () => {
            await assert.rejects(planVpc(overrides), isPropertiesError([property]));
        });
    }

    const allBad = Object.assign({}, ...bad.map(([, overrides]) => overrides)) as Partial<ClusterVpcArgs>;

    it("reports every bad argument in one error", async () => {
        await assert.rejects(planVpc(allBad), isPropertiesError(bad.map(([property]) => property)));
    });

    it("registers no AWS resource when the arguments are invalid", async () => {
        let caught: unknown;
        const run = await runVpc(allBad, (args) => {
            try {
                new ClusterVpc("net", args);
            } catch (error) {
                caught = error;
            }
        });
        assert.ok(pulumi.InputPropertiesError.isInstance(caught));
        assert.deepEqual(run.resources.filter((r) => r.type.startsWith("aws:")).map((r) => r.name), []);
    });

    it("reports the paths under the given prefix and nothing for valid arguments", () => {
        assert.deepEqual(validateClusterVpcArgs(BASE_ARGS, undefined, "network.create.").list, []);
        const paths = validateClusterVpcArgs({ ...BASE_ARGS, ...allBad }, undefined, "network.create.").list.map((p) => p.path);
        assert.deepEqual(paths, bad.map(([property]) => `network.create.${property}`));
    });

    const zoneCounts: [number | undefined, boolean][] = [[undefined, true], [2, true], [6, true], [0, false], [7, false], [2.5, false]];
    for (const [availabilityZoneCount, valid] of zoneCounts) {
        it(`${valid ? "accepts" : "rejects"} availabilityZoneCount ${availabilityZoneCount}`, () => {
            assert.equal(validateClusterVpcArgs({ ...BASE_ARGS, availabilityZoneCount }).list.length, valid ? 0 : 1);
        });
    }

    const names: [string, boolean][] = [["mlmesh-test", true], ["A", true], ["a".repeat(100), true], ["a".repeat(101), false], ["-cluster", false], ["", false], ["ml mesh", false]];
    for (const [clusterName, valid] of names) {
        it(`${valid ? "accepts" : "rejects"} the cluster name ${JSON.stringify(clusterName.length > 20 ? `${clusterName.slice(0, 3)}…(${clusterName.length})` : clusterName)}`, () => {
            assert.equal(validateClusterVpcArgs({ ...BASE_ARGS, clusterName }).list.length, valid ? 0 : 1);
        });
    }
});

describe("subnetTags", () => {
    const cases: ["public" | "private", string][] = [["public", "kubernetes.io/role/elb"], ["private", "kubernetes.io/role/internal-elb"]];
    for (const [which, role] of cases) {
        it(`marks ${which} subnets with ${role}, the shared cluster tag and the tier`, () => {
            assert.deepEqual(subnetTags("gpu-prod", which), { "kubernetes.io/cluster/gpu-prod": "shared", [role]: "1", "mlmesh.io/subnet-tier": which });
        });
    }
});
