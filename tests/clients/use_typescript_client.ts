import createClient from "openapi-fetch";
import type { components, paths } from "./advisor";

// Run by tests/test_generated_client.py: calls the server at argv[2] through a client typed
// from its /openapi.json (advisor.d.ts, generated beside this file): every kind of operation,
// and each error a client can meet, a 429 through the API key argv[3] (which the server lists
// with a small limit of its own). Prints "ok" when every check held. Compiling it with
// tsc --strict checks the types of the calls and answers.

type Advice = components["schemas"]["Advice"];
type Problem = components["schemas"]["Problem"];

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`failed: ${what}`);
}

async function main(base: string, key: string): Promise<void> {
  const advisor = createClient<paths>({ baseUrl: base });

  const advice = await advisor.POST("/v1/advice", {
    body: { stage: "after", hours_since: 2, via_agency: true, plans: ["Three pints, then drive home"] },
  });
  // The operation also answers text/calendar (a string) when asked: this asked for JSON.
  check(advice.data !== undefined && typeof advice.data !== "string", "advice answered as JSON");
  const answer = advice.data as Advice;
  check(answer.actions[0].id === "call-recruiter", "first action");
  check(answer.plans[0].verdict === "reject", "plan rejected");
  const next: number[] = answer.upcoming.map((action) => action.starts_in_hours);
  check(next.length > 0 && next.every((hours) => hours > 0), "upcoming actions start later");

  const verdict = await advisor.POST("/v1/moderate", { body: { text: "Drive home after a few pints." } });
  check(verdict.data?.flagged === true, "moderation flags");

  const missing = await advisor.GET("/v1/guidance/{item_id}", { params: { path: { item_id: "no-such-action" } } });
  const notFound: Problem | undefined = missing.error;
  check(missing.response.status === 404 && notFound?.status === 404, "404 problem");

  const refused = await advisor.POST("/v1/advice", { body: { stage: "after", hours_since: 50000 } });
  check(refused.response.status === 422 && "hours_since" in (refused.error?.errors ?? {}), "422 names the field");

  // The other operations, each read as its type.
  const draft = await advisor.POST("/v1/drafts", {
    body: { state: { stage: "after", hours_since: 2 }, action: "send-thank-you" },
  });
  check(draft.data?.channel === "email" && draft.data.guidance.length > 0, "a draft");
  const guidance = await advisor.GET("/v1/guidance");
  check((guidance.data?.guidance.length ?? 0) > 0, "the guidance");
  const rejected = await advisor.GET("/v1/rejected");
  check(rejected.data?.rejected.some((item) => item.category === "bribery") === true, "the rejected advice");
  const sources = await advisor.GET("/v1/sources");
  check(sources.data?.sources.length === 5, "the sources");
  const source = await advisor.GET("/v1/sources/{item_id}", { params: { path: { item_id: "accolade" } } });
  check(source.data?.nature === "satirical", "one source");
  const ready = await advisor.GET("/health/ready");
  check(ready.data?.status === "ready", "readiness");

  // Each error a client can meet is a Problem.
  const stale = await advisor.GET("/v1/guidance", { params: { header: { "If-Match": '"stale"' } } });
  check(stale.response.status === 412 && stale.error?.status === 412, "412 problem");
  const huge = await advisor.POST("/v1/moderate", { body: { text: "a".repeat(300_000) } });
  check(huge.response.status === 413 && huge.error?.status === 413, "413 problem");
  const html = await advisor.POST("/v1/advice", { body: { stage: "after" }, headers: { Accept: "text/html" } });
  check(html.response.status === 406 && html.error?.status === 406, "406 problem");
  const text = await advisor.POST("/v1/moderate", {
    body: { text: "Hi." },
    headers: { "Content-Type": "text/plain" },
  });
  check(text.response.status === 415 && text.error?.status === 415, "415 problem");
  const stranger = createClient<paths>({ baseUrl: base, headers: { Authorization: "Bearer not-a-key" } });
  const refusedKey = await stranger.POST("/v1/moderate", { body: { text: "Hi." } });
  check(refusedKey.response.status === 401 && refusedKey.error?.status === 401, "401 problem");
  const keyed = createClient<paths>({ baseUrl: base, headers: { Authorization: `Bearer ${key}` } });
  let limited = await keyed.POST("/v1/moderate", { body: { text: "Hi." } });
  for (let tries = 0; tries < 10 && limited.response.status !== 429; tries++) {
    limited = await keyed.POST("/v1/moderate", { body: { text: "Hi." } });
  }
  const retryAfter = Number(limited.response.headers.get("Retry-After"));
  check(limited.error?.status === 429 && retryAfter >= 1, "429 problem with Retry-After");
  console.log("ok");
}

main(process.argv[2], process.argv[3]).catch((error) => {
  console.error(error);
  process.exit(1);
});
