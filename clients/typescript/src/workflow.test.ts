// The review workflow through openapi-fetch, typed by openapi-typescript from openapi/openapi.json.
// POSTMORTEMS_URL, POSTMORTEMS_AUTHOR_KEY and POSTMORTEMS_APPROVER_KEY name a running service and two API keys.
import assert from "node:assert/strict";
import { test } from "node:test";

import createClient from "openapi-fetch";

import type { components, paths } from "./schema.js";

type Problem = components["schemas"]["Problem"];
type PostmortemCreate = components["schemas"]["PostmortemCreate"];

function required(name: string): string {
  const value = process.env[name];
  assert.ok(value, `${name} must be set`);
  return value;
}

function client(key: string) {
  return createClient<paths>({
    baseUrl: required("POSTMORTEMS_URL"),
    headers: { Authorization: `Bearer ${key}` },
  });
}

test("a postmortem goes from draft to complete, with typed problems on the way", async () => {
  const author = client(required("POSTMORTEMS_AUTHOR_KEY"));
  const approver = client(required("POSTMORTEMS_APPROVER_KEY"));

  const body: PostmortemCreate = {
    title: "Checkout outage after config push",
    severity: "P2",
    services: ["checkout"],
    started_at: "2025-01-15T08:50:00Z",
    detected_at: "2025-01-15T09:00:00Z",
    resolved_at: "2025-01-15T09:35:00Z",
    summary: "Checkout failed for 45 minutes after a config push set the payment timeout to 0.",
    impact: { users_affected: 12000, description: "Every card payment at checkout failed with a 500." },
    root_cause: "A config push set the payment client's timeout to 0, so every call failed at once.",
    what_went_well: ["The rollback took two minutes once started"],
  };
  const created = await author.POST("/v1/postmortems", { body });
  assert.equal(created.response.status, 201);
  assert.ok(created.data);
  const id = created.data.id;
  assert.equal(created.data.status, "draft");
  const path = { postmortem_id: id };

  const event = await author.POST("/v1/postmortems/{postmortem_id}/timeline", {
    params: { path },
    body: { occurred_at: "2025-01-15T09:00:00Z", kind: "alert", description: "Error-rate alert fired" },
  });
  assert.equal(event.data?.kind, "alert");
  const item = await author.POST("/v1/postmortems/{postmortem_id}/action-items", {
    params: { path },
    body: { title: "Validate config pushes in CI", owner: "@payments-oncall", priority: "P1", due_date: "2099-02-01" },
  });
  assert.equal(item.response.status, 201);
  assert.ok(item.data);
  const moved = await author.PATCH("/v1/action-items/{item_id}", {
    params: { path: { item_id: item.data.id } },
    body: { status: "in_progress" },
  });
  assert.equal(moved.data?.status, "in_progress");

  const read = await author.GET("/v1/postmortems/{postmortem_id}", { params: { path } });
  const etag = read.response.headers.get("etag");
  assert.ok(etag);
  const updated = await author.PATCH("/v1/postmortems/{postmortem_id}", {
    params: { path, header: { "If-Match": etag } },
    body: { tags: ["config"] },
  });
  assert.deepEqual(updated.data?.tags, ["config"]);
  const stale = await author.PATCH("/v1/postmortems/{postmortem_id}", {
    params: { path, header: { "If-Match": etag } },
    body: { tags: ["stale"] },
  });
  assert.equal(stale.response.status, 412);
  const precondition: Problem | undefined = stale.error;
  assert.equal(precondition?.type, "urn:postmortems:problem:precondition-failed");

  const invalid = await author.POST("/v1/postmortems", { body: { title: "", severity: "P3" } });
  assert.equal(invalid.response.status, 422);
  assert.deepEqual(
    invalid.error?.errors?.map((error) => [error.field, error.location]),
    [["title", "body"]],
  );

  const submitted = await author.POST("/v1/postmortems/{postmortem_id}/submit", { params: { path } });
  assert.equal(submitted.data?.status, "in_review", JSON.stringify(submitted.error));
  const approved = await approver.POST("/v1/postmortems/{postmortem_id}/approve", { params: { path } });
  assert.deepEqual(approved.data?.approvals.map((approval) => approval.name), ["approver"]);
  const completed = await author.POST("/v1/postmortems/{postmortem_id}/complete", { params: { path } });
  assert.equal(completed.data?.status, "complete", JSON.stringify(completed.error));
  const again = await author.POST("/v1/postmortems/{postmortem_id}/complete", { params: { path } });
  assert.equal(again.response.status, 409);
  assert.equal(again.error?.errors?.[0]?.code, "invalid_transition");

  for (const title of ["Queue backlog", "DNS expiry"]) {
    const more = await author.POST("/v1/postmortems", { body: { title, severity: "P3" } });
    assert.equal(more.response.status, 201);
  }
  const seen: string[] = [];
  let cursor = undefined as string | null | undefined;
  let pages = 0;
  do {
    const page = await author.GET("/v1/postmortems", { params: { query: { limit: 1, cursor } } });
    assert.ok(page.data, JSON.stringify(page.error));
    assert.ok(page.data.items.length <= 1);
    seen.push(...page.data.items.map((entry) => entry.id));
    cursor = page.data.next_cursor;
    pages += 1;
  } while (cursor);
  assert.ok(pages >= 3);
  assert.equal(new Set(seen).size, seen.length);
  assert.ok(seen.includes(id));
});
