import * as assert from "node:assert/strict";
import fc from "fast-check";
import { parseCidr, subnetLayout, vpcCidrProblem } from "../../../components/cluster/cidr";

/** An address range `[start, end)` computed independently of the code under test. */
function range(cidr: string): { start: number; end: number; size: number } {
    const [address, prefix] = cidr.split("/");
    const start = address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
    const size = 2 ** (32 - Number(prefix));
    return { start, end: start + size, size };
}

function formatAddress(value: number): string {
    return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

describe("parseCidr", () => {
    const valid: [string, number, number][] = [
        ["10.40.0.0/16", 10 * 2 ** 24 + 40 * 2 ** 16, 16],
        ["192.168.1.0/24", 192 * 2 ** 24 + 168 * 2 ** 16 + 1 * 2 ** 8, 24],
        ["0.0.0.0/0", 0, 0],
        ["255.255.255.255/32", 2 ** 32 - 1, 32],
    ];
    for (const [text, base, prefix] of valid) {
        it(`parses ${text} into its base address and prefix`, () => {
            assert.deepEqual(parseCidr(text), { base, prefix });
        });
    }

    const badSyntax = ["", "10.40.0.0", "10.40.0/16", "10.40.0.0/", "10.40.0.0/016", "a.b.c.d/16", " 10.40.0.0/16", "10.40.0.0/16 ", "1000.0.0.0/8", "10.40.0.0\\16"];
    for (const text of badSyntax) {
        it(`rejects ${JSON.stringify(text)} as not an IPv4 CIDR block with an example of the right form`, () => {
            const result = parseCidr(text);
            assert.equal(typeof result, "string");
            assert.match(result as string, /is not an IPv4 CIDR block.*10\.40\.0\.0\/16/);
        });
    }

    const outOfRange = ["256.0.0.0/16", "10.300.0.0/16", "10.0.0.999/32", "10.0.0.0/33", "10.0.0.0/99"];
    for (const text of outOfRange) {
        it(`rejects ${text} for an octet above 255 or a prefix above 32`, () => {
            assert.equal(parseCidr(text), "has an octet above 255 or a prefix above 32");
        });
    }

    const hostBits: [string, string][] = [
        ["10.40.1.0/16", "10.40.0.0/16"],
        ["10.40.0.1/16", "10.40.0.0/16"],
        ["192.168.1.77/24", "192.168.1.0/24"],
        ["172.31.255.255/12", "172.16.0.0/12"],
        ["10.40.17.0/20", "10.40.16.0/20"],
        ["1.2.3.4/0", "0.0.0.0/0"],
    ];
    for (const [text, network] of hostBits) {
        it(`rejects ${text} for host bits set and suggests the network address ${network}`, () => {
            assert.equal(parseCidr(text), `has host bits set; the network address is ${network}`);
        });
    }
});

describe("vpcCidrProblem", () => {
    const accepted = [
        "10.0.0.0/16", "10.40.0.0/16", "10.255.240.0/20", "10.40.16.0/20",
        "172.16.0.0/16", "172.31.0.0/16", "172.20.48.0/20",
        "192.168.0.0/16", "192.168.16.0/20", "192.168.0.0/18",
    ];
    for (const text of accepted) {
        it(`accepts the private block ${text}`, () => {
            assert.equal(vpcCidrProblem(text), undefined);
        });
    }

    const rejected: [string, RegExp][] = [
        ["10.0.0.0/12", /has prefix \/12; use a prefix from \/16 to \/20/],
        ["172.16.0.0/12", /has prefix \/12; use a prefix from \/16 to \/20/],
        ["10.0.0.0/15", /has prefix \/15/],
        ["10.40.0.0/21", /has prefix \/21/],
        ["10.40.0.0/24", /has prefix \/24; use a prefix from \/16 to \/20/],
        ["192.168.1.0/24", /has prefix \/24/],
        ["8.8.0.0/16", /is not private address space; use a block inside 10\.0\.0\.0\/8, 172\.16\.0\.0\/12 or 192\.168\.0\.0\/16/],
        ["100.64.0.0/16", /is not private address space/],
        ["172.32.0.0/16", /is not private address space/],
        ["172.15.0.0/16", /is not private address space/],
        ["192.169.0.0/16", /is not private address space/],
        ["11.0.0.0/16", /is not private address space/],
        ["10.40.1.0/16", /has host bits set; the network address is 10\.40\.0\.0\/16/],
        ["10.40.0.0", /is not an IPv4 CIDR block/],
        ["10.256.0.0/16", /octet above 255/],
    ];
    for (const [text, reason] of rejected) {
        it(`rejects ${text} with a reason matching ${reason.source}`, () => {
            assert.match(vpcCidrProblem(text) ?? "", reason);
        });
    }
});

describe("subnetLayout", () => {
    const layouts: [number, string[], string[]][] = [
        [2, ["10.40.0.0/18", "10.40.64.0/18"], ["10.40.192.0/19", "10.40.224.0/19"]],
        [3, ["10.40.0.0/18", "10.40.64.0/18", "10.40.128.0/18"], ["10.40.192.0/20", "10.40.208.0/20", "10.40.224.0/20"]],
        [4, ["10.40.0.0/19", "10.40.32.0/19", "10.40.64.0/19", "10.40.96.0/19"], ["10.40.224.0/21", "10.40.232.0/21", "10.40.240.0/21", "10.40.248.0/21"]],
        [
            6,
            ["10.40.0.0/19", "10.40.32.0/19", "10.40.64.0/19", "10.40.96.0/19", "10.40.128.0/19", "10.40.160.0/19"],
            ["10.40.224.0/22", "10.40.228.0/22", "10.40.232.0/22", "10.40.236.0/22", "10.40.240.0/22", "10.40.244.0/22"],
        ],
    ];
    for (const [azCount, privateCidrs, publicCidrs] of layouts) {
        it(`lays out 10.40.0.0/16 for ${azCount} zones as the documented private and public blocks`, () => {
            assert.deepEqual(subnetLayout("10.40.0.0/16", azCount), { privateCidrs, publicCidrs });
        });
    }

    for (const azCount of [0, 1, 7, 2.5]) {
        it(`throws for azCount ${azCount}, outside 2..6`, () => {
            assert.throws(() => subnetLayout("10.40.0.0/16", azCount), /azCount .* is outside 2\.\.6/);
        });
    }

    it("throws for a VPC CIDR that is not a network address", () => {
        assert.throws(() => subnetLayout("10.40.1.0/16", 3), /VPC CIDR 10\.40\.1\.0\/16 has host bits set/);
    });

    describe("for any private VPC from /16 to /20 inside 10.0.0.0/8 and 2 to 6 zones", () => {
        const vpcArbitrary = fc.integer({ min: 16, max: 20 }).chain((prefix) =>
            fc.integer({ min: 0, max: 2 ** (prefix - 8) - 1 }).map((index) => `${formatAddress(10 * 2 ** 24 + index * 2 ** (32 - prefix))}/${prefix}`),
        );
        const zoneArbitrary = fc.integer({ min: 2, max: 6 });
        const forAll = (check: (vpc: string, azCount: number, layout: ReturnType<typeof subnetLayout>) => void) =>
            fc.assert(fc.property(vpcArbitrary, zoneArbitrary, (vpc, azCount) => check(vpc, azCount, subnetLayout(vpc, azCount))), { numRuns: 300 });

        it("generates only VPCs that vpcCidrProblem accepts", () => {
            fc.assert(fc.property(vpcArbitrary, (vpc) => assert.equal(vpcCidrProblem(vpc), undefined)));
        });

        it("returns one private and one public subnet per zone", () => {
            forAll((_vpc, azCount, layout) => {
                assert.equal(layout.privateCidrs.length, azCount);
                assert.equal(layout.publicCidrs.length, azCount);
            });
        });

        it("returns subnets that are network addresses and lie inside the VPC", () => {
            forAll((vpc, _azCount, layout) => {
                const outer = range(vpc);
                for (const cidr of [...layout.privateCidrs, ...layout.publicCidrs]) {
                    assert.equal(typeof parseCidr(cidr), "object", `${cidr} is not a network address`);
                    const inner = range(cidr);
                    assert.ok(inner.start >= outer.start && inner.end <= outer.end, `${cidr} is outside ${vpc}`);
                }
            });
        });

        it("returns subnets no two of which overlap", () => {
            forAll((_vpc, _azCount, layout) => {
                const all = [...layout.privateCidrs, ...layout.publicCidrs];
                all.forEach((a, i) => all.slice(i + 1).forEach((b) => {
                    const [x, y] = [range(a), range(b)];
                    assert.ok(x.end <= y.start || y.end <= x.start, `${a} overlaps ${b}`);
                }));
            });
        });

        it("makes every private subnet larger than every public subnet", () => {
            forAll((_vpc, _azCount, layout) => {
                const smallestPrivate = Math.min(...layout.privateCidrs.map((cidr) => range(cidr).size));
                const largestPublic = Math.max(...layout.publicCidrs.map((cidr) => range(cidr).size));
                assert.ok(smallestPrivate > largestPublic, `private ${layout.privateCidrs} vs public ${layout.publicCidrs}`);
            });
        });
    });
});
