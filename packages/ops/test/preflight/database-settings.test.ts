import { describe, expect, it } from "vitest";
import { type DatabaseSettingsFacts, judgeDatabaseSettings } from "../../src/preflight/database-settings.ts";

const keys = {
  host: "AUTHENTIK_POSTGRESQL__HOST",
  sslmode: "AUTHENTIK_POSTGRESQL__SSLMODE",
  disableServerSideCursors: "AUTHENTIK_POSTGRESQL__DISABLE_SERVER_SIDE_CURSORS",
};
const DIRECT = "ep-cool-sky-123456.us-east-2.aws.neon.tech";
const POOLER = "ep-cool-sky-123456-pooler.us-east-2.aws.neon.tech";
const facts = (over: Partial<DatabaseSettingsFacts>): DatabaseSettingsFacts => ({
  app: "idp",
  keys,
  host: DIRECT,
  sslmode: "require",
  cursorsOff: undefined,
  ...over,
});
const statuses = (f: DatabaseSettingsFacts) => judgeDatabaseSettings(f).map((r) => r.status);

describe("Neon rules for an app's separate database settings", () => {
  it("passes the direct endpoint over TLS, and the pooler only with server-side cursors off", () => {
    expect(judgeDatabaseSettings(facts({}))).toEqual([
      { id: "database.settings.idp", status: "pass", message: "idp reaches Neon on the direct endpoint, over TLS" },
    ]);
    expect(statuses(facts({ sslmode: "verify-full" }))).toEqual(["pass"]);
    expect(statuses(facts({ host: POOLER, cursorsOff: { value: "true", from: "infra/fly/idp.fly.toml [env]" } }))).toEqual(["pass"]);
    expect(statuses(facts({ host: POOLER, cursorsOff: { value: "True", from: "x" } }))).toEqual(["pass"]);
  });

  it("fails the pooler without the cursor setting, naming the variable and never the host", () => {
    const [r] = judgeDatabaseSettings(facts({ host: POOLER }));
    expect(r).toMatchObject({ id: "database.settings.idp", status: "fail", where: "AUTHENTIK_POSTGRESQL__HOST (secret of idp)" });
    expect(r!.message).toContain("is a Neon pooler endpoint");
    expect(r!.fix).toContain('AUTHENTIK_POSTGRESQL__DISABLE_SERVER_SIDE_CURSORS = "true"');
    expect(JSON.stringify(r)).not.toContain("cool-sky");
    expect(statuses(facts({ host: POOLER, cursorsOff: { value: "false", from: "x" } }))).toEqual(["fail"]);
  });

  it.each([
    ["prefer", "fail"],
    ["disable", "fail"],
    [undefined, "fail"],
    ["REQUIRE", "pass"],
  ])("sslmode %s → %s", (sslmode, status) => {
    expect(statuses(facts({ sslmode }))).toEqual([status]);
  });

  it("a URL or host:port where the bare host belongs fails without showing it", () => {
    for (const host of [`postgres://u:pw@${DIRECT}/db`, `${DIRECT}:5432`, ""]) {
      const results = judgeDatabaseSettings(facts({ host }));
      expect(results.map((r) => r.status)).toEqual(["fail"]);
      expect(JSON.stringify(results)).not.toContain("pw@");
    }
  });

  it("a host outside Neon gets only the TLS check", () => {
    expect(judgeDatabaseSettings(facts({ host: "db.internal" }))[0]).toMatchObject({ status: "pass" });
    expect(statuses(facts({ host: "db.internal", sslmode: "allow" }))).toEqual(["fail"]);
  });
});
