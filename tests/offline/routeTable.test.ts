import * as assert from "node:assert/strict";
import { doorTable } from "../../components/gateway/doorRoutes";
import type { PlanResult } from "../../offline/plan";
import { planBackends } from "../../offline/planBackends";
import { renderRoutesMarkdown, routeRows, routesMermaid, type RouteTableInput } from "../../offline/routeTable";
import type { IstioObject } from "../../offline/routes";
import { parseStackConfig } from "../../stacks/config";
import { readStackFile } from "../../offline/stackFile";
import { plannedStack } from "./fixtures/plannedStack";

describe("the route table of the planned dev stack", () => {
    let input: RouteTableInput;
    before(async () => {
        const result: PlanResult = await plannedStack("dev");
        const config = parseStackConfig(readStackFile(result.configFile).config, "dev");
        input = {
            objects: result.resources.filter((r) => /\.istio\.io\//.test(r.type)).map((r) => r.inputs as unknown as IstioObject),
            backends: planBackends(result.resources),
            table: doorTable(config.models, config.cluster.name),
            hosts: config.mesh.ingressGateway.hosts,
            jwt: config.mesh.ingressGateway.jwt,
        };
    });
    const row = (path: string, rows = routeRows(input)) => rows.find((r) => r.path === path) ?? assert.fail(`no row for ${path}`);

    it("has a row per public path, the per-path overrides included, each with its legs and traffic policy", () => {
        const chat = row("/openai/assistant/v1/chat/completions");
        assert.deepEqual([chat.legs, chat.timeout, chat.retries], [[{ weight: 100, target: "assistant-predictor.ml-serving.svc.cluster.local:80", path: "/openai/v1/chat/completions" }], "120s", "2 × 60s on 5xx,reset"]);
        assert.deepEqual(row("/v1/models/churn:predict").legs.map((l) => [l.weight, l.path]), [[80, "/endpoints/churn-xgb-2024/invocations"], [20, "/v1/models/churn-kserve:predict"]]);
    });
    it("says who may call: the token and claims at the door, the identities in the mesh", () => {
        assert.equal(row("/v1/models/fraud:predict").callers, "token from https://login.dev.example.com/oauth2/default with groups ∈ {fraud-analysts}; mesh: cluster.local/ns/ml-frontend/sa/frontend-sa");
        assert.equal(row("/v1/models/bert:predict").callers, "token from https://login.dev.example.com/oauth2/default; mesh: none");
    });
    it("reports a leg that no longer arrives, and routes.md lists it under Problems", () => {
        // Without the listener's SNI, the gateway's filter chain refuses the second hop.
        const objects = input.objects.map((o) => (o.kind === "DestinationRule" && o.metadata.name === "mlmesh-split" ? { ...o, spec: { ...o.spec, trafficPolicy: { tls: { mode: "ISTIO_MUTUAL" } } } } : o));
        const rows = routeRows({ ...input, objects });
        assert.match(row("/v1/models/churn:predict", rows).problems[0], /no TLS filter chain on port 9443/);
        const markdown = renderRoutesMarkdown("dev", rows, { ...input, objects });
        assert.match(markdown, /\*\*1 path\(s\) do not reach a server that admits them\*\*/);
        assert.match(markdown, /## Problems\n\n- `POST \/v1\/models\/churn:predict`: mlmesh-split/);
    });
    it("draws the split's weights to its legs and each model's weights to its backends", () => {
        const mermaid = routesMermaid(routeRows(input), input);
        assert.match(mermaid, /m_ml_tabular_churn -- 20% --> m_ml_tabular_churn_kserve/);
        assert.match(mermaid, /m_ml_serving_resnet -- 90% --> b_resnet_ml_serving_svc_cluster_local_v1_8501\[\(resnet\.ml-serving\.svc\.cluster\.local\/v1:8501\)\]/);
        assert.match(mermaid, /users\(\[clients with a token\]\) --> gw\[ingress gateway<br>inference\.dev\.example\.com\]/);
    });
    it("is judged for in-mesh callers when there is no public host", () => {
        const rows = routeRows({ ...input, hosts: [] });
        assert.deepEqual([row("/v1/models/churn:predict", rows).via, row("/v1/models/churn:predict", rows).problems], ["mesh", []]);
        assert.deepEqual(row("/v1/models/bert:predict", rows).legs, [], "no in-mesh caller is allowed, so nothing to judge");
    });
});
