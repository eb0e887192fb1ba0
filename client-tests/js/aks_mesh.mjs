// The Azure JavaScript SDK (@azure/arm-containerservice, pinned in package.json) against aksim:
// creates a meshed cluster, runs a canary upgrade (start + complete), reads it, lists the mesh
// revision and upgrade profiles and the user credentials, provokes one refusal and deletes the
// cluster. Prints one JSON object with what it saw; any unexpected failure exits non-zero.
//
// Usage: node aks_mesh.mjs static|secret
//   static: a TokenCredential object returning a fixed token (no token endpoint is called);
//   secret: ClientSecretCredential with tenant "adfs" and authorityHost = aksim.
// Environment: AKSIM_BASE_URL, AKSIM_SUBSCRIPTION, AKSIM_CLIENT_ID; aksim's CA is trusted
// through NODE_EXTRA_CA_CERTS. The resource group `rg1` must exist.
import { ContainerServiceClient } from "@azure/arm-containerservice";
import { ClientSecretCredential } from "@azure/identity";

const base = process.env.AKSIM_BASE_URL;
const subscription = process.env.AKSIM_SUBSCRIPTION;
const mode = process.argv[2] ?? "static";

const credential =
  mode === "secret"
    ? new ClientSecretCredential("adfs", process.env.AKSIM_CLIENT_ID, "any-secret", {
        authorityHost: base,
      })
    : {
        getToken: async () => ({ token: "x", expiresOnTimestamp: Date.now() + 3600e3 }),
      };

const client = new ContainerServiceClient(credential, subscription, {
  endpoint: base,
  credentials: { scopes: ["https://management.core.windows.net/.default"] },
});

// Polls honour aksim's Retry-After: 1; operations end at the first poll in the tests.
const poll = { updateIntervalInMs: 100 };
const rg = "rg1";
const name = `js-${mode}`;
const timings = {};

async function timed(label, f) {
  const started = Date.now();
  const result = await f();
  timings[label] = Date.now() - started;
  return result;
}

function refusal(e) {
  return { statusCode: e.statusCode, code: e.code, message: e.message };
}

const created = await timed("create", () =>
  client.managedClusters.beginCreateOrUpdateAndWait(
    rg,
    name,
    {
      location: "eastus",
      dnsPrefix: name,
      agentPoolProfiles: [{ name: "nodepool1", count: 1, mode: "System" }],
      serviceMeshProfile: { mode: "Istio", istio: { revisions: ["asm-1-29"] } },
    },
    poll,
  ),
);

// Canary upgrade: GET → add the target → PUT; then complete by keeping only the target.
const before = await client.managedClusters.get(rg, name);
before.serviceMeshProfile.istio.revisions = ["asm-1-29", "asm-1-30"];
const started = await timed("upgradeStart", () =>
  client.managedClusters.beginCreateOrUpdateAndWait(rg, name, before, poll),
);
const startedRevisions = [...started.serviceMeshProfile.istio.revisions];
started.serviceMeshProfile.istio.revisions = ["asm-1-30"];
const completed = await timed("upgradeComplete", () =>
  client.managedClusters.beginCreateOrUpdateAndWait(rg, name, started, poll),
);

const shown = await client.managedClusters.get(rg, name);
const shownRevisions = [...shown.serviceMeshProfile.istio.revisions];

const revisionProfiles = [];
for await (const profile of client.managedClusters.listMeshRevisionProfiles("eastus")) {
  revisionProfiles.push({
    name: profile.name,
    revisions: (profile.properties?.meshRevisions ?? []).map((r) => ({
      revision: r.revision,
      upgrades: r.upgrades ?? null,
    })),
  });
}
const upgradeProfiles = [];
for await (const profile of client.managedClusters.listMeshUpgradeProfiles(rg, name)) {
  upgradeProfiles.push({
    name: profile.name,
    revision: profile.properties?.revision,
    upgrades: profile.properties?.upgrades ?? null,
  });
}

const credentials = await client.managedClusters.listClusterUserCredentials(rg, name);
const kubeconfig = Buffer.from(credentials.kubeconfigs[0].value).toString("utf8");
const server = /server:\s*"?([^"\s]+)/.exec(kubeconfig)?.[1] ?? null;

// A downgrade is refused by the server: a RestError with AKS's code and text.
let downgrade = null;
try {
  shown.serviceMeshProfile.istio.revisions = ["asm-1-30", "asm-1-29"];
  await client.managedClusters.beginCreateOrUpdateAndWait(rg, name, shown, poll);
} catch (e) {
  downgrade = refusal(e);
}

await timed("delete", () => client.managedClusters.beginDeleteAndWait(rg, name, poll));
let afterDelete = null;
try {
  await client.managedClusters.get(rg, name);
} catch (e) {
  afterDelete = refusal(e);
}

console.log(
  JSON.stringify({
    created: {
      id: created.id,
      provisioningState: created.provisioningState,
      serviceMeshProfile: created.serviceMeshProfile,
    },
    startedRevisions,
    completedRevisions: completed.serviceMeshProfile.istio.revisions,
    shown: {
      mode: shown.serviceMeshProfile.mode,
      revisions: shownRevisions,
      provisioningState: shown.provisioningState,
    },
    revisionProfiles,
    upgradeProfiles,
    credentialName: credentials.kubeconfigs[0].name,
    server,
    downgrade,
    afterDelete,
    timings,
  }),
);
