/**
 * The pack's VPC endpoint guardrails: traffic to AWS services stays on the endpoints, the
 * endpoints admit only what their policy names, and only HTTPS reaches them.
 */
import type { PolicyResource, ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

const ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint";
const ENDPOINT_POLICY = "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy";
const SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup";

/**
 * Condition keys that tie a statement to known principals or resources (the identity and
 * resource perimeter of aws-samples/data-perimeter-policy-examples vpc_endpoint_policies/).
 * Keys such as aws:SourceVpce or aws:SecureTransport hold for every call through the endpoint,
 * so they scope nothing. Service-specific keys (s3:ResourceAccount, ...) count as scoping.
 */
const PERIMETER_KEY = /^(aws:(principal|resource|userid|username|sourceaccount|sourceorg|sourcearn)|(?!aws:)[a-z0-9-]+:)/i;

interface Statement {
    Sid?: string;
    Effect?: string;
    Principal?: unknown;
    NotPrincipal?: unknown;
    Action?: string | string[];
    NotAction?: string | string[];
    Resource?: string | string[];
    NotResource?: string | string[];
    Condition?: Record<string, Record<string, unknown>>;
}

/** A policy document's statements; undefined when it is not JSON. */
function statementsOf(document: string): Statement[] | undefined {
    try {
        return [JSON.parse(document).Statement ?? []].flat() as Statement[];
    } catch {
        return undefined;
    }
}

const list = (value: string | string[] | undefined) => (value === undefined ? [] : [value].flat());
const anyPrincipal = (p: unknown) => p === "*" || (typeof p === "object" && p !== null && [(p as { AWS?: unknown }).AWS].flat().includes("*"));
const perimeterConditions = (s: Statement) => Object.values(s.Condition ?? {}).flatMap((keys) => Object.keys(keys)).filter((k) => PERIMETER_KEY.test(k));

/** An Allow that admits anyone to every action on every resource, with no perimeter condition: the default full-access policy. */
function allowsAll(s: Statement): boolean {
    const everyAction = s.NotAction !== undefined || list(s.Action).some((a) => a === "*" || /^[a-z0-9-]+:\*$/i.test(a));
    const everyResource = s.NotResource !== undefined || list(s.Resource).includes("*");
    return s.Effect === "Allow" && (anyPrincipal(s.Principal) || s.NotPrincipal !== undefined) && everyAction && everyResource && perimeterConditions(s).length === 0;
}

/** Every Allow names its callers: specific principals, or an `aws:PrincipalArn` (or user id) condition. */
function dedicatedToPrincipals(statements: Statement[]): boolean {
    const allows = statements.filter((s) => s.Effect === "Allow");
    return allows.length > 0 && allows.every((s) => !anyPrincipal(s.Principal) || perimeterConditions(s).some((k) => /^aws:(principalarn|userid|username)$/i.test(k)));
}

/** `com.amazonaws.us-west-2.sagemaker.runtime` → `sagemaker.runtime`. */
const serviceOf = (serviceName: string) => serviceName.replace(/^(cn\.)?com\.amazonaws\.[a-z0-9-]+\./, "");

export const vpcePrivateDns: ResourceValidationPolicy = {
    name: "vpce-private-dns",
    description: "Checks whether interface VPC endpoints turn private DNS on, so SDKs in the VPC reach the service through the endpoint (and its policy) rather than through the NAT gateway; an endpoint dedicated to named principals, which they call by its own DNS name, may leave it off.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set `privateDnsEnabled: true`. If the endpoint serves only some principals, who call it by its own DNS name (mlmesh's SageMaker bridge), leave it off and scope its `policy` to those principals (`aws:PrincipalArn`), or list the service in this policy's `exemptServices`.",
    configSchema: {
        properties: {
            exemptServices: { type: "array", items: { type: "string" }, default: [], description: "Services (e.g. `sagemaker.runtime`) whose interface endpoints may leave private DNS off." },
        },
    },
    validateResource: (args, report) => {
        if (args.type !== ENDPOINT || args.props.vpcEndpointType !== "Interface" || args.props.privateDnsEnabled === true) {
            return;
        }
        const serviceName = String(args.props.serviceName ?? "");
        const service = serviceOf(serviceName);
        // PrivateLink services of other accounts have private DNS only if their owner set one up.
        if (/^(cn\.)?com\.amazonaws\.vpce\./.test(serviceName) || args.getConfig<{ exemptServices: string[] }>().exemptServices.includes(service)) {
            return;
        }
        const statements = typeof args.props.policy === "string" ? statementsOf(args.props.policy) : undefined;
        if (statements && dedicatedToPrincipals(statements)) {
            return; // callers use the endpoint's own DNS name; private DNS would capture the service's name for the whole VPC
        }
        report(`VPC endpoint ${args.name} (${service}): \`privateDnsEnabled\` is ${args.props.privateDnsEnabled === false ? "false" : "unset (off)"}, so clients in the VPC resolve the public ${service} name and go around the endpoint and its policy; set \`privateDnsEnabled: true\`, or, for an endpoint only some principals call by its DNS name, scope its \`policy\` to them (\`aws:PrincipalArn\`).`);
    },
};

/** Each endpoint's effective policy document: its own, or that of a VpcEndpointPolicy attached to it. */
function endpointPolicies(resources: PolicyResource[]): Map<PolicyResource, string | undefined> {
    const endpoints = resources.filter((r) => r.type === ENDPOINT);
    const attached = resources.filter((r) => r.type === ENDPOINT_POLICY);
    return new Map(endpoints.map((endpoint) => {
        const external = attached.find((p) => (p.propertyDependencies?.vpcEndpointId ?? p.dependencies).includes(endpoint));
        return [endpoint, readPolicy(external ?? endpoint)];
    }));
}

/** A resource's `policy`; "" when unknown during preview (it will be one, but not judged now). */
function readPolicy(resource: PolicyResource): string | undefined {
    try {
        const policy = resource.props.policy;
        return typeof policy === "string" && policy.trim() !== "" ? policy : undefined;
    } catch (error) {
        if (error instanceof Error && "unknownTypeSentinel" in error) {
            return "";
        }
        throw error;
    }
}

export const vpcePolicyScoped: StackValidationPolicy = {
    name: "vpce-policy-scoped",
    description: "Checks whether every VPC endpoint has a policy narrower than the default full access: no statement allows any principal every action on every resource without a principal or resource condition.",
    enforcementLevel: "mandatory",
    remediationSteps: "Give the endpoint a `policy` that names the resources or actions its callers need, or that holds calls to your principals and resources (`aws:PrincipalArn`, `aws:PrincipalAccount`/`aws:PrincipalOrgID`, `aws:ResourceAccount`/`aws:ResourceOrgID`).",
    configSchema: {
        properties: {
            exemptServices: { type: "array", items: { type: "string" }, default: [], description: "Services (e.g. `ec2messages`) whose endpoints do not support endpoint policies." },
        },
    },
    validateStack: (args, report: ReportViolation) => {
        const { exemptServices } = args.getConfig<{ exemptServices: string[] }>();
        for (const [endpoint, policy] of endpointPolicies(args.resources)) {
            const service = serviceOf(String(endpoint.props.serviceName ?? ""));
            if (exemptServices.includes(service) || policy === "") {
                continue;
            }
            if (policy === undefined) {
                report(`VPC endpoint ${endpoint.name} (${service}): no \`policy\`, so AWS applies the default full-access policy (any principal, any action, any resource); set a \`policy\` scoped to your principals and resources.`, endpoint.urn);
                continue;
            }
            const statements = statementsOf(policy);
            const index = statements?.findIndex(allowsAll) ?? -1;
            if (statements === undefined) {
                report(`VPC endpoint ${endpoint.name} (${service}): \`policy\` is not a JSON policy document; fix it.`, endpoint.urn);
            } else if (index >= 0) {
                report(`VPC endpoint ${endpoint.name} (${service}): \`policy\` statement ${statements[index].Sid ?? index} allows any principal every action on every resource with no principal or resource condition (the default full access); name the actions and resources, or add an \`aws:PrincipalArn\`/\`aws:PrincipalOrgID\`/\`aws:ResourceAccount\` condition.`, endpoint.urn);
            }
        }
    },
};

interface IngressRule {
    protocol: string;
    fromPort?: number;
    toPort?: number;
}

const httpsOnly = (r: IngressRule) => (r.protocol === "tcp" || r.protocol === "6") && r.fromPort === 443 && r.toPort === 443;
const describeRule = (r: IngressRule) => (r.protocol === "-1" || r.protocol === "all" ? "all traffic" : `${r.protocol} ${r.fromPort}-${r.toPort}`);

/** The stack's resources that `resource` refers to through `property` (the engine's property dependencies, else every dependency). */
function referencedBy(resource: PolicyResource, property: string): PolicyResource[] {
    const byProperty = resource.propertyDependencies?.[property];
    return byProperty && byProperty.length > 0 ? byProperty : resource.dependencies;
}

/** Every ingress rule a security group gets: inline, and from standalone rule resources. */
function ingressOf(group: PolicyResource, resources: PolicyResource[]): { rule: IngressRule; from: PolicyResource }[] {
    const inline = ((group.props.ingress ?? []) as any[]).map((r) => ({ rule: { protocol: String(r.protocol), fromPort: r.fromPort, toPort: r.toPort }, from: group }));
    const standalone = resources.flatMap((r) => {
        if (!referencedBy(r, "securityGroupId").includes(group)) {
            return [];
        }
        if (r.type === "aws:ec2/securityGroupRule:SecurityGroupRule" && r.props.type === "ingress") {
            return [{ rule: { protocol: String(r.props.protocol), fromPort: r.props.fromPort, toPort: r.props.toPort }, from: r }];
        }
        if (r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
            return [{ rule: { protocol: String(r.props.ipProtocol), fromPort: r.props.fromPort, toPort: r.props.toPort }, from: r }];
        }
        return [];
    });
    return [...inline, ...standalone];
}

export const vpceSg443Only: StackValidationPolicy = {
    name: "vpce-sg-443-only",
    description: "Checks whether the security groups of interface VPC endpoints admit only HTTPS (TCP 443), the one port AWS service endpoints listen on.",
    enforcementLevel: "mandatory",
    remediationSteps: "Give each interface endpoint its own security group (in `securityGroupIds`) whose only ingress is TCP 443 from the callers' security groups or CIDRs; move other rules to the groups that need them.",
    validateStack: (args, report: ReportViolation) => {
        const endpoints = args.resources.filter((r) => r.type === ENDPOINT && r.props.vpcEndpointType === "Interface");
        for (const endpoint of endpoints) {
            let ids: unknown[] | undefined;
            try {
                ids = [...(endpoint.props.securityGroupIds ?? [])];
            } catch (error) {
                if (!(error instanceof Error && "unknownTypeSentinel" in error)) {
                    throw error;
                }
                ids = undefined; // unknown during preview: judged through its dependencies below
            }
            if (ids !== undefined && ids.length === 0) {
                report(`VPC endpoint ${endpoint.name}: no \`securityGroupIds\`, so it gets the VPC's default security group, whose rules this stack does not scope to 443; give it a security group admitting only TCP 443.`, endpoint.urn);
                continue;
            }
            const groups = referencedBy(endpoint, "securityGroupIds").filter((r) => r.type === SECURITY_GROUP);
            for (const group of groups) {
                for (const { rule, from } of ingressOf(group, args.resources).filter(({ rule }) => !httpsOnly(rule))) {
                    report(`security group ${group.name} (of VPC endpoint ${endpoint.name}): ${from === group ? "`ingress`" : `rule ${from.name}`} admits ${describeRule(rule)}; an interface endpoint needs only TCP 443, so remove it or move it to another group.`, from.urn);
                }
            }
        }
    },
};

export const networkPolicies: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [
    vpcePrivateDns,
    vpcePolicyScoped,
    vpceSg443Only,
];
