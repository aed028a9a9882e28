import createClient from "openapi-fetch";
import type { components, paths } from "./advisor";

// Run by tests/test_generated_client.py: calls the server at argv[2] through a client typed
// from its /openapi.json (advisor.d.ts, generated beside this file); prints "ok" when every
// check held. Compiling it with tsc --strict checks the types of the calls and answers.

type Advice = components["schemas"]["Advice"];
type Problem = components["schemas"]["Problem"];

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`failed: ${what}`);
}

async function main(base: string): Promise<void> {
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
  console.log("ok");
}

main(process.argv[2]).catch((error) => {
  console.error(error);
  process.exit(1);
});
