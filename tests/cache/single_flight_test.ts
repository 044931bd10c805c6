import assert from "node:assert/strict";
import { SingleFlight } from "../../src/cache/single_flight.ts";

Deno.test("a started call is found by its key until it resolves, then forgotten", async () => {
  const flights = new SingleFlight<string, "fetch">();
  const { promise, resolve } = Promise.withResolvers<string>();
  const shared = flights.start("a", "fetch", () => promise);
  const found = flights.find("a");
  assert.equal(found?.kind, "fetch");
  assert.equal(found?.promise, shared);
  assert.equal(flights.find("b"), undefined);
  assert.equal(flights.size, 1);
  resolve("value");
  assert.equal(await shared, "value");
  assert.equal(flights.size, 0);
  assert.equal(flights.find("a"), undefined);
});

Deno.test("a rejected call reaches every waiter and leaves no record behind", async () => {
  const flights = new SingleFlight<string, "fetch">();
  const { promise, reject } = Promise.withResolvers<string>();
  const shared = flights.start("a", "fetch", () => promise);
  const waiters = [
    shared,
    flights.find("a")!.promise,
    flights.find("a")!.promise,
  ];
  reject(new Error("down"));
  for (const waiter of waiters) await assert.rejects(waiter, /down/);
  assert.equal(flights.size, 0);
});

Deno.test("a run that throws synchronously becomes a rejection and leaves no record", async () => {
  const flights = new SingleFlight<string, "fetch">();
  const shared = flights.start("a", "fetch", () => {
    throw new RangeError("bad");
  });
  await assert.rejects(shared, RangeError);
  assert.equal(flights.size, 0);
});

Deno.test("the run starts at once, not a tick later", () => {
  const flights = new SingleFlight<string, "fetch">();
  let calls = 0;
  const { promise, resolve } = Promise.withResolvers<string>();
  flights.start("a", "fetch", () => {
    calls++;
    return promise;
  });
  assert.equal(calls, 1);
  resolve("done");
});

Deno.test("a replaced call settling later does not remove its replacement", async () => {
  const flights = new SingleFlight<string, "renew" | "fetch">();
  const first = Promise.withResolvers<string>();
  const second = Promise.withResolvers<string>();
  const older = flights.start("a", "renew", () => first.promise);
  const newer = flights.start("a", "fetch", () => second.promise);
  first.resolve("old");
  assert.equal(await older, "old");
  assert.equal(flights.find("a")?.promise, newer);
  second.resolve("new");
  assert.equal(await newer, "new");
  assert.equal(flights.size, 0);
});

Deno.test("keys are independent", async () => {
  const flights = new SingleFlight<number, "fetch">();
  const a = flights.start("a", "fetch", () => Promise.resolve(1));
  const b = flights.start("b", "fetch", () => Promise.resolve(2));
  assert.equal(flights.size, 2);
  assert.deepEqual(await Promise.all([a, b]), [1, 2]);
  assert.equal(flights.size, 0);
});
